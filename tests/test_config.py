"""Settings: derived defaults that keep deployments apart and secrets out of messages."""

from __future__ import annotations

from coordination.config import default_channel, load_settings, redact


def test_channel_is_per_database_and_ignores_the_password():
    a = default_channel("postgresql+psycopg://app:one@db.local/coordination")
    assert a == default_channel("postgresql+psycopg://app:two@db.local/coordination")
    assert a != default_channel("postgresql+psycopg://app:one@db.local/other")
    assert a.startswith("coordination-")


def test_settings_fill_channel_and_keep_an_explicit_one(tmp_path):
    derived = load_settings({"instance_path": tmp_path})
    assert derived.socketio_channel == default_channel(derived.database_url)
    explicit = load_settings({"instance_path": tmp_path, "socketio_channel": "ops-a"})
    assert explicit.socketio_channel == "ops-a"


def test_redact_hides_passwords_only():
    assert redact("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redact("redis://user:pw@h/1") == "redis://user:***@h/1"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"

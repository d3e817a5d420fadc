"""The ``coordination`` command as a user runs it: real processes, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None):
    full = dict(os.environ)
    full.pop("COORDINATION_REDIS_URL", None)
    full["COORDINATION_INSTANCE_PATH"] = str(tmp_path / "instance")
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "coordination.cli", *args], env=full,
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_init_db_creates_sqlite_in_wal_mode_and_a_kept_secret(tmp_path):
    out = run(tmp_path, "init-db")
    assert out.returncode == 0, out.stderr
    db_file = tmp_path / "instance" / "coordination.db"
    assert db_file.exists()
    import sqlite3

    assert sqlite3.connect(db_file).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    secret = (tmp_path / "instance" / "secret_key").read_text()
    assert len(secret) >= 40
    assert run(tmp_path, "init-db").returncode == 0
    assert (tmp_path / "instance" / "secret_key").read_text() == secret


def test_create_user_reads_the_password_from_stdin(tmp_path):
    out = run(tmp_path, "create-user", "zhang", "--role", "operator", "--role", "trainer",
              "--password-stdin", stdin="a very long password\n")
    assert out.returncode == 0, out.stderr
    assert "operator" in out.stdout and "trainer" in out.stdout
    again = run(tmp_path, "create-user", "zhang", "--role", "operator", "--password-stdin",
                stdin="a very long password\n")
    assert again.returncode == 1 and "zhang" in again.stderr
    bad_role = run(tmp_path, "create-user", "li", "--role", "pilot", "--password-stdin",
                   stdin="a very long password\n")
    assert bad_role.returncode == 1 and "pilot" in bad_role.stderr
    short = run(tmp_path, "create-user", "li", "--role", "operator", "--password-stdin",
                stdin="short\n")
    assert short.returncode == 1


def test_create_token_prints_it_once(tmp_path):
    out = run(tmp_path, "create-token", "tracker-7", "--role", "operator")
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert token.startswith("coord_") and len(token) > 30
    db_bytes = (tmp_path / "instance" / "coordination.db").read_bytes()
    assert token.encode() not in db_bytes


def test_create_token_bound_to_a_drill_run(tmp_path):
    import sqlite3

    assert run(tmp_path, "init-db").returncode == 0
    db_file = tmp_path / "instance" / "coordination.db"
    missing = run(tmp_path, "create-token", "drill-dev", "--role", "operator", "--drill", "1")
    assert missing.returncode == 1 and missing.stderr.strip()
    con = sqlite3.connect(db_file)
    assert con.execute("SELECT count(*) FROM api_tokens").fetchone()[0] == 0  # nothing made
    now = "2026-12-02 08:00:00.000000"
    with con:
        con.execute("INSERT INTO contexts (name, kind, title, last_seq, clock_speed, "
                    "clock_paused, clock_anchor_real, clock_anchor_sim, created_at) "
                    "VALUES ('drill-cli', 'drill', 't', 0, 1, 1, ?, ?, ?)", (now, now, now))
        con.execute("INSERT INTO drill_runs (context, scenario_id, scenario_version, "
                    "scenario_hash, scenario_file, scenario, title, status, speed, sim_start, "
                    "created_by, created_at, seeded) VALUES ('drill-cli', 's', '1', 'h', "
                    "'s.yaml', '{}', 't', 'running', 1, ?, 'cli', ?, '{}')", (now, now))
    bound = run(tmp_path, "create-token", "drill-dev", "--role", "operator", "--drill", "1")
    assert bound.returncode == 0, bound.stderr
    assert "drill-cli" in bound.stderr
    rows = con.execute("SELECT actor_kind, actor_name, left_at FROM drill_participants "
                       "WHERE context = 'drill-cli'").fetchall()
    assert rows == [("token", "drill-dev", None)]


def test_demo_data_prints_one_account_per_role_and_is_idempotent(tmp_path):
    out = run(tmp_path, "demo-data")
    assert out.returncode == 0, out.stderr
    for role in ("operator", "liaison", "logistics", "trainer", "admin"):
        assert role in out.stdout
    assert run(tmp_path, "demo-data").returncode == 0


@pytest.mark.parametrize(("name", "value"), [
    ("COORDINATION_DATABASE_URL", "mysql://x"),
    ("COORDINATION_REDIS_URL", "http://nope"),
    ("COORDINATION_DEFAULT_LOCALE", "fr"),
    ("COORDINATION_LOGIN_MAX_FAILURES", "many"),
    ("COORDINATION_TIMEZONE", "Mars/Olympus"),
    ("COORDINATION_MAP_TILE_URL", "https://tiles.example/tile.png"),
])
def test_a_wrong_setting_stops_start_up_with_one_line_naming_it(tmp_path, name, value):
    out = run(tmp_path, "init-db", env={name: value})
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], out.stderr


def test_unreachable_database_is_reported_clearly(tmp_path):
    out = run(tmp_path, "init-db", env={
        "COORDINATION_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert out.returncode == 2
    assert "COORDINATION_DATABASE_URL" in out.stderr and "Traceback" not in out.stderr

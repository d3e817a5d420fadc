"""Officers' progress photos: validated by their content (type, size, dimensions, whole),
refused with a 400 and a message in the user's language, never half-written, and served
as personal data (no browser or proxy keeps a copy)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from coordination.events import Actor
from coordination.roster import service as roster
from tests.roster_factories import crew

SH = ZoneInfo("Asia/Shanghai")
OPERATOR = Actor(kind="user", id=None, name="operator-test")


def _image(fmt: str, size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def officer_task(app, client, auth):
    """An officer on duty, signed in, with a task of their own; returns the task id."""
    c = crew("live", "cdc", start=datetime.now(SH).date() - timedelta(days=1))
    on = roster.on_duty(context="live", agency_code="cdc", at=datetime.now(SH))[0]
    task = roster.create_task(context="live", agency_code="cdc", role=None, title="Trace",
                              details="Case 17", due_at=None, ack_deadline=None,
                              source="manual", source_ref=None, incident_ref="inc-1",
                              actor=OPERATOR)
    auth.login(c.users[on["id"]].name)
    return task["id"]


def _upload(client, auth, task_id: int, data: bytes, name: str = "p.png"):
    return client.post(f"/api/tasks/{task_id}/notes",
                       data={"text": "on site", "photo": (io.BytesIO(data), name)},
                       headers={"X-CSRFToken": auth.csrf},
                       content_type="multipart/form-data")


def _photo_dir(app):
    from pathlib import Path

    return Path(app.instance_path) / "task_photos"


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_a_real_photo_is_kept_and_served_as_personal_data(app, client, auth, officer_task,
                                                          fmt, ext):
    data = _image(fmt)
    r = _upload(client, auth, officer_task, data, name="whatever.bin")
    assert r.status_code == 201, r.text
    name = r.get_json()["note"]["photo"]
    assert name.endswith("." + ext)  # the type is the content's, not the file name's
    got = client.get(f"/api/tasks/photos/{name}")
    assert got.status_code == 200 and got.data == data
    assert got.headers["Cache-Control"] == "private, no-store"
    assert "Expires" not in got.headers and "public" not in got.headers["Cache-Control"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (64, 64)).save(out, format="GIF")
    return out.getvalue()


BAD = {
    "not an image": (b"MZ\x90\x00 this is a program, not a photo", "照片必须是",
                     "must be a JPEG, PNG or WebP"),
    "a gif": (_gif(), "照片必须是", "must be a JPEG, PNG or WebP"),
    "magic bytes only": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "照片", "The photo"),
    "truncated jpeg": (_image("JPEG", (800, 600))[:2000], "照片已损坏", "damaged"),
    "too small": (_image("PNG", (8, 8)), "照片太小", "too small: 8 × 8 pixels"),
    "too wide": (_image("PNG", (10_001, 40)), "照片太大", "10001 × 40 pixels"),
    "too many bytes": (b"\xff\xd8\xff" + b"\0" * (8 * 1024 * 1024), "照片太大", "8 MB"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_kept(app, client, auth,
                                                                    officer_task, case):
    data, zh, en = BAD[case]
    before = roster.get_task(context="live", task_id=officer_task)["notes"]
    r = _upload(client, auth, officer_task, data)
    assert r.status_code == 400, r.text
    message = r.get_json()["error"]
    assert zh in message, message  # zh-CN, the default
    assert "_" not in message  # no codes
    assert roster.get_task(context="live", task_id=officer_task)["notes"] == before
    assert not _photo_dir(app).exists() or not any(_photo_dir(app).iterdir())
    client.post("/locale", data={"locale": "en"}, headers={"X-CSRFToken": auth.csrf})
    r = _upload(client, auth, officer_task, data)
    assert r.status_code == 400 and en in r.get_json()["error"], r.text


def test_a_decompression_bomb_is_refused_before_it_is_decoded(app, client, auth,
                                                             officer_task):
    """A PNG header that claims 30,000 × 30,000 pixels: a few KB that would decode to
    2.7 GB. The header is enough to refuse it."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 100_000)) + chunk(b"IEND", b""))
    r = _upload(client, auth, officer_task, bomb)
    assert r.status_code == 400
    assert "照片" in r.get_json()["error"]


def test_a_cut_off_photo_is_refused_even_once_a_pdf_was_rendered_in_the_process(app):
    """WeasyPrint makes Pillow accept truncated images process-wide when it is imported
    (an after-action report rendered earlier); the check must not depend on that."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    from coordination.errors import ValidationFailed
    from coordination.roster.photos import photo_kind

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    for fmt in ("JPEG", "PNG", "WEBP"):
        whole = _image(fmt, (800, 600))
        assert photo_kind(whole)
        with pytest.raises(ValidationFailed):
            photo_kind(whole[:len(whole) // 2])

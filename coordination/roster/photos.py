"""Progress photos: checked by their bytes, stored under a random name in the instance folder."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed

MAX_BYTES = 8 * 1024 * 1024
SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def photo_kind(data: bytes) -> str:
    """The file type from the first bytes (never from the client's name or header)."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_l("The photo is too large (at most 8 MB)."))
    for magic, ext in SIGNATURES.items():
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise ValidationFailed(_l("The photo must be a JPEG, PNG or WebP image."))


def store(data: bytes, ext: str, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(24)}.{ext}"
    (folder / name).write_bytes(data)
    return name


def path_of(folder: Path, name: str) -> Path | None:
    if not name or set(name) - NAME_CHARS or name.startswith(".") or "/" in name:
        return None
    p = folder / name
    return p if p.is_file() else None

"""Progress photos: checked by their bytes, stored under a random name in the instance folder.

An officer's photo is personal data and comes from a phone on a field network: the
file's name and Content-Type say nothing. What is kept is only what Pillow reads as a
whole JPEG, PNG or WebP image of sensible dimensions; anything else is refused with a
400 that says what is wrong, before anything is written.
"""

from __future__ import annotations

import io
import secrets
import warnings
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from ..errors import ValidationFailed

MAX_BYTES = 8 * 1024 * 1024
#: A phone's camera gives at most about 8,000 px a side (50 MP); more is not a photo of
#: a scene but a decompression bomb (a few KB that decode to gigabytes).
MAX_SIDE = 10_000
MAX_PIXELS = 60_000_000
#: Smaller than this shows nothing an operator can use (and is how tracking pixels look).
MIN_SIDE = 32
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def photo_kind(data: bytes) -> str:
    """The file extension for ``data``, decided by decoding it (never by the client's
    name or header); raises ValidationFailed for anything but a whole, sensible photo."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_l("The photo is too large (at most 8 MB)."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as img:
                kind = FORMATS.get(img.format or "")
                width, height = img.size
                if kind is None:
                    raise ValidationFailed(_l("The photo must be a JPEG, PNG or WebP image."))
                _check_size(width, height)
                if not _whole(kind, data):
                    raise ValidationFailed(_l("The photo is damaged or incomplete; take or "
                                              "choose it again."))
                img.load()  # a corrupt file fails here, not in a browser
    except UnidentifiedImageError:
        raise ValidationFailed(_l("The photo must be a JPEG, PNG or WebP image.")) from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ValidationFailed(_l(
            "The photo has too many pixels (at most %(side)d pixels a side and %(mp)d "
            "megapixels).", side=MAX_SIDE, mp=MAX_PIXELS // 1_000_000)) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ValidationFailed(_l("The photo is damaged or incomplete; take or "
                                  "choose it again.")) from None
    return kind


def _whole(kind: str, data: bytes) -> bool:
    """Whether the file runs to its format's end marker. Pillow alone cannot say: WeasyPrint
    sets ``ImageFile.LOAD_TRUNCATED_IMAGES`` for the whole process when it is imported, and
    from then on a cut-off JPEG decodes as if it were whole."""
    if kind == "jpg":
        return data.rstrip(b"\0").endswith(b"\xff\xd9")
    if kind == "png":
        return b"IEND" in data[-16:]
    return len(data) >= 12 and int.from_bytes(data[4:8], "little") + 8 <= len(data)  # RIFF


def _check_size(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ValidationFailed(_l(
            "The photo is too large: %(width)d × %(height)d pixels (at most %(side)d "
            "pixels a side and %(mp)d megapixels).",
            width=width, height=height, side=MAX_SIDE, mp=MAX_PIXELS // 1_000_000))
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ValidationFailed(_l(
            "The photo is too small: %(width)d × %(height)d pixels (at least %(side)d "
            "pixels a side).", width=width, height=height, side=MIN_SIDE))


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

"""The one place a JSON request body is parsed and checked.

Every ``request.get_json`` in the app goes through :func:`loads` (the request class
below swaps Flask's JSON module for it), so a hostile body — nested a hundred thousand
deep, larger than any real one, ``NaN``, a number no id column can hold, a NUL or a lone
surrogate the database driver would choke on — is a 400 with a message before any route
sees it, whichever route it was sent to. Routes then take the body with
:func:`json_object` or validate it into a schema with :func:`body`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Request, request
from flask_babel import gettext as _
from pydantic import BaseModel

from ..errors import ValidationFailed
from ..limits import INT64_MAX, INT64_MIN, JSON_MAX_BYTES, JSON_MAX_DEPTH
from ..vocab import messages


class _Refused(ValueError):
    """Raised inside the decoder's hooks; carries the user message out of ``json``."""


def _parse_int(raw: str) -> int:
    value = int(raw) if len(raw) <= 20 else None
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        raise _Refused(_("The number %(value)s is too large.", value=raw[:24]))
    return value


def _parse_float(raw: str) -> float:
    value = float(raw)
    if math.isinf(value):
        raise _Refused(_("The number %(value)s is too large.", value=raw[:24]))
    return value


def _parse_constant(raw: str) -> Any:
    raise _Refused(_("%(value)s is not a number JSON allows.", value=raw))


def _check_text(value: str) -> None:
    if "\x00" in value:
        raise _Refused(_("Text may not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(_("Text may not contain lone surrogate characters.")) from None


def _check_tree(root: Any) -> None:
    """Depth and text of the parsed value, walked without recursion."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > JSON_MAX_DEPTH:
            raise _Refused(_("The JSON nests deeper than %(n)d levels.", n=JSON_MAX_DEPTH))
        if isinstance(node, dict):
            for key, item in node.items():
                _check_text(key)
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in node)


def loads(data: str | bytes | bytearray, **_kwargs: Any) -> Any:
    """Parse a request body; an empty one is ``None`` (the caller says what it needed)."""
    if len(data) > JSON_MAX_BYTES:
        raise ValidationFailed(_("The JSON body is larger than %(n)d MB.",
                                 n=JSON_MAX_BYTES // (1024 * 1024)))
    if not data.strip():
        return None
    try:
        value = json.loads(data, parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=_parse_constant)
        _check_tree(value)
    except _Refused as exc:
        raise ValidationFailed(str(exc)) from None
    except RecursionError:
        raise ValidationFailed(_("The JSON nests deeper than %(n)d levels.",
                                 n=JSON_MAX_DEPTH)) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValidationFailed(_("The body is not valid JSON: %(msg)s",
                                 msg=str(exc)[:120])) from None
    return value


class _BoundedJSON:
    """What ``Request.get_json`` calls as its JSON module."""

    loads = staticmethod(loads)


class BoundedRequest(Request):
    """Flask's request with the bounded parser: malformed JSON is a 400 even with
    ``silent=True`` (silence was for a missing body, never for a hostile one).

    Flask assigns the app's JSON provider to every new request's ``json_module``; that
    provider also parses responses (the test client's ``get_json``), which must stay
    unbounded, so the request keeps its own parser and ignores the assignment."""

    @property  # type: ignore[override]
    def json_module(self) -> Any:
        return _BoundedJSON

    @json_module.setter
    def json_module(self, _provider: Any) -> None:
        pass


def json_object() -> dict[str, Any]:
    """The body as a JSON object, or a 400 saying it must be one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed(_("The body must be a JSON object."))
    return data


def optional_object() -> dict[str, Any]:
    """The body where it may be left out (``{}`` then); anything but an object is a 400."""
    data = request.get_json(silent=True)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed(_("The body must be a JSON object."))
    return data


def validated(model: type[BaseModel], data: Any) -> Any:
    """``data`` as ``model``; the first problem in the reader's words, all in the details."""
    return messages.validated(model, data)


def body(model: type[BaseModel]) -> Any:
    """The request body validated as ``model``."""
    return validated(model, json_object())

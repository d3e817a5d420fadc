"""What the URL and form carry, checked before any view: ids in the path, NULs anywhere.

Werkzeug's own ``int`` takes any number of digits, so ``/api/incidents/9223372036854775808``
reached the database driver and died there with an ``OverflowError``. This one refuses
what no id column can hold, and the route answers 404 like for any other unknown id.

A NUL in a query parameter or form field is no text anyone typed, and PostgreSQL
refuses it deep in the driver (``ValueError``); :func:`refuse_nul` answers 400 first.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter, Map

from ..errors import ValidationFailed
from ..limits import ID_MAX


class Int64Converter(IntegerConverter):
    """A non-negative id that fits an id column (``Integer``: 32 bits on PostgreSQL)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def refuse_nul() -> None:
    """``before_request``: a 400 for a NUL in the query string or a form field."""
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise ValidationFailed(_("Text may not contain NUL characters."))

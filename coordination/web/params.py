"""Reading query and form parameters the one way: a yes/no flag means the same on every route.

A flag is yes for 1/true/on/yes, no when absent, empty or 0/false/off/no, and
anything else is a 400 naming the parameter, so a typo (``?all=ture``) is an
error the caller sees rather than a silent "no".
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from ..errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)

YES = frozenset({"1", "true", "on", "yes"})
NO = frozenset({"", "0", "false", "off", "no"})


def flag_arg(name: str, *, form: bool = False) -> bool:
    """A yes/no parameter of the query string (or of the posted form)."""
    source = request.form if form else request.args
    value = (source.get(name) or "").strip().lower()
    if value in NO:
        return False
    if value in YES:
        return True
    raise ValidationFailed(_("The parameter %(name)s has an unknown value.", name=name))


def query_model(model: type[M]) -> M:
    """The query string read into a pydantic model; blank parameters mean "not given".

    A bad value is a 400 that names its parameter, never a 500 or a silent default.
    """
    given = {k: v for k, v in request.args.to_dict().items() if v.strip() != ""}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        name = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise ValidationFailed(_("The parameter %(name)s has an unknown value.",
                                 name=name)) from None


def enum_arg(name: str, enum: Any, default: Any = None) -> Any:
    """A query parameter that must be one of an enum's values; absent or blank is
    ``default``, anything else a 400 naming the parameter and the value."""
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return enum(raw)
    except ValueError:
        raise ValidationFailed(_("The parameter %(name)s has an unknown value.",
                                 name=name)) from None

"""Reading query and form parameters the one way: a yes/no flag means the same on every route.

A flag is yes for 1/true/on/yes, no when absent, empty or 0/false/off/no, and
anything else is a 400 naming the parameter, so a typo (``?all=ture``) is an
error the caller sees rather than a silent "no".
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ..errors import ValidationFailed

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

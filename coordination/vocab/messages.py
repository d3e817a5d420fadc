"""Input problems in the reader's language.

pydantic words its errors in English ("Input should be a valid integer"); shown after a
translated prefix they made one message of two languages ("无效的 lat：Input should be
…"). Here each common error type has its own translated sentence; a rule written in a
validator (a ``value_error``, English in the code) is passed on as it is to English
readers and summarised in the reader's words otherwise, its English text staying in
the response's ``details`` for integrators.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError

from ..errors import ValidationFailed
from ..i18n import current_code

BY_TYPE = {
    "missing": _l("%(field)s is required."),
    "string_too_short": _l("%(field)s is required."),
    "too_short": _l("%(field)s is required."),
    "string_too_long": _l("%(field)s is too long."),
    "too_long": _l("%(field)s has too many entries."),
    "enum": _l("%(field)s has an unknown value."),
    "literal_error": _l("%(field)s has an unknown value."),
    "greater_than": _l("%(field)s must be greater than zero."),
    "greater_than_equal": _l("%(field)s cannot be negative."),
    "less_than_equal": _l("%(field)s is too large."),
    "less_than": _l("%(field)s is too large."),
    "int_parsing": _l("%(field)s: enter a whole number."),
    "int_type": _l("%(field)s: enter a whole number."),
    "int_from_float": _l("%(field)s: enter a whole number."),
    "float_parsing": _l("%(field)s: enter a number."),
    "float_type": _l("%(field)s: enter a number."),
    "bool_parsing": _l("%(field)s: answer yes or no."),
    "string_type": _l("%(field)s must be text."),
    "string_pattern_mismatch": _l("%(field)s is not in the expected form."),
    "date_from_datetime_parsing": _l("%(field)s is not a date (use YYYY-MM-DD)."),
    "date_parsing": _l("%(field)s is not a date (use YYYY-MM-DD)."),
    "datetime_parsing": _l("%(field)s is not a time (use ISO 8601 with a zone)."),
    "datetime_from_date_parsing": _l("%(field)s is not a time (use ISO 8601 with a zone)."),
    "timezone_aware": _l("%(field)s needs a zone offset."),
    "extra_forbidden": _l("%(field)s is not a field of this request."),
    "dict_type": _l("%(field)s must be an object."),
    "list_type": _l("%(field)s must be a list."),
    "model_type": _l("%(field)s must be an object."),
}


def field_of(error: Mapping[str, Any]) -> str:
    return ".".join(str(p) for p in error["loc"]) or "input"


def problem(error: Mapping[str, Any], field: str | None = None) -> str:
    """One pydantic error as a sentence in the reader's language."""
    name = field or field_of(error)
    sentence = BY_TYPE.get(error["type"])
    if sentence is not None:
        return str(sentence) % {"field": name}
    detail = str(error.get("msg", "")).removeprefix("Value error, ")
    if not current_code().startswith("zh"):
        return f"{name}: {detail}" if detail else _("%(field)s is not valid.", field=name)
    return _("%(field)s is not valid.", field=name)


def problems(exc: ValidationError) -> list[dict[str, str]]:
    """Every problem of ``exc`` for a response's ``details``: the field, the sentence in the
    reader's language (never pydantic's English in a zh-CN reply), and pydantic's error
    type, a stable code an integrator can branch on."""
    return [{"field": field_of(e), "message": problem(e), "type": str(e["type"])}
            for e in exc.errors()]


def validated(model: type[BaseModel], data: Any) -> Any:
    """``data`` as ``model``, or a 400 saying the first problem in the reader's words with
    every problem in ``details`` (each in the reader's words too, with its error type)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = problems(exc)
        raise ValidationFailed(details[0]["message"], details=details) from None

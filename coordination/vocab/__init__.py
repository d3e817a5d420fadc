"""One vocabulary: the name a person reads for every code the system keeps.

Codes (``crew_leader``, ``cdc``, ``negative_pressure_ambulance``, ``level3``, a depot's
``FZ``) are for files, the API and administrators; pages show names, in the reader's
language. Names come from where they live: positions and plan agencies from
``names.yaml`` beside this file, agencies, depots and items from their own rows (kept
by administrators and logistics staff), fixed kinds from the label tables of their
domain. Every page asks :func:`label` (a Jinja global), so one code has one name
everywhere: the stock overview and the gap report can no longer disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import runtime
from ..contexts import LIVE
from ..i18n import current_code

NAMES_FILE = Path(__file__).with_name("names.yaml")

PPE_LABELS = {
    "none": _l("No special protection"), "standard": _l("Standard precautions"),
    "level1": _l("Level 1 protection"), "level2": _l("Level 2 protection"),
    "level3": _l("Level 3 protection"),
}
UNIT_TYPE_LABELS = {
    "ambulance": _l("Ambulances"),
    "negative_pressure_ambulance": _l("Negative-pressure ambulances"),
}


@cache
def _data() -> dict[str, dict[str, dict[str, str]]]:
    return yaml.safe_load(NAMES_FILE.read_text("utf-8"))


def positions() -> dict[str, dict[str, str]]:
    """Position code -> {zh, en}: the people a checklist step names."""
    return _data()["positions"]


def localized(zh: str | None, en: str | None) -> str:
    """The reader's half of a name kept in both languages (the other if one is empty)."""
    if current_code().startswith("zh"):
        return zh or en or ""
    return en or zh or ""


def _pair(pair: Mapping[str, str] | None) -> str | None:
    return localized(pair.get("zh"), pair.get("en")) if pair else None


def _rows(kind: str, context: str) -> dict[str, tuple[str, str]]:
    """code -> (zh, en) of the agencies, depots or items of ``context``, read once a request."""
    key = f"vocab_{kind}_{context}"
    kept = runtime.scratch()
    if kept is not None and key in kept:
        hit: dict[str, tuple[str, str]] = kept[key]
        return hit
    from ..extensions import db
    from ..roster.models import Agency
    from ..stock.models import Depot, Item

    model: Any = {"agency": Agency, "depot": Depot, "item": Item}[kind]
    with db.reading() as s:
        found = {code: (zh, en) for code, zh, en in s.execute(
            select(model.code, model.name_zh, model.name_en).where(model.context == context))}
    if kept is not None:
        kept[key] = found
    return found


def _static() -> dict[str, Callable[[str], str | None]]:
    from ..facilities.models import KIND_LABELS
    from ..incidents.models import STATUS_LABELS as INCIDENT_STATES
    from ..incidents.models import TYPE_LABELS
    from ..units.models import STATUS_LABELS as UNIT_STATES

    def table(labels: Mapping[Any, Any]) -> Callable[[str], str | None]:
        by_value = {str(getattr(k, "value", k)): v for k, v in labels.items()}
        return lambda code: str(by_value[code]) if code in by_value else None

    return {"event_type": _event_name, "ppe": table(PPE_LABELS),
            "unit_type": table(UNIT_TYPE_LABELS),
            "unit_status": table(UNIT_STATES), "facility_kind": table(KIND_LABELS),
            "incident_type": table(TYPE_LABELS), "incident_status": table(INCIDENT_STATES),
            "position": lambda code: _pair(positions().get(code))}


def _event_name(code: str) -> str | None:
    """An event type's name: its feed sentence (translated once, in feed.py) with the
    actor left out and each detail as "…", so the type filter and the feed agree."""
    from ..feed import DESCRIPTIONS

    sentence = DESCRIPTIONS.get(code)
    if sentence is None:
        return None
    text = re.sub(r"\{payload\.[\w.]+\}", "…", str(sentence).replace("{actor}", ""))
    return re.sub(r"\s+", " ", text).strip(" :：") or None


def label(kind: str, code: str | None, *, context: str = LIVE) -> str:
    """The display name of ``code``; a code nobody has named yet is shown as itself, with
    its underscores as spaces, rather than as an empty cell."""
    if code is None or code == "":
        return ""
    code = str(code)
    name: str | None
    if kind in ("agency", "depot", "item"):
        row = _rows(kind, context).get(code)
        name = localized(*row) if row else None
        if name is None and kind == "agency":
            name = _pair(_data()["agencies"].get(code))
    else:
        name = _static()[kind](code)
    return name or code.replace("_", " ")


def names(kind: str, *, context: str = LIVE) -> dict[str, str]:
    """Every depot, item or agency of ``context`` by code, named: for a page's script."""
    known = {code: (p["zh"], p["en"]) for code, p in _data()["agencies"].items()} \
        if kind == "agency" else {}
    return {code: localized(zh, en) for code, (zh, en) in (known | _rows(kind, context)).items()}


def with_code(kind: str, code: str | None, *, context: str = LIVE) -> str:
    """Name and code side by side, for the pages where an administrator types the code."""
    if not code:
        return ""
    name = label(kind, code, context=context)
    return name if name == code else f"{name} ({code})"

"""Early warning (早发现): the command room is alerted by the cases themselves.

When an incident is logged, confirmed or reclassified, the service that did it
calls :func:`evaluate` after its commit. The rules in force (warning_rules.py)
are run on the cases around that incident: one class-A case, three cases of a
disease in one banner within seven days, a cluster at one school... A rule that
fires raises an alert on the command room's one alert list with the plan to
activate and the level the plan's own level triggers (plans/schema.py
``LevelTrigger``) give for the counted cases. The rule, the figures that
tripped it and the incidents are kept on the alert and on its events, and
:func:`activate` starts the suggested plan from the alert in one click.

Cases are counted on the incident rows: ``patients`` of every non-cancelled
incident of the disease whose type is a case type and whose ``found_at`` falls
in the window, in the same county-level area (the shipped boundaries) or near
the same school or workplace (populated places). The window slides: a case
logged late, found before others, still joins the window it belongs to.

Evaluation runs in its own transaction after the incident's, so a failing rule
can never lose a logged call; it takes the context row first, so two calls
logged at once are judged one after the other and raise one alert.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE, Context
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..geo import boundaries
from ..geo.places import PopulatedPlace
from ..incidents import diseases
from ..incidents.models import Case, Incident, IncidentStatus, IncidentType
from ..plans.schema import LEVEL_ORDER, Level, Plan, format_offset
from .models import Alert, AlertKind, Severity
from .service import AlertIn, mark_acted_in, upsert_in
from .warning_rules import RuleKind, WarningRule, WarningRules, in_force

log = logging.getLogger(__name__)
ACTOR = Actor.system("early-warning")
COUNTY_LEVELS = frozenset({"county", "banner", "district"})


# --- where a case is ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _county_shapes() -> list[tuple[str, Any, dict[str, Any]]]:
    from shapely.geometry import shape
    from shapely.prepared import prep

    out = []
    for f in boundaries.features():
        if f["properties"].get("level") in COUNTY_LEVELS:
            out.append((f["id"], prep(shape(f["geometry"])), f["properties"]))
    return out


def county_of(lon: float, lat: float) -> str | None:
    """The county-level area (banner, county, district) a point lies in, if a shipped one."""
    from shapely.geometry import Point

    p = Point(lon, lat)
    for code, geom, _props in _county_shapes():
        if geom.contains(p):
            return code
    return None


def area_names(code: str) -> dict[str, str]:
    props = boundaries.by_code().get(code, {}).get("properties", {})
    return {"zh": props.get("name_zh", code), "en": props.get("name_en", code)}


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine; a few metres off at these ranges is fine)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# --- the cases a rule counts --------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    id: int
    found_at: datetime
    patients: int
    lon: float
    lat: float
    confirmed: bool


def _candidates(s: Session, context: str, disease: str, types: list[str], start: datetime,
                end: datetime) -> list[CaseRow]:
    rows = list(s.scalars(select(Incident).where(
        Incident.context == context, Incident.disease == disease, Incident.type.in_(types),
        Incident.status != IncidentStatus.CANCELLED.value,
        Incident.found_at >= start, Incident.found_at <= end).order_by(Incident.found_at,
                                                                        Incident.id)))
    ids = [i.id for i in rows]
    confirmed = set(s.scalars(select(Case.incident_id).where(
        Case.incident_id.in_(ids), Case.confirmed.is_(True)))) if ids else set()
    return [CaseRow(i.id, i.found_at, max(i.patients, 1), i.lon, i.lat,
                    i.type == IncidentType.CONFIRMED_CASE.value or i.id in confirmed)
            for i in rows]


def best_window(cases: list[CaseRow], around: datetime, window: timedelta) -> list[CaseRow]:
    """The cases of the window of length ``window`` that contains ``around`` and holds the
    most cases (by patients); ties go to the earliest such window."""
    ordered = sorted(cases, key=lambda c: (c.found_at, c.id))
    best: list[CaseRow] = []
    best_n = 0
    for n, first in enumerate(ordered):
        if first.found_at > around:
            break
        if first.found_at < around - window:
            continue
        inside = [c for c in ordered[n:] if c.found_at <= first.found_at + window]
        total = sum(c.patients for c in inside)
        if total > best_n:
            best, best_n = inside, total
    return best


@dataclass(frozen=True)
class Firing:
    """One rule tripped: what it is about (its key) and the cases that tripped it."""

    rule: WarningRule
    rule_set: str
    disease: str
    key: str
    cases: list[CaseRow]
    area: str | None
    place: dict[str, Any] | None

    @property
    def count(self) -> int:
        return sum(c.patients for c in self.cases)


def _nearest_place(s: Session, rule: WarningRule, lon: float,
                   lat: float) -> PopulatedPlace | None:
    assert rule.within_m is not None
    kinds = [k.value for k in rule.place_kinds]
    # A bounding box first (degrees are generous at these latitudes), then the distance.
    d = rule.within_m / 111_000 * 2
    near = list(s.scalars(select(PopulatedPlace).where(
        PopulatedPlace.kind.in_(kinds), PopulatedPlace.lon.between(lon - d, lon + d),
        PopulatedPlace.lat.between(lat - d, lat + d))))
    scored = [(_metres(lon, lat, p.lon, p.lat), p.id, p) for p in near]
    scored = [x for x in scored if x[0] <= rule.within_m]
    return min(scored)[2] if scored else None


def firings(s: Session, rules: WarningRules, i: Incident) -> list[Firing]:
    """Every rule of the set in force at the case's discovery that its cases trip."""
    if not i.disease or i.status == IncidentStatus.CANCELLED.value:
        return []
    rule_set = rules.for_time(i.found_at)
    if rule_set is None:
        return []
    area = county_of(i.lon, i.lat)
    out: list[Firing] = []
    for rule in rule_set.rules:
        if i.disease not in rule.diseases or i.type not in rule.incident_types:
            continue
        if rule.areas and area not in rule.areas:
            continue
        if rule.kind == RuleKind.SINGLE_CASE:
            me = next((c for c in _candidates(s, i.context, i.disease, [i.type], i.found_at,
                                              i.found_at) if c.id == i.id), None)
            if me is not None:
                out.append(Firing(rule, rule_set.id, i.disease,
                                  f"ew:{rule.id}:incident:{i.id}", [me], area, None))
            continue
        assert rule.window is not None
        pool = _candidates(s, i.context, i.disease, rule.incident_types,
                           i.found_at - rule.window, i.found_at + rule.window)
        if rule.kind == RuleKind.AREA_COUNT:
            if area is None:
                continue
            pool = [c for c in pool if county_of(c.lon, c.lat) == area]
            key = f"ew:{rule.id}:{i.disease}:{area}"
            place = None
        else:
            hit = _nearest_place(s, rule, i.lon, i.lat)
            if hit is None:
                continue
            assert rule.within_m is not None
            pool = [c for c in pool if _metres(c.lon, c.lat, hit.lon, hit.lat) <= rule.within_m]
            key = f"ew:{rule.id}:{i.disease}:place:{hit.code}"
            place = {"code": hit.code, "name": hit.name, "kind": hit.kind}
        cases = best_window(pool, i.found_at, rule.window)
        if sum(c.patients for c in cases) >= rule.at_least:
            out.append(Firing(rule, rule_set.id, i.disease, key, cases, area, place))
    return out


# --- the plan and level to suggest ------------------------------------------------------------


def _plan_for(rule: WarningRule, disease: str, context: str) -> Plan | None:
    from ..plans import registry

    found = registry.plan_set(context=context)
    if rule.plan is not None:
        hit = found.plans.get(rule.plan)
        return hit.plan if hit is not None else None
    for _pid, loaded in sorted(found.plans.items()):
        if loaded.plan is not None and disease in loaded.plan.hazards.diseases:
            return loaded.plan
    return None


def suggest_level(s: Session, plan: Plan, f: Firing, context: str,
                  end: datetime) -> dict[str, Any]:
    """The most serious level whose trigger the cases in the area meet, and why.

    Each trigger counts the disease's cases (confirmed ones, if it says so) in the
    firing's county-level area within its own window ending at the newest case.
    No trigger met (or none written): the plan's least serious level, said so.
    """
    for level in sorted(plan.levels, key=lambda lv: -LEVEL_ORDER[lv]):
        trigger = plan.levels[level].trigger
        if trigger is None:
            continue
        pool = _candidates(s, context, f.disease, [t.value for t in IncidentType],
                           end - trigger.within, end)
        if f.area is not None:
            pool = [c for c in pool if county_of(c.lon, c.lat) == f.area]
        else:
            ids = {c.id for c in f.cases}
            pool = [c for c in pool if c.id in ids]
        counted = sum(c.patients for c in pool if c.confirmed or not trigger.confirmed)
        if counted >= trigger.cases:
            criterion = plan.levels[level].criteria[-1 if level == Level.IV else 0]
            return {"level": level.value, "met": True,
                    "basis": {"cases": counted, "at_least": trigger.cases,
                              "within": _pair(lambda t=trigger.within: window_words(t)),
                              "confirmed_only": trigger.confirmed,
                              "criterion": criterion.model_dump()}}
    least = min(plan.levels, key=lambda lv: LEVEL_ORDER[lv])
    return {"level": least.value, "met": False, "basis": None}


def window_words(window: timedelta) -> str:
    """A rule's window as a person says it, in the current language (7 天 / 7 days)."""
    hours = window.total_seconds() / 3600
    if hours >= 24 and hours % 24 == 0:
        return _("%(n)s days", n=int(hours // 24))
    if hours >= 1 and hours == int(hours):
        return _("%(n)s hours", n=int(hours))
    return _("%(n)s minutes", n=int(window.total_seconds() // 60))


def _pair(make: Any) -> dict[str, str]:
    zh, en = _both(make)
    return {"zh": zh, "en": en}


def _both(make: Any) -> tuple[str, str]:
    with force_locale("zh_CN"):
        zh = make()
    with force_locale("en"):
        en = make()
    return zh, en


def _alert_for(s: Session, f: Firing, context: str) -> AlertIn:
    cases = f.cases
    end = max(c.found_at for c in cases)
    where = area_names(f.area) if f.area else {"zh": "", "en": ""}
    if f.place is not None:
        where = {"zh": f.place["name"], "en": f.place["name"]}
    disease = diseases.DISEASES[f.disease]
    window = format_offset(f.rule.window) if f.rule.window else ""
    count = f.count

    def title() -> str:
        lang = "zh" if str(get_locale() or "zh").startswith("zh") else "en"
        what = f.rule.title.zh if lang == "zh" else f.rule.title.en
        if f.rule.kind == RuleKind.SINGLE_CASE:
            return _("Early warning: %(what)s — %(disease)s, incident #%(id)s %(where)s",
                     what=what, disease=str(disease.label), id=cases[0].id,
                     where=where[lang])
        assert f.rule.window is not None
        return _("Early warning: %(what)s — %(count)s cases of %(disease)s at %(where)s "
                 "within %(window)s", what=what, count=count, disease=str(disease.label),
                 where=where[lang], window=window_words(f.rule.window))

    zh, en = _both(title)
    plan = _plan_for(f.rule, f.disease, context)
    suggestion: dict[str, Any] = {
        "rule": f.rule.id, "rule_set": f.rule_set, "rule_title": f.rule.title.model_dump(),
        "disease": f.disease,
        "figures": {"cases": count, "confirmed": sum(c.patients for c in cases if c.confirmed),
                    "incidents": len(cases), "at_least": f.rule.at_least,
                    "window": window or None,
                    "window_words": _pair(lambda: window_words(f.rule.window))
                    if f.rule.window else None, "area": f.area,
                    "area_name": area_names(f.area) if f.area else None, "place": f.place,
                    "first_found": min(c.found_at for c in cases).isoformat(),
                    "last_found": end.isoformat()},
        "incidents": [c.id for c in cases],
        "plan": None, "level": None,
    }
    if plan is not None:
        level = suggest_level(s, plan, f, context, end)
        suggestion |= {"plan": plan.id, "plan_title": plan.title.model_dump(),
                       "plan_version": plan.version, "level": level["level"],
                       "level_met": level["met"], "level_basis": level["basis"]}
    first = min(cases, key=lambda c: (c.found_at, c.id))
    severity = Severity.CRITICAL if f.rule.severity.value == "critical" else Severity.HIGH
    return AlertIn(kind=AlertKind.EARLY_WARNING, key=f.key, title_zh=zh, title_en=en,
                   severity=severity, subject=("incident", first.id), lon=first.lon,
                   lat=first.lat, suggestion=suggestion)


def evaluate_in(s: Session, *, context: str, incident_id: int,
                actor: Actor = ACTOR) -> list[dict[str, Any]]:
    """Run the rules for one incident inside the caller's transaction; the alerts raised
    or updated (an unchanged firing for the same cases returns nothing)."""
    rules = in_force()
    if rules is None:
        return []
    i = s.get(Incident, incident_id)
    if i is None or i.context != context:
        return []
    out = []
    for f in firings(s, rules, i):
        body = upsert_in(s, context=context, data=_alert_for(s, f, context), actor=actor,
                         covers=[c.id for c in f.cases])
        if body is not None:
            out.append(body)
    return out


def evaluate(*, context: str = LIVE, incident_id: int,
             actor: Actor = ACTOR) -> list[dict[str, Any]]:
    """After an incident's own commit: its own transaction, never failing the caller."""
    try:
        with db.unit_of_work() as s:
            s.get(Context, context, with_for_update=True)  # one evaluation at a time
            return evaluate_in(s, context=context, incident_id=incident_id, actor=actor)
    except Exception:  # the incident is logged; a rule that breaks must not lose it
        log.exception("early warning for incident %s failed", incident_id)
        return []


def evaluate_many(*, context: str, incident_ids: Iterable[int]) -> None:
    for incident_id in incident_ids:
        evaluate(context=context, incident_id=incident_id)


# --- one click: activate the suggested plan with the incidents ----------------------------


class ActivateIn(BaseModel):
    """The one click: the suggested level unless the operator picks another."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    level: Level | None = None
    note: str = Field(default="", max_length=500)
    # Where a task goes whose role has nobody on duty (as on the plan's own activation):
    # without it such an activation is refused with the tasks and the choices.
    recipients: dict[Annotated[str, Field(max_length=64)],
                     Annotated[str, Field(max_length=40)]] = Field(default_factory=dict)


def activate(*, alert_id: int, actor: Actor, context: str = LIVE,
             level: Level | None = None, note: str = "",
             recipients: dict[str, str] | None = None) -> dict[str, Any]:
    """Activate the alert's suggested plan at its level (or ``level``) for its incidents.

    The activation names the first case's incident and lists every incident of the
    alert in its note; then the alert is marked acted on (acknowledged by ``actor``)
    with the activation, and ``alert.acted`` records the rule, the figures, the
    incidents and who acted.
    """
    from ..plans import service as plans
    from ..plans.models import SubjectKind
    from ..plans.schemas import ActivationIn

    with db.reading() as s:
        a = s.scalars(select(Alert).where(Alert.id == alert_id,
                                          Alert.context == context)).first()
        if a is None:
            raise NotFound(_l("No such alert."))
        sug = dict(a.suggestion or {})
        kind = a.kind
    if kind != AlertKind.EARLY_WARNING.value or not sug.get("plan"):
        raise ValidationFailed(_l("This alert suggests no plan to activate."))
    if sug.get("activation_id"):
        raise Conflict(_l("The plan was already activated from this alert (activation "
                          "%(id)s).", id=sug["activation_id"]))
    chosen = level or Level(sug["level"])
    ids = [int(x) for x in sug.get("incidents", [])]
    listed = ", ".join(f"#{x}" for x in ids)
    text = f"预警 / early warning #{alert_id} ({sug.get('rule')}): {listed}"
    if note.strip():
        text = f"{text} — {note.strip()}"
    activation = plans.activate_plan(
        plan_id=sug["plan"], actor=actor, context=context,
        data=ActivationIn(level=chosen, subject_kind=SubjectKind.INCIDENT,
                          subject_ref=str(ids[0]), note=text[:1000],
                          recipients=recipients or {}))
    with db.unit_of_work() as s:
        body = mark_acted_in(s, context=context, alert_id=alert_id, actor=actor,
                             acted={"activation_id": activation["id"],
                                    "activated_plan": sug["plan"], "activated_level": chosen.value,
                                    "activated_by": actor.shown})
    return {"alert": body, "activation": activation}

"""The rules that raise alerts, run by a ticker in each serving process.

Event rules read the event log after a cursor (new incident, escalation to the
command room, facility full, critical item out of stock); the cursor moves by
compare-and-set, so with several processes each event is judged exactly once.
Time rules (a missed reporting deadline, a roster gap in the next 12 hours, a
position a plan's checklist names with nobody on duty now) look at the current
state every sweep; their alert keys make them idempotent.
Nothing here changes another domain's rows: it reads, then calls the alerts
service.

Drills get the same rules in their own context (drill isolation): a run that is
ready, running or paused is scanned beside live, its alerts are raised in the
run's context on the run's own clock, and only its players' command room shows
them. A drill's log is read from its first event, since everything in it is part
of the exercise (a starting state with a full isolation point raises its alert);
an ended run is no longer scanned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..contexts import LIVE, Context, ContextKind
from ..events import Actor, Event
from ..extensions import db, socketio
from ..incidents import diseases
from ..incidents.models import TERMINAL, TYPE_LABELS, Incident
from ..runtime import AppLike
from ..vocab import localized
from .models import AlertCursor, AlertKind, Severity
from .service import AlertIn, raise_in

log = logging.getLogger(__name__)
ACTOR = Actor.system("alerts")
BATCH = 500
GAP_HOURS = 12
TIME_RULES_EVERY = timedelta(seconds=30)
WATCHED = ("incident.reported", "task.escalated", "facility.capacity_reported", "stock.")


@contextmanager
def _both() -> Iterator[Callable[[Callable[[], str]], tuple[str, str]]]:
    """Render a title in zh-CN and in English (alerts are stored in both)."""
    def render(make: Callable[[], str]) -> tuple[str, str]:
        with force_locale("zh_CN"):
            zh = make()
        with force_locale("en"):
            en = make()
        return zh, en
    yield render


def _incident_words(p: dict[str, Any]) -> str:
    labels: dict[Any, Any] = TYPE_LABELS  # keyed by enum members that equal their codes
    kind = str(labels.get(p.get("type"), p.get("type") or ""))
    disease = p.get("disease")
    if disease and disease in diseases.DISEASES:
        kind = f"{kind} · {diseases.DISEASES[disease].label}"
    place = p.get("address") or ""
    return f"#{p.get('id')} {kind} {place}".strip()


def rule_for(ev: Event) -> AlertIn | None:
    """The alert one event calls for, if any (the event rules)."""
    p = ev.payload or {}
    with _both() as both:
        if ev.type == "incident.reported":
            zh, en = both(lambda: _("New incident %(what)s", what=_incident_words(p)))
            critical = p.get("priority") in ("critical", "high") or p.get("negative_pressure")
            return AlertIn(kind=AlertKind.NEW_INCIDENT, key=f"incident:{p.get('id')}",
                           title_zh=zh, title_en=en, subject=("incident", p.get("id")),
                           severity=Severity.CRITICAL if critical else Severity.HIGH,
                           lon=p.get("lon"), lat=p.get("lat"), source_seq=ev.seq, once=True)
        if ev.type == "task.escalated" and (p.get("step") or {}).get("target") == "command_room":
            def agency() -> str:
                return (localized(p.get("agency_name_zh"), p.get("agency_name_en"))
                        or p.get("agency_code") or "")
            pair = p.get("title_i18n") or {}  # a plan's task: each language its own title
            zh, _en = both(lambda: _("Escalated to the command room: %(agency)s — %(title)s",
                                     agency=agency(), title=pair.get("zh") or p.get("title", "")))
            _zh, en = both(lambda: _("Escalated to the command room: %(agency)s — %(title)s",
                                     agency=agency(), title=pair.get("en") or p.get("title", "")))
            return AlertIn(kind=AlertKind.ESCALATION, key=f"escalation:{p.get('id')}",
                           title_zh=zh, title_en=en, subject=("task", p.get("id")),
                           source_seq=ev.seq)
        if ev.type == "facility.capacity_reported":
            if p.get("status") != "full":
                return None
            zh, en = both(lambda: _("Facility full: %(name)s",
                                    name=localized(p.get("name"), p.get("name_en"))))
            return AlertIn(kind=AlertKind.FACILITY_FULL, key=f"facility-full:{p.get('id')}",
                           title_zh=zh, title_en=en, subject=("facility", p.get("id")),
                           lon=p.get("lon"), lat=p.get("lat"), source_seq=ev.seq)
    return None


def stock_outs(context: str) -> list[AlertIn]:
    """Critical items with nothing available at a depot that holds a target for them."""
    from ..stock.gaps import gap_report

    out = []
    with _both() as both:
        for r in gap_report(context=context)["rows"]:
            if not r["critical"] or r["available"] > 0 or not r["target"]:
                continue
            zh, en = both(lambda r=r: _("Out of stock: %(item)s at %(depot)s",  # type: ignore[misc]
                                        item=localized(r["item_name_zh"], r["item_name_en"]),
                                        depot=localized(r["depot_name_zh"],
                                                        r["depot_name_en"])))
            out.append(AlertIn(kind=AlertKind.STOCK_OUT, key=f"stock-out:{r['depot']}:{r['item']}",
                               title_zh=zh, title_en=en, severity=Severity.CRITICAL,
                               subject=("depot", r["depot"])))
    return out


def time_rules(context: str, now: datetime) -> list[AlertIn]:
    """Missed reporting deadlines of open incidents; roster gaps starting within 12 h."""
    from ..roster.queries import gaps

    out = []
    closed = [t.value for t in TERMINAL]
    with db.reading() as s:
        late = list(s.scalars(select(Incident).where(
            Incident.context == context, Incident.report_deadline.is_not(None),
            Incident.reported_up_at.is_(None), Incident.report_deadline < now,
            Incident.status.not_in(closed))))
    with _both() as both:
        for i in late:
            zh, en = both(lambda i=i: _("Reporting deadline missed for incident #%(id)s",  # type: ignore[misc]
                                        id=i.id))
            out.append(AlertIn(kind=AlertKind.DEADLINE_MISSED, key=f"deadline:{i.id}",
                               title_zh=zh, title_en=en, severity=Severity.CRITICAL,
                               subject=("incident", i.id), lon=i.lon, lat=i.lat, once=True))
        for g in gaps(context=context, start=now, end=now + timedelta(hours=GAP_HOURS)):
            zh, en = both(lambda g=g: _("Roster gap: %(agency)s from %(start)s, %(hours)s h",  # type: ignore[misc]
                                        agency=localized(g["name_zh"], g.get("name_en")),
                                        start=g["start"][:16], hours=g["hours"]))
            out.append(AlertIn(kind=AlertKind.ROSTER_GAP,
                               key=f"gap:{g['agency_code']}:{g['start']}", title_zh=zh,
                               title_en=en, severity=Severity.NORMAL,
                               subject=("agency", g["agency_code"]), once=True))
    out += vacant_positions(context, now)
    return out


def vacant_positions(context: str, now: datetime) -> list[AlertIn]:
    """A position some plan's checklist names, at an agency the roster keeps, that nobody
    holds now: the same shortfall the readiness table shows, as one alert per position.

    The key carries the day, so an acknowledged vacancy is not raised again every sweep,
    yet a post still (or again) empty tomorrow is raised afresh.
    """
    from .. import vocab
    from ..plans import registry, responsible
    from ..roster import positions

    named: dict[tuple[str, str], list[dict[str, str]]] = {}
    for lr in registry.plan_set(context=context).plans.values():
        if lr.plan is None:
            continue
        for pair in responsible.wanted(lr.plan):
            named.setdefault(pair, []).append(lr.plan.title.model_dump())
    if not named:
        return []
    with db.reading() as s:
        held = positions.resolve(s, context=context, wanted=list(named), at=now)
    out = []
    with _both() as both:
        for (agency, position), holders in sorted(held.items()):
            if holders != []:  # filled, or an agency the roster does not keep (None)
                continue
            plans = named[(agency, position)]
            zh, en = both(lambda a=agency, p=position, ps=plans: _(  # type: ignore[misc]
                "Nobody on duty as %(position)s at %(agency)s (named by %(plans)s)",
                position=vocab.label("position", p, context=context),
                agency=vocab.label("agency", a, context=context),
                plans="、".join(dict.fromkeys(t["zh"] for t in ps))
                if str(get_locale()).startswith("zh")
                else ", ".join(dict.fromkeys(t["en"] for t in ps))))
            out.append(AlertIn(kind=AlertKind.POSITION_VACANT,
                               key=f"vacant:{agency}:{position}:{now.date().isoformat()}",
                               title_zh=zh, title_en=en, severity=Severity.HIGH,
                               subject=("agency", agency), once=True))
    return out


def _claim(context: str) -> tuple[int, int, list[Event], bool, datetime] | None:
    """Events after the cursor; ``None`` when there is nothing new to read."""
    with db.unit_of_work() as s:
        ctx = s.get(Context, context)
        if ctx is None:
            return None
        cur = s.get(AlertCursor, context)
        if cur is None:
            # Live: start from the head, so old history raises nothing. A drill: from
            # its first event, all of which belong to the exercise.
            start = 0 if ctx.kind == ContextKind.DRILL else ctx.last_seq
            cur = AlertCursor(context=context, last_seq=start, swept_at=None)
            s.add(cur)
            s.flush()  # inserted now: the expunge below must not drop it
            if start == ctx.last_seq:
                return None
        now = ctx.clock().now()
        timed = cur.swept_at is None or now - cur.swept_at >= TIME_RULES_EVERY
        rows = list(s.scalars(select(Event).where(
            Event.context == context, Event.seq > cur.last_seq).order_by(Event.seq).limit(BATCH)))
        s.expunge_all()
        return cur.last_seq, (rows[-1].seq if rows else cur.last_seq), rows, timed, now


def scan(context: str = LIVE) -> int:
    """One pass over a context: returns the number of alerts raised."""
    claimed = _claim(context)
    if claimed is None:
        return 0
    old, new, rows, timed, now = claimed
    wanted = [r for r in (rule_for(e) for e in rows) if r is not None]
    if any(e.type.startswith("stock.") for e in rows):
        wanted += stock_outs(context)
    if timed:
        wanted += time_rules(context, now)
    raised = 0
    with db.unit_of_work() as s:
        values: dict[str, Any] = {"last_seq": new}
        if timed:
            values["swept_at"] = now
        won = s.execute(update(AlertCursor).where(  # type: ignore[attr-defined]
            AlertCursor.context == context, AlertCursor.last_seq == old).values(**values)
            .execution_options(synchronize_session=False)).rowcount
        if not won:  # another process judged these events
            return 0
        for data in wanted:
            if raise_in(s, context=context, data=data, actor=ACTOR) is not None:
                raised += 1
    return raised


def watched_contexts() -> list[str]:
    """Live, then every drill run's context that has not ended."""
    from ..drills.models import DrillRun, RunStatus

    with db.reading() as s:
        drills = list(s.scalars(select(DrillRun.context).where(
            DrillRun.status != RunStatus.ENDED.value).order_by(DrillRun.id)))
    return [LIVE, *drills]


def scan_all() -> int:
    """One pass over live and every drill in play; a failing context does not stop the
    others. Returns the number of alerts raised."""
    raised = 0
    for context in watched_contexts():
        try:
            raised += scan(context)
        except Exception:  # a run deleted mid-scan, a database hiccup
            log.exception("alert scan of %s failed", context)
    return raised


def watcher(app: AppLike, interval: float = 1.0) -> None:
    """Background loop of a serving process: live and the drills in play."""
    while True:
        try:
            with app.app_context():
                scan_all()
        except Exception:  # a database hiccup must not kill the loop
            log.exception("alert scan failed; retrying")
        socketio.sleep(interval)

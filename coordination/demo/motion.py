"""What keeps the demo moving while ``serve --demo`` runs (``--still`` turns it off).

Every few seconds ambulances report positions through the normal ingestion
path (units.service.record_positions): available ones patrol
(units/simulate.py), dispatched ones drive to their incident and transporting
ones to their destination; on arrival the incident moves on through the
incidents service (on scene, at hospital). Every few minutes the situation
advances one step: a contact is isolated, the laboratory confirms the plague
case (the epidemic point is drawn), a liaison acknowledges a task, a new call
comes in. Only the live context of the demo's own database is touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pyproj import Transformer

from .. import runtime
from ..clock import wall_now
from ..contexts import LIVE
from ..events import Actor
from ..extensions import socketio
from ..facilities.models import Facility
from ..incidents import service as incidents
from ..incidents.models import Clock, IncidentStatus
from ..incidents.schemas import CaseIn, ClockIn, IsolateIn, StatusChangeIn
from ..roster import service as roster
from ..runtime import AppLike
from ..units.schemas import PositionIn
from ..units.service import list_units, record_positions
from ..units.simulate import Simulator
from .situation import PLAGUE, dispatch_best, liaison_actor, log_call, operator_actor

log = logging.getLogger(__name__)
TRACKER = Actor.system("demo-tracker")
DRIVE_KMH = 80.0
ARRIVED_M = 400.0
# New calls the demo phones in, in turn (every name in both languages).
CALLS = [
    {"type": "suspected_case", "disease": "fever", "lon": 113.20, "lat": 40.80, "patients": 1,
     "address": "察右前旗 平地泉镇 (Pingdiquan, Chahar Right Front Banner)",
     "notes": "发热伴咳嗽，来自疫区。Fever and cough, back from an affected area."},
    {"type": "mass_casualty", "lon": 113.05, "lat": 41.06, "patients": 4,
     "address": "G55 集宁北出口 (G55 Jining North exit)",
     "notes": "两车相撞，4人受伤。Two-car collision, four injured."},
    {"type": "event_medical", "lon": 113.0870, "lat": 41.0100, "patients": 1,
     "address": "乌兰察布市体育中心 (Ulanqab Sports Centre)",
     "event_ref": "14th-winter-games-ulanqab", "venue_ref": "jining-stadium",
     "notes": "观众晕厥。A spectator fainted."},
]


@dataclass
class Motion:
    """The demo's clock-work: ``tick`` moves units, ``advance`` takes one story step."""

    time_scale: float = 10.0
    steps: int = 0
    calls: int = 0
    sim: Simulator | None = None
    _to_m: Transformer | None = None
    _to_deg: Transformer | None = None
    log: list[str] = field(default_factory=list)

    def _setup(self) -> None:
        if self.sim is None:
            self.sim = Simulator(region=runtime.current_settings().region, seed=13)
            self._to_m = Transformer.from_crs("EPSG:4326", self.sim.crs, always_xy=True)
            self._to_deg = Transformer.from_crs(self.sim.crs, "EPSG:4326", always_xy=True)

    def _toward(self, lon: float, lat: float, tlon: float, tlat: float,
                seconds: float) -> tuple[float, float, bool]:
        """One leg of driving in metres (projected CRS): the new fix and whether it arrived."""
        assert self._to_m is not None and self._to_deg is not None
        x, y = self._to_m.transform(lon, lat)
        tx, ty = self._to_m.transform(tlon, tlat)
        dist = ((tx - x) ** 2 + (ty - y) ** 2) ** 0.5
        reach = DRIVE_KMH / 3.6 * seconds
        if dist <= max(reach, ARRIVED_M):
            return tlon, tlat, True
        f = reach / dist
        nlon, nlat = self._to_deg.transform(x + (tx - x) * f, y + (ty - y) * f)
        return nlon, nlat, False

    def tick(self, seconds: float) -> int:
        """Move every unit one step (``seconds`` of real time) and report the fixes."""
        self._setup()
        assert self.sim is not None
        driving = seconds * self.time_scale
        reports = self.sim.step(driving)  # the available ones patrol
        units = {u.id: u for u in list_units(context=LIVE)}
        now = wall_now()
        arrived: list[tuple[int, str]] = []
        for i in incidents.list_incidents(context=LIVE):
            if i["status"] not in ("dispatched", "transporting") or not i["units"]:
                continue
            target = (i["lon"], i["lat"])
            if i["status"] == "transporting":
                dest = _destination(i.get("destination_id"))
                if dest is None:
                    continue
                target = dest
            done = True
            for a in i["units"]:
                u = units.get(a["unit_id"])
                if u is None or u.lon is None or u.lat is None:
                    continue
                lon, lat, there = self._toward(u.lon, u.lat, *target, driving)
                done = done and there
                reports.append(PositionIn(unit=u.id, lon=round(lon, 6), lat=round(lat, 6),
                                          at=now, speed_kmh=0.0 if there else DRIVE_KMH))
            if done:
                arrived.append((i["id"], "on_scene" if i["status"] == "dispatched"
                                else "at_hospital"))
        if reports:
            record_positions(reports=reports, actor=TRACKER,
                             region=runtime.current_settings().region)
        for incident_id, status in arrived:
            _try(lambda n=incident_id, st=status: incidents.change_status(  # type: ignore[misc]
                context=LIVE, incident_id=n, actor=operator_actor(),
                data=StatusChangeIn(status=IncidentStatus(st), note="到达 (arrived)")))
        return len(reports)

    def advance(self) -> str:
        """One step of the story; returns what happened (for the server's log)."""
        story: list[Callable[[], str | None]] = [
            self._isolate_contact, self._dispatch_waiting, self._confirm_plague,
            self._ack_task, self._close_arrived, self._new_call]
        for n in range(len(story)):
            step = story[(self.steps + n) % len(story)]
            done = _try(step)
            if done:
                self.steps += n + 1
                return done
        self.steps += 1
        return self._new_call() or ""

    def _plague(self) -> dict[str, Any] | None:
        return next((i for i in incidents.list_incidents(context=LIVE)
                     if i["disease"] == PLAGUE["disease"]), None)

    def _isolate_contact(self) -> str | None:
        waiting = [c for c in incidents.list_contacts(context=LIVE)
                   if c["status"] != "isolated" and not c["isolation_id"]]
        if not waiting:
            return None
        incidents.isolate_contact(context=LIVE, contact_id=waiting[0]["id"], actor=operator_actor(),
                                  data=IsolateIn())
        return f"isolated contact {waiting[0]['id']}"

    def _dispatch_waiting(self) -> str | None:
        for i in incidents.list_incidents(context=LIVE):
            if i["status"] in ("reported", "verified") and not i["units"]:
                if i["status"] == "reported":
                    incidents.change_status(context=LIVE, incident_id=i["id"],
                                            actor=operator_actor(),
                                            data=StatusChangeIn(status=IncidentStatus.VERIFIED))
                if dispatch_best(i["id"], operator_actor()):
                    return f"dispatched to incident {i['id']}"
        return None

    def _close_arrived(self) -> str | None:
        """Close a case handed over at the hospital, its clocks filled first.

        A public-health case does not close with its clocks empty (incidents/closing.py);
        the demo's operator records them as a real one would at hand-over: diagnosed
        when the laboratory confirmed the case (else now, by the receiving
        hospital), treated now, and the report upward now if it was not yet filed.
        """
        for i in incidents.list_incidents(context=LIVE):
            if i["status"] == "at_hospital":
                self._fill_clocks(i["id"])
                incidents.change_status(context=LIVE, incident_id=i["id"], actor=operator_actor(),
                                        data=StatusChangeIn(status=IncidentStatus.CLOSED,
                                                            note="患者已交接 (handed over)"))
                return f"closed incident {i['id']}"
        return None

    def _fill_clocks(self, incident_id: int) -> None:
        detail = incidents.get_incident(context=LIVE, incident_id=incident_id)
        now = wall_now()
        confirmed = [c["at"] for c in detail["cases"] if c.get("confirmed")]
        for gap in detail["close_gaps"]:
            clock = Clock[gap["clock"].upper()]
            at = now
            if clock == Clock.DIAGNOSED and confirmed:
                at = max(datetime.fromisoformat(min(confirmed)),
                         datetime.fromisoformat(detail["clocks"]["found"]))
            incidents.set_clock(context=LIVE, incident_id=incident_id, actor=operator_actor(),
                                data=ClockIn(clock=clock, at=at))

    def _confirm_plague(self) -> str | None:
        i = self._plague()
        if i is None or incidents.list_cases(context=LIVE, incident_id=i["id"]):
            return None
        incidents.record_case(context=LIVE, incident_id=i["id"], actor=operator_actor(),
                              data=CaseIn(lon=i["lon"], lat=i["lat"], confirmed=True,
                                          label="实验室确诊 (laboratory confirmed)"),
                              region=runtime.current_settings().region)
        return f"confirmed the plague case of incident {i['id']}"

    def _ack_task(self) -> str | None:
        liaison = liaison_actor()
        if liaison is None:
            return None
        for t in roster.list_tasks(context=LIVE, open_only=True, agency_code="cdc"):
            if t["status"] == "open":
                roster.acknowledge_task(context=LIVE, task_id=t["id"], actor=liaison,
                                        key=f"demo-motion-{t['id']}")
                return f"acknowledged task {t['id']}"
        return None

    def _new_call(self) -> str | None:
        data = dict(CALLS[self.calls % len(CALLS)])
        self.calls += 1
        i = log_call(data, operator_actor())
        return f"new call: incident {i['id']}"



def _destination(facility_id: int | None) -> tuple[float, float] | None:
    if facility_id is None:
        return None
    from ..extensions import db

    with db.reading() as s:
        f = s.get(Facility, facility_id)
        return (f.lon, f.lat) if f else None


def _try(step: Callable[[], Any]) -> Any:
    """A story step that no longer fits (someone changed the incident) is skipped."""
    from ..errors import CoordinationError

    try:
        return step()
    except CoordinationError as exc:
        log.info("demo step skipped: %s", exc.message)
        return None


def run(app: AppLike, *, interval: float = 3.0, step_seconds: float = 180.0,
        time_scale: float = 10.0) -> None:
    """Background loop of ``serve --demo``: move every ``interval`` s, advance every few min."""
    motion = Motion(time_scale=time_scale)
    next_step = time.monotonic() + step_seconds
    while True:
        try:
            with app.app_context():
                motion.tick(interval)
                if time.monotonic() >= next_step:
                    next_step = time.monotonic() + step_seconds
                    log.info("demo: %s", motion.advance())
        except Exception:  # a hiccup must not stop the demo
            log.exception("demo motion failed; retrying")
        socketio.sleep(interval)

"""The demo's story steps go through the same guards as an operator: a plague case handed
over at the hospital is closed with its clocks recorded, never closed blank."""

from __future__ import annotations

from sqlalchemy import select

from coordination.contexts import LIVE
from coordination.demo import load_demo
from coordination.demo.motion import Motion
from coordination.demo.situation import PLAGUE, operator_actor
from coordination.events import Event
from coordination.extensions import db
from coordination.incidents import service as incidents
from coordination.incidents.schemas import StatusChangeIn


def test_the_demo_closes_a_plague_case_with_its_clocks_filled(app):
    load_demo(situation=True)
    plague = next(i for i in incidents.list_incidents(context=LIVE)
                  if i["disease"] == PLAGUE["disease"])
    for status in ("on_scene", "transporting", "at_hospital"):
        incidents.change_status(context=LIVE, incident_id=plague["id"], actor=operator_actor(),
                                data=StatusChangeIn(status=status))
    motion = Motion()
    assert motion._confirm_plague() is not None  # the laboratory confirms: diagnosed
    before = incidents.get_incident(context=LIVE, incident_id=plague["id"])
    assert before["close_gaps"]  # treated (and the report) still empty
    assert motion._close_arrived() == f"closed incident {plague['id']}"
    after = incidents.get_incident(context=LIVE, incident_id=plague["id"])
    assert after["status"] == "closed" and after["close_gaps"] == []
    assert all(after["clocks"][c] for c in ("found", "reported", "diagnosed", "isolated",
                                            "treated"))
    with db.reading() as s:
        assert s.scalars(select(Event).where(Event.type == "incident.closed_incomplete")
                         ).first() is None

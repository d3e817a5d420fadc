"""One search box for the command room: incidents, units, facilities, places, areas, people.

A number (``12``, ``#12``) finds that incident; text matches names, call signs
and codes by substring. Each hit carries its position (when it has one) so the
map pans to it; an officer has none and shows their agency instead. Names kept
in both languages match in either and are labelled in the reader's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select

from ..contexts import LIVE
from ..extensions import db
from ..facilities.models import Facility
from ..geo.models import AdminArea
from ..geo.places import PopulatedPlace
from ..incidents.models import Incident
from ..limits import INT64_MAX
from ..roster.models import Agency, Officer
from ..units.models import Unit
from ..vocab import localized

PER_KIND = 5


def search(*, q: str, context: str = LIVE) -> list[dict[str, Any]]:
    """Hits for ``q`` (at most five of each kind), incidents first."""
    q = q.strip()
    if not q:
        return []
    like = f"%{q}%"
    number = q.lstrip("#")
    out: list[dict[str, Any]] = []
    with db.reading() as s:
        cond: list[ColumnElement[bool]] = [Incident.address.ilike(like)]
        if number.isdigit() and int(number) <= INT64_MAX:  # a longer number is no id
            cond.append(Incident.id == int(number))
        for i in s.scalars(select(Incident).where(Incident.context == context, or_(*cond))
                           .order_by(Incident.id.desc()).limit(PER_KIND)):
            out.append({"kind": "incident", "id": i.id, "label": f"#{i.id} {i.address}".strip(),
                        "lon": i.lon, "lat": i.lat})
        for u in s.scalars(select(Unit).where(Unit.context == context, Unit.call_sign.ilike(like))
                           .order_by(Unit.call_sign).limit(PER_KIND)):
            out.append({"kind": "unit", "id": u.id, "label": u.call_sign, "lon": u.lon,
                        "lat": u.lat})
        for f in s.scalars(select(Facility).where(
                Facility.context == context,
                or_(Facility.name.ilike(like), Facility.name_en.ilike(like),
                    Facility.code.ilike(like)))
                .order_by(Facility.name).limit(PER_KIND)):
            out.append({"kind": "facility", "id": f.id, "label": localized(f.name, f.name_en),
                        "lon": f.lon,
                        "lat": f.lat})
        for a in s.scalars(select(AdminArea).where(
                or_(AdminArea.name_zh.ilike(like), AdminArea.name_en.ilike(like),
                    AdminArea.code == q)).limit(PER_KIND)):
            out.append({"kind": "area", "id": a.code, "label": a.name_zh,
                        "label_en": a.name_en, "lon": a.seat_lon, "lat": a.seat_lat})
        for p in s.scalars(select(PopulatedPlace).where(
                or_(PopulatedPlace.name.ilike(like), PopulatedPlace.name_en.ilike(like)))
                .order_by(PopulatedPlace.population.desc()).limit(PER_KIND)):
            out.append({"kind": "place", "id": p.id, "label": localized(p.name, p.name_en),
                        "lon": p.lon,
                        "lat": p.lat})
        for o, ag in s.execute(select(Officer, Agency).join(Agency, Agency.id == Officer.agency_id)
                               .where(Officer.context == context,
                                      or_(Officer.name.ilike(like),
                                          Officer.name_en.ilike(like)))
                               .limit(PER_KIND)):
            out.append({"kind": "person", "id": o.id, "label": localized(o.name, o.name_en),
                        "agency_zh": ag.name_zh, "agency_en": ag.name_en, "phone": o.phone,
                        "lon": None, "lat": None})
    return out

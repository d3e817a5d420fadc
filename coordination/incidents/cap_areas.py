"""CAP areas addressed by administrative code (GB/T 2260), resolved to what the system holds.

China's early-warning CAP profile, and many public alerts, name their target
by ``<geocode>`` alone. A code of an area whose outline ships with the package
(geo/boundaries.py) becomes that outline, standing at the area's seat when the
``admin_areas`` table holds it (else a point inside the outline). Other value
names (SAME, FIPS6, UGC…) and codes the system does not hold resolve to
nothing, and the alert is refused with the codes named.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..geo import boundaries
from ..geo.models import AdminArea

# Value names senders write for a GB/T 2260 code, compared without case,
# spaces or punctuation: "GB/T 2260", "GB2260", "ADCODE", "行政区划代码".
ADMIN_CODE_NAMES = frozenset({"gbt2260", "gb2260", "adcode", "admincode", "areacode",
                              "行政区划代码", "行政区划", "区划代码", "xzqhdm"})
_PUNCT = re.compile(r"[\s/_.\-]")


def is_admin_code_name(value_name: str) -> bool:
    return _PUNCT.sub("", value_name).casefold() in ADMIN_CODE_NAMES


def resolve_geocode(value_name: str,
                    value: str) -> tuple[dict[str, Any], tuple[float, float]] | None:
    """Outline and seat of an administrative area, or None when the system does not hold it.

    A 9- or 12-digit statistical code (township, village) stands for its
    county, the first six digits, when only the county is held.
    """
    if not is_admin_code_name(value_name):
        return None
    code = value.strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        return None
    feature = boundaries.by_code().get(code) or boundaries.by_code().get(code[:6])
    if feature is None:
        return None
    from shapely.geometry import shape

    with db.reading() as s:
        seat = s.scalars(select(AdminArea).where(AdminArea.code == feature["id"])).first()
    outline = shape(feature["geometry"])
    if seat is not None:
        point = (seat.seat_lon, seat.seat_lat)
    else:
        inside = outline.representative_point()
        point = (inside.x, inside.y)
    return feature["geometry"], point

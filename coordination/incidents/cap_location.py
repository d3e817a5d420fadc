"""Where a CAP alert is: its areas (polygons, circles, geocodes) as one outline and a point.

Pure like ``cap.py`` (no database): geocodes are resolved by the caller's function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from ..geo.crs import utm_crs
from .cap import CapAlert, CapError, CapInfo, chosen_info


@dataclass(frozen=True)
class CapLocation:
    lon: float
    lat: float
    area: dict[str, Any] | None  # GeoJSON (WGS-84), None for a bare point
    description: str


# A geocode resolved by the caller: the area's outline (GeoJSON, WGS-84) and the
# point that stands for it (a county's seat), or None for a code it does not hold.
GeocodeResolver = Callable[[str, str], "tuple[dict[str, Any], tuple[float, float]] | None"]


def alert_location(alert: CapAlert, info: CapInfo | None = None,
                   geocodes: GeocodeResolver | None = None) -> CapLocation | None:
    """The union of the chosen info's areas; its centroid is the location.

    Only that info's areas count (CAP 1.2 §3.2.4: an info's areas are that
    info's target; a sandstorm circle in another info is not where the plague
    case is). An area with neither polygon nor circle is resolved by its
    geocodes (administrative codes the caller holds); an unknown code is
    refused with the reason, never guessed. Circles are drawn in the local UTM
    zone (metres); a radius of 0 is a point. When the centroid falls outside
    the union (two disjoint areas, a crescent-shaped county), the
    representative point inside it is used instead; one geocoded area alone
    stands at its seat.
    """
    import geopandas as gpd
    from shapely.geometry import Point, Polygon, mapping, shape
    from shapely.ops import unary_union

    info = info or chosen_info(alert)
    if info is None:
        return None
    shapes: list[Any] = []
    descs: list[str] = []
    seats: list[tuple[float, float]] = []
    reasons: list[str] = []
    for n, area in enumerate(info.areas, start=1):
        if area.description:
            descs.append(area.description)
        shapes.extend(Polygon(ring) for ring in area.polygons)
        shapes.extend(("circle", c) for c in area.circles)
        if area.polygons or area.circles or not area.geocodes:
            continue
        found = [(k, v, geocodes(k, v) if geocodes else None) for k, v in area.geocodes.items()]
        known = [hit for _k, _v, hit in found if hit is not None]
        if not known:
            reasons.append(_("area %(n)s: no polygon or circle, and the system holds none of its "
                             "geocodes (%(codes)s)", n=n,
                             codes=", ".join(f"{k} {v}" for k, v, _h in found)))
            continue
        for outline, seat in known:
            shapes.append(shape(outline))
            seats.append(seat)
    if reasons:
        raise CapError(reasons)
    if not shapes:
        return None
    anchor = next(s[1][:2] if isinstance(s, tuple) else s.centroid.coords[0] for s in shapes)
    crs = utm_crs(*anchor)
    projected: list[Any] = []
    for s in shapes:
        if isinstance(s, tuple):
            lon, lat, km = s[1]
            pt = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(crs).iloc[0]
            projected.append(pt.buffer(km * 1000, quad_segs=16) if km > 0 else pt)
        else:
            projected.append(gpd.GeoSeries([s], crs="EPSG:4326").to_crs(crs).iloc[0])
    merged = unary_union(projected)
    inside = merged.centroid if merged.geom_type == "Point" or merged.contains(
        merged.centroid) else merged.representative_point()
    centre = gpd.GeoSeries([inside], crs=crs).to_crs("EPSG:4326").iloc[0]
    if len(shapes) == 1 and len(seats) == 1:
        centre = Point(seats[0])
    area_wgs = gpd.GeoSeries([merged], crs=crs).to_crs("EPSG:4326").iloc[0]
    area_json = None if area_wgs.geom_type == "Point" else mapping(area_wgs)
    return CapLocation(lon=round(centre.x, 7), lat=round(centre.y, 7), area=area_json,
                       description="; ".join(dict.fromkeys(descs)))


__all__ = ["CapLocation", "GeocodeResolver", "alert_location"]

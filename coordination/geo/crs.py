"""The one projected CRS helper: which UTM zone measures a place in metres.

Distances, buffers and areas are computed in the UTM zone of the data, never
in degrees. ``estimate_utm_crs`` asks the PROJ database each time (about
100 ms); the answer for a zone never changes, so it is derived once per zone
here and every module (coverage, routing, epidemic zones, venues, CAP areas,
stock gaps, the unit simulator) asks this one place.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import CRS, Transformer

if TYPE_CHECKING:
    import geopandas as gpd

WGS84 = "EPSG:4326"


def utm_zone(lon: Any) -> np.ndarray:
    """The UTM zone number (1-60) of each longitude."""
    return (np.floor((np.asarray(lon, dtype=float) + 180.0) / 6.0).astype(int) % 60) + 1


@lru_cache(maxsize=128)
def zone_crs(zone: int, north: bool = True) -> CRS:
    """The WGS-84 UTM CRS of a zone: what ``estimate_utm_crs()`` answers for points in it."""
    return CRS.from_epsg((32600 if north else 32700) + int(zone))


def utm_crs(lon: float, lat: float) -> CRS:
    """The UTM CRS of the zone a point is in."""
    return zone_crs(int(utm_zone(lon)), lat >= 0)


@lru_cache(maxsize=128)
def _to_zone(zone: int, north: bool) -> Transformer:
    return Transformer.from_crs(WGS84, zone_crs(zone, north), always_xy=True)


def to_utm(lon: float, lat: float) -> Transformer:
    """A WGS-84 → UTM transformer (x = lon, y = lat order) for the zone a point is in."""
    return _to_zone(int(utm_zone(lon)), lat >= 0)


def zone_transformer(zone: int, north: bool = True) -> Transformer:
    """A WGS-84 → UTM transformer for a zone (cached: building one costs milliseconds)."""
    return _to_zone(int(zone), north)


def data_crs(points: gpd.GeoSeries | gpd.GeoDataFrame) -> CRS:
    """The UTM CRS of the zone at the centre of the data's bounds (WGS-84 input)."""
    x0, y0, x1, y1 = points.total_bounds
    return zone_crs(int(utm_zone((x0 + x1) / 2)), (y0 + y1) / 2 >= 0)

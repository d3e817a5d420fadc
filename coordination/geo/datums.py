"""The datums coordinates arrive in, and the one conversion to the WGS-84 we store.

Positions typed or pasted by people come from whatever map they had open: GPS
and foreign maps give WGS-84, AMap/Gaode and Tencent give GCJ-02, Baidu Maps
gives BD-09. The source says which (a form choice, ``crs`` in the API, the
layer import's ``--crs``), never a guess from the numbers.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np


class Datum(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def to_wgs84(lon: float, lat: float, datum: Datum) -> tuple[float, float]:
    """One point in ``datum`` as WGS-84 (lon, lat)."""
    if datum is Datum.WGS84:
        return lon, lat
    coords = np.array([[lon, lat]], dtype=float)
    if datum is Datum.BD09:
        from .bd09 import bd09_to_wgs84_coords as convert
    else:
        from .gcj02 import gcj02_to_wgs84_coords as convert
    out = convert(coords)
    return float(out[0, 0]), float(out[0, 1])

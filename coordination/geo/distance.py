"""Great-circle distance on the mean Earth sphere, one point to many (vectorised).

Good to a few metres at the scale of a banner: what ranking units and hospitals by
straight-line distance needs (the road network gives the real ETA).
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Great-circle metres from one point to many (vectorised)."""
    lon1, lat1 = math.radians(lon), math.radians(lat)
    lon2, lat2 = np.radians(lons), np.radians(lats)
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))

"""Baidu BD-09 to WGS-84, for points copied from Baidu Maps (百度地图).

Baidu shifts GCJ-02 once more: in polar form about the origin, the radius grows
by ``2e-5 * sin(lat * 3000π/180)`` and the angle by ``3e-6 * cos(lon * 3000π/180)``,
then ``(0.0065, 0.006)`` degrees is added. This is the formula Baidu's own SDK
samples and the coordtransform project (https://github.com/wandergis/coordtransform,
MIT) publish; it is written here from that formula, vectorised with numpy.

The published "bd09 → gcj02" is only the approximate inverse (subtract the
constants, undo the polar shift at the shifted point), off by up to ~0.1 m; and
chained with the one-step GCJ-02 inverse the error reaches metres. As for GCJ-02
(``gcj02.py``) we iterate instead, ``gcj <- gcj - (forward(gcj) - bd)``, whose
Jacobian is within 1e-3 of the identity, then take the iterative GCJ-02 inverse:
sub-millimetre both ways.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .gcj02 import MAX_ITERATIONS, TOLERANCE_DEG, Array, gcj02_to_wgs84, wgs84_to_gcj02

X_PI = np.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Forward transform (what Baidu Maps does to a GCJ-02 position)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Iterative inverse of :func:`gcj02_to_bd09`."""
    b_lon, b_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    g_lon, g_lat = b_lon - 0.0065, b_lat - 0.006
    for _ in range(MAX_ITERATIONS):
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        e_lon, e_lat = f_lon - b_lon, f_lat - b_lat
        g_lon, g_lat = g_lon - e_lon, g_lat - e_lat
        if np.all(np.abs(e_lon) < TOLERANCE_DEG) and np.all(np.abs(e_lat) < TOLERANCE_DEG):
            break
    return g_lon, g_lat


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def bd09_to_wgs84_coords(coords: Array) -> Array:
    """An (N, 2) array of lon, lat in BD-09 to WGS-84: the shape ``shapely.transform`` passes."""
    if len(coords) == 0:
        return coords
    w_lon, w_lat = bd09_to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([w_lon, w_lat])

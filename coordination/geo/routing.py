"""Road-network travel times: import a road layer, build a graph, ETA for many units at once.

Straight-line distance ranks an ambulance across a river or a mountain as
nearest; on the road network it may be the slowest. A road layer (GeoPackage,
GeoJSON or Shapefile of lines with a speed or a road class, or an OSM .pbf
when the ``osmium`` package is installed) becomes a directed graph whose arc
weights are seconds of driving. One Dijkstra from the incident over the
*reversed* graph gives every node's time *to* the incident, so ranking 5,000
units costs one search plus a KD-tree lookup, not 5,000 searches.

Geometry is projected to the UTM zone of the data (metres) before lengths
are measured and points snapped (DESIGN.md, Geography). This module is pure:
``coordination/geo/roads.py`` stores the segments and caches the graph.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .crs import utm_crs

if TYPE_CHECKING:
    from pyproj import CRS

# Default free-flow speeds (km/h) by road class, for layers without a speed.
# OSM ``highway`` values, their *_link ramps, and the Chinese administrative
# classes (国道/省道/县道/乡道/村道) that Chinese road layers carry instead.
DEFAULT_SPEEDS: dict[str, float] = {
    "motorway": 100, "trunk": 80, "primary": 60, "secondary": 50, "tertiary": 40,
    "unclassified": 30, "residential": 30, "living_street": 10, "service": 20,
    "track": 15, "road": 30,
    "motorway_link": 60, "trunk_link": 50, "primary_link": 40, "secondary_link": 35,
    "tertiary_link": 30,
    "高速公路": 100, "高速": 100, "国道": 80, "省道": 60, "县道": 50, "乡道": 40, "村道": 30,
    "城市快速路": 70, "城市主干道": 50, "城市次干道": 40, "支路": 30,
}
SPEED_FIELDS = ("speed_kmh", "speed", "maxspeed", "max_speed", "SPEED", "MAXSPEED")
CLASS_FIELDS = ("road_class", "highway", "fclass", "class", "type", "CLASS", "FCLASS")
ONEWAY_FIELDS = ("oneway", "one_way", "ONEWAY")
# Getting from a position to the nearest road and from the road to the door.
ACCESS_SPEED_KMH = 15.0
MAX_SNAP_M = 5_000.0
MIN_ARC_SECONDS = 1e-3  # csgraph must never see a zero weight as "no edge"
# Lines are cut into pieces no longer than this, so snapping a unit to the
# nearest node lands within ~100 m of where it really joins the road.
DENSIFY_M = 200.0


class RoadDataError(ValueError):
    """A road layer that cannot be imported; ``reasons`` names every bad feature."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons[:20]) + (" …" if len(reasons) > 20 else ""))
        self.reasons = reasons


@dataclass(frozen=True)
class Segment:
    """One road line: WGS-84 vertices, free-flow speed, direction (0 both, 1 along, -1 against)."""

    coords: list[tuple[float, float]]
    speed_kmh: float
    oneway: int
    road_class: str


def _speed(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$", str(value))
    if not m:
        return None
    speed = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
    return speed if speed > 0 else None


def _oneway(value: Any) -> int:
    text = str(value).strip().lower() if value is not None else ""
    if text in ("yes", "true", "1", "t", "y", "f", "ft", "forward"):
        return 1
    if text in ("-1", "reverse", "tf", "backward"):
        return -1
    return 0


def _pick(columns: Iterable[str], wanted: Sequence[str], given: str | None) -> str | None:
    cols = list(columns)
    if given:
        if given not in cols:
            raise RoadDataError([f"the layer has no column {given!r} (it has: {', '.join(cols)})"])
        return given
    return next((c for c in wanted if c in cols), None)


def segments_from_frame(
    frame: Any, *, speed_field: str | None = None, class_field: str | None = None,
    oneway_field: str | None = None, default_speed: float | None = None,
) -> list[Segment]:
    """Turn a GeoDataFrame of lines into segments; every bad row is reported together."""
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    sf = _pick(frame.columns, SPEED_FIELDS, speed_field)
    cf = _pick(frame.columns, CLASS_FIELDS, class_field)
    of = _pick(frame.columns, ONEWAY_FIELDS, oneway_field)
    out: list[Segment] = []
    reasons: list[str] = []
    for n, row in enumerate(frame.itertuples(index=False), start=1):
        rec = row._asdict()
        geom = rec.get("geometry")
        if geom is None or geom.is_empty:
            reasons.append(f"feature {n}: no geometry")
            continue
        if geom.geom_type == "LineString":
            lines = [geom]
        elif geom.geom_type == "MultiLineString":
            lines = list(geom.geoms)
        else:
            reasons.append(f"feature {n}: a {geom.geom_type} is not a road line")
            continue
        cls = str(rec.get(cf) or "").strip() if cf else ""
        speed = _speed(rec.get(sf)) if sf else None
        if speed is None:
            speed = DEFAULT_SPEEDS.get(cls) or DEFAULT_SPEEDS.get(cls.lower()) or default_speed
        if speed is None:
            why = f"unknown road class {cls!r}" if cls else "no speed and no road class"
            reasons.append(f"feature {n}: {why} (give --default-speed or a speed column)")
            continue
        if speed > 200:
            reasons.append(f"feature {n}: speed {speed} km/h is not a road speed")
            continue
        direction = _oneway(rec.get(of)) if of else 0
        for line in lines:
            coords = [(float(x), float(y)) for x, y, *_ in line.coords]
            if len(coords) < 2:
                reasons.append(f"feature {n}: a line needs two points")
                continue
            if not all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in coords):
                reasons.append(f"feature {n}: coordinates out of range (is the CRS set?)")
                break
            out.append(Segment(coords, speed, direction, cls))
    if reasons:
        raise RoadDataError(reasons)
    if not out:
        raise RoadDataError(["the layer holds no road lines"])
    return out


def read_osm_pbf(path: Path) -> list[Segment]:
    """Ways tagged ``highway`` from an OSM extract, with maxspeed/oneway where tagged."""
    try:
        import osmium
    except ImportError:
        raise RoadDataError(["reading .pbf needs the 'osmium' package (pip install osmium); "
                             "or convert the extract to GeoPackage first"]) from None
    out: list[Segment] = []
    fp = osmium.FileProcessor(str(path)).with_locations().with_filter(
        osmium.filter.KeyFilter("highway"))
    for obj in cast("Iterable[Any]", fp):  # pyosmium's union of kinds; ways only below
        if not obj.is_way():
            continue
        cls = obj.tags.get("highway", "")
        speed = _speed(obj.tags.get("maxspeed")) or DEFAULT_SPEEDS.get(cls)
        if speed is None:
            continue  # footways, paths, steps...: not for ambulances
        try:
            coords = [(n.lon, n.lat) for n in obj.nodes]
        except osmium.InvalidLocationError:
            continue
        if len(coords) < 2:
            continue
        oneway = _oneway(obj.tags.get("oneway"))
        if obj.tags.get("junction") == "roundabout" and "oneway" not in obj.tags:
            oneway = 1
        out.append(Segment(coords, speed, oneway, cls))
    if not out:
        raise RoadDataError(["the extract holds no drivable highway ways"])
    return out


def read_road_file(path: Path, **options: Any) -> list[Segment]:
    """Read a road layer: .pbf through osmium, anything else through geopandas."""
    if path.suffix.lower() == ".pbf":
        return read_osm_pbf(path)
    import geopandas as gpd

    try:
        frame = gpd.read_file(path, layer=options.pop("layer", None))
    except Exception as exc:  # noqa: BLE001 - pyogrio raises many kinds
        raise RoadDataError([f"cannot read {path.name}: {exc}"]) from None
    return segments_from_frame(frame, **options)


def _densify(xy: np.ndarray, line_of: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Insert vertices so no piece of a line is longer than ``step`` metres (vectorised)."""
    same = line_of[:-1] == line_of[1:]
    idx = np.flatnonzero(same)
    length = np.hypot(*(xy[idx + 1] - xy[idx]).T)
    k = np.maximum(np.ceil(length / step).astype(np.int64), 1)
    if (k == 1).all():
        return xy, line_of
    rep = np.repeat(idx, k)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k)
    t = j / np.repeat(k, k)
    pts = xy[rep] + t[:, None] * (xy[rep + 1] - xy[rep])
    last = np.flatnonzero(np.append(~same, True))
    pos = np.concatenate([rep + t, last.astype(np.float64)])
    order = np.argsort(pos, kind="stable")
    return (np.concatenate([pts, xy[last]])[order],
            np.concatenate([line_of[rep], line_of[last]])[order])


class RoadNetwork:
    """A directed road graph in metres and seconds, with a KD-tree of its nodes."""

    def __init__(self, *, crs: str | CRS, node_xy: np.ndarray, tails: np.ndarray, heads: np.ndarray,
                 seconds: np.ndarray, access_speed_kmh: float = ACCESS_SPEED_KMH,
                 max_snap_m: float = MAX_SNAP_M) -> None:
        from pyproj import Transformer
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components
        from scipy.spatial import cKDTree

        self.crs = crs
        self.node_xy = node_xy
        self.access_mps = access_speed_kmh / 3.6
        self.max_snap_m = max_snap_m
        self._to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        n = len(node_xy)
        self.graph = csr_matrix((np.maximum(seconds, MIN_ARC_SECONDS), (tails, heads)),
                                shape=(n, n))
        self.reverse = self.graph.transpose().tocsr()
        self.edge_count = len(seconds)
        # Snap only onto the largest connected piece: a stray unconnected
        # stub would otherwise swallow a unit and report it unreachable.
        _count, labels = connected_components(self.graph, directed=True, connection="weak")
        main = np.bincount(labels).argmax()
        self.snap_nodes = np.flatnonzero(labels == main)
        self.tree = cKDTree(node_xy[self.snap_nodes])

    @classmethod
    def from_segments(cls, segments: Sequence[Segment], **kw: Any) -> RoadNetwork:
        if not segments:
            raise RoadDataError(["no road segments"])
        counts = np.fromiter((len(s.coords) for s in segments), dtype=np.int64,
                             count=len(segments))
        lonlat = np.fromiter((c for s in segments for xy in s.coords for c in xy),
                             dtype=np.float64, count=int(counts.sum()) * 2).reshape(-1, 2)
        speeds = np.fromiter((s.speed_kmh for s in segments), dtype=np.float64)
        oneway = np.fromiter((s.oneway for s in segments), dtype=np.int8)
        return cls.from_arrays(lonlat=lonlat, counts=counts, speeds_kmh=speeds,
                               oneway=oneway, **kw)

    @classmethod
    def from_arrays(cls, *, lonlat: np.ndarray, counts: np.ndarray, speeds_kmh: np.ndarray,
                    oneway: np.ndarray, **kw: Any) -> RoadNetwork:
        """Vertices of all lines concatenated; ``counts[i]`` vertices belong to line i."""
        from pyproj import Transformer

        centre = lonlat.mean(axis=0)
        crs = utm_crs(float(centre[0]), float(centre[1]))
        x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(
            lonlat[:, 0], lonlat[:, 1])
        xy, line_of = _densify(np.column_stack([x, y]),
                               np.repeat(np.arange(len(counts)), counts), DENSIFY_M)
        # Vertices that coincide (to 1 cm) are one node: that is how lines connect.
        keys = np.round(xy * 100).astype(np.int64)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        node_xy = uniq.astype(np.float64) / 100
        same = line_of[:-1] == line_of[1:]
        a, b = inverse[:-1][same], inverse[1:][same]
        line = line_of[:-1][same]
        length = np.hypot(*(node_xy[b] - node_xy[a]).T)
        secs = length / (speeds_kmh[line] / 3.6)
        direction = oneway[line]
        fwd = direction >= 0
        back = direction <= 0
        tails = np.concatenate([a[fwd], b[back]])
        heads = np.concatenate([b[fwd], a[back]])
        secs = np.concatenate([secs[fwd], secs[back]])
        keep = tails != heads
        tails, heads, secs = tails[keep], heads[keep], secs[keep]
        # Parallel arcs: keep the fastest (a CSR matrix would add them up).
        order = np.lexsort((secs, heads, tails))
        tails, heads, secs = tails[order], heads[order], secs[order]
        first = np.ones(len(tails), dtype=bool)
        first[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
        return cls(crs=crs, node_xy=node_xy, tails=tails[first], heads=heads[first],
                   seconds=secs[first], **kw)

    @property
    def node_count(self) -> int:
        return len(self.node_xy)

    def project(self, lonlat: np.ndarray) -> np.ndarray:
        pts = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
        x, y = self._to_xy.transform(pts[:, 0], pts[:, 1])
        return np.column_stack([x, y])

    def snap(self, lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of the main network and the distance to it, in metres."""
        dist, idx = self.tree.query(self.project(lonlat))
        return self.snap_nodes[idx], dist

    def times_to(self, destination: tuple[float, float],
                 limit_seconds: float = np.inf) -> tuple[np.ndarray, float]:
        """Seconds from every node to the destination's node: one reversed Dijkstra."""
        from scipy.sparse.csgraph import dijkstra

        node, dist = self.snap(np.array([destination]))
        times = dijkstra(self.reverse, directed=True, indices=int(node[0]), limit=limit_seconds)
        return times, float(dist[0])

    def eta_seconds(self, origins: np.ndarray, destination: tuple[float, float], *,
                    limit_seconds: float = np.inf) -> np.ndarray:
        """Driving seconds from each origin (lon/lat rows) to the destination.

        Includes the legs between each point and the road at the access speed.
        ``nan`` where an origin or the destination is farther than ``max_snap_m``
        from any road (the caller falls back to straight line); ``inf`` where no
        road leads there (or beyond ``limit_seconds``).
        """
        origins = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
        times, dest_snap = self.times_to(destination, limit_seconds)
        if dest_snap > self.max_snap_m:
            return np.full(len(origins), np.nan)
        nodes, snap = self.snap(origins)
        eta = times[nodes] + (snap + dest_snap) / self.access_mps
        eta[snap > self.max_snap_m] = np.nan
        return eta

    def eta_from(self, origin: tuple[float, float], destinations: np.ndarray, *,
                 limit_seconds: float = np.inf) -> np.ndarray:
        """Driving seconds from one origin (the scene) to each destination (hospitals).

        The mirror of ``eta_seconds``: one forward Dijkstra from the origin's
        node serves every destination. Same ``nan``/``inf`` conventions.
        """
        from scipy.sparse.csgraph import dijkstra

        destinations = np.asarray(destinations, dtype=np.float64).reshape(-1, 2)
        node, dist = self.snap(np.array([origin]))
        if float(dist[0]) > self.max_snap_m:
            return np.full(len(destinations), np.nan)
        times = dijkstra(self.graph, directed=True, indices=int(node[0]), limit=limit_seconds)
        nodes, snap = self.snap(destinations)
        eta = times[nodes] + (snap + float(dist[0])) / self.access_mps
        eta[snap > self.max_snap_m] = np.nan
        return eta

    def eta_naive(self, origins: np.ndarray, destination: tuple[float, float]) -> np.ndarray:
        """The same answer by one forward Dijkstra per origin: the benchmark's baseline."""
        from scipy.sparse.csgraph import dijkstra

        origins = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
        dest_node, dest_snap = self.snap(np.array([destination]))
        nodes, snap = self.snap(origins)
        out = np.empty(len(origins))
        for i, node in enumerate(nodes):
            out[i] = dijkstra(self.graph, directed=True, indices=int(node))[dest_node[0]]
        eta = out + (snap + dest_snap[0]) / self.access_mps
        eta[snap > self.max_snap_m] = np.nan
        return eta

"""Moves available ambulances so the demo map is alive (``coordination simulate-units``).

Each available unit with a station drives station → a populated place within
reach → station, on a slightly bent line, at a steady speed, and reports its
positions through the same service a real tracker's reports go through. All
geometry is done in the data's own UTM zone (``estimate_utm_crs``), never in
degrees.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..clock import wall_now
from ..events import Actor
from ..geo.crs import data_crs
from ..geo.region import BBox
from .models import UnitStatus
from .schemas import PositionIn
from .service import list_units, record_positions

ACTOR = Actor.system("simulator")


@dataclass
class Trip:
    """A unit's path in projected metres and how far along it the unit is."""

    points: list[tuple[float, float]]
    done_m: float = 0.0
    lengths: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lengths = [((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
                        for (x1, y1), (x2, y2) in zip(self.points, self.points[1:], strict=False)]

    @property
    def total(self) -> float:
        return sum(self.lengths)

    def position(self) -> tuple[float, float]:
        left = min(self.done_m, self.total)
        for (x1, y1), (x2, y2), n in zip(self.points, self.points[1:], self.lengths, strict=False):
            if left <= n and n > 0:
                t = left / n
                return x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
            left -= n
        return self.points[-1]


class Simulator:
    def __init__(self, *, region: BBox | None, speed_kmh: float = 60.0, reach_km: float = 30.0,
                 seed: int = 120) -> None:

        from ..geo.places import places_frame

        self.region = region
        self.speed_ms = speed_kmh / 3.6
        self.rng = random.Random(seed)
        places = places_frame()
        if places.empty:
            raise RuntimeError("no populated places: load the demo first (coordination demo-data)")
        self.crs = data_crs(places)
        self.places = places.to_crs(self.crs).centroid
        self.reach_m = reach_km * 1000
        self.trips: dict[int, Trip] = {}

    def _project(self, lon: float, lat: float) -> tuple[float, float]:
        import geopandas as gpd
        from shapely.geometry import Point

        p = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(self.crs).iloc[0]
        return p.x, p.y

    def _plan(self, start: tuple[float, float]) -> Trip:
        from shapely.geometry import Point

        here = Point(start)
        idx = self.places.sindex.query(here.buffer(self.reach_m), predicate="intersects")
        if len(idx) == 0:
            idx = [int(self.places.distance(here).idxmin())]
        target = self.places.iloc[self.rng.choice(list(idx))]
        mid = ((start[0] + target.x) / 2, (start[1] + target.y) / 2)
        dx, dy = target.x - start[0], target.y - start[1]
        bend = self.rng.uniform(-0.15, 0.15)  # roads are never straight
        mid = (mid[0] - dy * bend, mid[1] + dx * bend)
        return Trip([start, mid, (target.x, target.y), mid, start])

    def step(self, seconds: float) -> list[PositionIn]:
        """Advance every available unit by ``seconds`` of driving; the fixes to report."""
        import geopandas as gpd
        from shapely.geometry import Point

        moving = [u for u in list_units(status=UnitStatus.AVAILABLE) if u.lon is not None]
        if not moving:
            return []
        xy = []
        for u in moving:
            trip = self.trips.get(u.id)
            if trip is None or trip.done_m >= trip.total:
                trip = self.trips[u.id] = self._plan(self._project(u.lon, u.lat))  # type: ignore[arg-type]
            trip.done_m += self.speed_ms * seconds
            xy.append(Point(trip.position()))
        lonlat = gpd.GeoSeries(xy, crs=self.crs).to_crs("EPSG:4326")
        now = wall_now()
        return [PositionIn(unit=u.id, lon=round(p.x, 6), lat=round(p.y, 6), at=now,
                           speed_kmh=round(self.speed_ms * 3.6, 1))
                for u, p in zip(moving, lonlat, strict=True)]

    def tick(self, seconds: float) -> int:
        reports = self.step(seconds)
        if reports:
            record_positions(reports=reports, actor=ACTOR, region=self.region)
        return len(reports)


def run(*, region: BBox | None, interval: float, once: bool, max_steps: int,
        time_scale: float, echo: object = print) -> int:
    """Report every ``interval`` seconds until Ctrl-C or ``max_steps``; returns steps run."""
    import time

    sim = Simulator(region=region)
    steps = 0
    try:
        while True:
            started = time.monotonic()
            moved = sim.tick(interval * time_scale)
            steps += 1
            echo(f"{wall_now():%H:%M:%S} moved {moved} units")  # type: ignore[operator]
            if once or steps >= max_steps:
                break
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        echo("stopped")  # type: ignore[operator]
    return steps


__all__ = ["Simulator", "Trip", "run"]

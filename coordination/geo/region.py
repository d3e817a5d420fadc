"""The configured region and the checks every incoming position goes through.

A tracker or an import that sends lat/lon swapped puts a unit in the Indian
Ocean or Kazakhstan; a bounding box of the jurisdiction (Inner Mongolia by
default, ``COORDINATION_REGION_BBOX``) catches that before the row is written,
and tells the sender which mistake it most likely made.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed

# Inner Mongolia: 97°12′–126°04′ E, 37°24′–53°23′ N, with a small margin.
INNER_MONGOLIA = "97.0,37.2,126.3,53.6"


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """``"min_lon,min_lat,max_lon,max_lat"``; raises ValueError with the reason."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 4:
            raise ValueError("must be four numbers: min_lon,min_lat,max_lon,max_lat")
        try:
            box = cls(*(float(p) for p in parts))
        except ValueError:
            raise ValueError("must be four numbers: min_lon,min_lat,max_lon,max_lat") from None
        lons_ok = -180 <= box.min_lon < box.max_lon <= 180
        if not (lons_ok and -90 <= box.min_lat < box.max_lat <= 90):
            raise ValueError("min must be below max, longitudes within ±180, latitudes within ±90")
        return box

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat

    def as_list(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]


def check_position(lon: float, lat: float, region: BBox | None, *, where: str = "") -> None:
    """Refuse a position that cannot be right, naming the likely mistake."""
    prefix = f"{where}: " if where else ""
    in_range = -180 <= lon <= 180 and -90 <= lat <= 90
    inside = in_range and (region is None or region.contains(lon, lat))
    if not inside and region is not None and region.contains(lat, lon):
        raise ValidationFailed(prefix + str(_l(
            "Latitude and longitude look swapped: send lon %(lat)s, lat %(lon)s?",
            lat=lat, lon=lon)))
    if not in_range:
        raise ValidationFailed(prefix + str(_l(
            "Coordinates out of range: longitude must be within ±180 and latitude within ±90.")))
    if inside:
        return
    raise ValidationFailed(prefix + str(_l(
        "The position %(lon)s, %(lat)s is outside the configured region.", lon=lon, lat=lat)))

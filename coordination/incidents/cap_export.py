"""CAP 1.2 out: an incident (or a report upward) as an alert, in the schema's element order.

Parsing and validation live in ``cap.py``; this module writes, and checks what it
wrote against the same XSD before returning it, so nothing invalid leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from .cap import NS, check_rules, parse_xml, validate_schema

_Q = f"{{{NS}}}"


def cap_time(value: datetime) -> str:
    """A CAP time: seconds, an explicit offset, and UTC written -00:00 (never Z)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given; CAP times carry an offset")
    value = value.replace(microsecond=0)
    offset = value.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"
    return value.isoformat()


def _ring_text(coords: list[list[float]] | list[tuple[float, float]]) -> str:
    return " ".join(f"{c[1]:.6f},{c[0]:.6f}" for c in coords)


@dataclass
class CapExport:
    """What an incident contributes to an outgoing alert (filled by the service)."""

    identifier: str
    sender: str
    sent: datetime
    status: str  # Actual for live, Exercise for a drill
    event: str
    headline: str
    description: str
    urgency: str
    severity: str
    certainty: str
    area_description: str
    lon: float
    lat: float
    area: dict[str, Any] | None = None
    effective: datetime | None = None
    msg_type: str = "Alert"
    scope: str = "Restricted"
    restriction: str = "Health-commission command rooms and partner agencies only"
    note: str = ""
    references: list[tuple[str, str, str]] = field(default_factory=list)
    sender_name: str = ""
    contact: str = ""
    language: str = "zh-CN"
    event_codes: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)


def _sub(parent: etree._Element, name: str, text: str | None) -> etree._Element | None:
    if text is None or text == "":
        return None
    el = etree.SubElement(parent, _Q + name)
    el.text = text
    return el


def _pair(parent: etree._Element, name: str, key: str, value: str) -> None:
    el = etree.SubElement(parent, _Q + name)
    _sub(el, "valueName", key)
    _sub(el, "value", value)


def _polygon_rings(area: dict[str, Any]) -> list[list[list[float]]]:
    if area["type"] == "Polygon":
        return [area["coordinates"][0]]
    if area["type"] == "MultiPolygon":
        return [poly[0] for poly in area["coordinates"]]
    return []


def build_cap(x: CapExport) -> bytes:
    """An alert in the schema's element order; validated before it is returned."""
    root = etree.Element(_Q + "alert", nsmap={None: NS})
    _sub(root, "identifier", x.identifier)
    _sub(root, "sender", x.sender)
    _sub(root, "sent", cap_time(x.sent))
    _sub(root, "status", x.status)
    _sub(root, "msgType", x.msg_type)
    _sub(root, "scope", x.scope)
    if x.scope == "Restricted":
        _sub(root, "restriction", x.restriction)
    _sub(root, "note", x.note)
    if x.references:
        _sub(root, "references", " ".join(",".join(r) for r in x.references))
    info = etree.SubElement(root, _Q + "info")
    _sub(info, "language", x.language)
    _sub(info, "category", "Health")
    _sub(info, "event", x.event)
    _sub(info, "urgency", x.urgency)
    _sub(info, "severity", x.severity)
    _sub(info, "certainty", x.certainty)
    for k, v in x.event_codes.items():
        _pair(info, "eventCode", k, v)
    if x.effective is not None:
        _sub(info, "effective", cap_time(x.effective))
    _sub(info, "senderName", x.sender_name)
    _sub(info, "headline", x.headline[:160])
    _sub(info, "description", x.description)
    _sub(info, "contact", x.contact)
    for k, v in x.parameters.items():
        _pair(info, "parameter", k, v)
    area = etree.SubElement(info, _Q + "area")
    _sub(area, "areaDesc", x.area_description or f"{x.lat:.6f},{x.lon:.6f}")
    rings = _polygon_rings(x.area) if x.area else []
    for ring in rings:
        _sub(area, "polygon", _ring_text(ring))
    if not rings:
        _sub(area, "circle", f"{x.lat:.6f},{x.lon:.6f} 0")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    tree = parse_xml(data)
    problems = validate_schema(tree)
    _alert, reasons = check_rules(tree)
    if problems or reasons:  # a bug here, never the user's input
        raise RuntimeError("generated CAP is invalid: " + "; ".join(problems + reasons))
    return data


__all__ = ["CapExport", "build_cap", "cap_time"]

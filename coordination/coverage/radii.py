"""Service radii per facility kind: the configured table and what-if overrides.

The radius is a planning norm (服务半径30公里 in the health commissions' plans)
that changes once in years and applies to the whole deployment, so it is a
setting (``COORDINATION_COVERAGE_RADIUS_KM``, a JSON object kind -> km) kept
with the rest of the deployment's configuration, not a table: no migration,
no drift between processes, and the value in force is visible in one place.
Planners explore other radii in the view itself (``?radius_ems_station=20``)
without changing what everyone else sees.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed

MAX_RADIUS_KM = 300.0
QUERY_PREFIX = "radius_"


def _kinds() -> frozenset[str]:
    from ..facilities.models import FacilityKind

    return frozenset(k.value for k in FacilityKind)


def check_radii(value: Mapping[str, float]) -> dict[str, float]:
    """Validate a kind -> km table (for the setting); raises ValueError naming the fault."""
    known = _kinds()
    out: dict[str, float] = {}
    for kind, km in value.items():
        if kind not in known:
            raise ValueError(f"unknown facility kind {kind!r} (known: {', '.join(sorted(known))})")
        km = float(km)
        if not 0 < km <= MAX_RADIUS_KM:
            raise ValueError(f"radius of {kind} must be above 0 and at most {MAX_RADIUS_KM:g} km")
        out[kind] = km
    if not out:
        raise ValueError("name at least one facility kind")
    return out


def with_overrides(base: Mapping[str, float], args: Mapping[str, str]) -> dict[str, float]:
    """The configured radii with ``radius_<kind>=<km>`` query parameters applied.

    ``radius_<kind>=0`` leaves that kind out of the what-if; a kind that is not
    configured can be added. Bad values raise ValidationFailed (400).
    """
    known = _kinds()
    out = dict(base)
    for name, raw in args.items():
        if not name.startswith(QUERY_PREFIX):
            continue
        kind = name[len(QUERY_PREFIX):]
        if kind not in known:
            raise ValidationFailed(_l("Unknown facility kind: %(kind)s", kind=kind))
        try:
            km = float(raw)
        except ValueError:
            km = float("nan")
        if not 0 <= km <= MAX_RADIUS_KM:  # also false for NaN
            limit = f"{MAX_RADIUS_KM:g}"
            raise ValidationFailed(_l("A radius is a number of kilometres from 0 to %(max)s.",
                                      max=limit))
        if km == 0:
            out.pop(kind, None)
        else:
            out[kind] = km
    if not out:
        raise ValidationFailed(_l("Keep a radius above 0 for at least one kind of centre."))
    return out

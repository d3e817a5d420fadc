"""The logistics dashboard and the map's depot markers: per-depot figures of the gap report.

Aggregated straight from the report's arrays (no per-row dictionaries, no fill),
so it stays cheap however many items the depots hold.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..extensions import db
from ..gcpause import collector_paused
from .cache import cached
from .common import now_in
from .gaps import GapOptions, expiring_lots, figures, lookups


def dashboard(*, options: GapOptions | None = None, context: str = LIVE,
              fresh: bool = False) -> dict[str, Any]:
    """Per-depot figures for the logistics dashboard and the map's depot markers."""
    options = options or GapOptions()
    with db.reading() as s, collector_paused():
        if fresh:
            return _dashboard(s, context, options, fresh=True)
        return cached(s, "dashboard", context, options,
                       lambda: _dashboard(s, context, options))


def _dashboard(s: Session, context: str, options: GapOptions, *,
               fresh: bool = False) -> dict[str, Any]:
    now = now_in(s, context)
    today = now.date()
    f = figures(s, context, today, now - timedelta(days=options.window_days), options,
                fresh=fresh)
    depots, items = lookups(s, context)
    expiring = expiring_lots(f, today, depots, items)
    ids = sorted(depots, key=lambda d: depots[d][1])
    index = {d: n for n, d in enumerate(ids)}
    at = np.array([index[d] for d in f.depot_id.tolist()], dtype=np.int64)
    size = len(ids)
    critical = np.array([bool(items[i][5]) for i in f.item_id.tolist()], dtype=bool)
    short = f.shortfall > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        running_out = (f.burn > 0) & (f.available / np.where(f.burn > 0, f.burn, 1)
                                      < options.warn_days)

    def per(values: np.ndarray) -> list[int]:
        return np.bincount(at, weights=values, minlength=size).astype(np.int64).tolist()

    counts = {name: per(v) for name, v in (
        ("items", np.ones(len(at))), ("on_hand", f.on_hand), ("in_transit", f.in_transit),
        ("below_target", short), ("critical_below_target", short & critical),
        ("shortfall", f.shortfall), ("warnings", running_out))}
    by_code = {depots[d][1]: n for n, d in enumerate(ids)}
    for w in expiring:
        counts["warnings"][by_code[w["depot"]]] += 1
    rows = [{"depot": depots[d][1], "name_zh": depots[d][2], "name_en": depots[d][3],
             "lon": depots[d][4], "lat": depots[d][5],
             **{name: values[n] for name, values in counts.items()}}
            for n, d in enumerate(ids)]
    return {"generated_at": now.isoformat(),
            "totals": {"shortfall": int(f.shortfall.sum()), "rows_short": int(short.sum()),
                       "depots_below_target": sum(1 for r in rows if r["below_target"])},
            "depots": rows,
            "warnings": sorted(expiring, key=lambda w: w["expiry"])[:50]}

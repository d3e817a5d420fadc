"""The gap report (填平补齐): what each depot holds against its reserve target, and what fills it.

For every depot and item: on hand, expired, reserved, available, in transit,
the effective target, the shortfall, and the fill — transfers from depots
above their own target first (greedy, nearest first, distances in metres in
the data's UTM zone), then purchases. Burn rate is issues per day over a
window (default 30 days) read from the ledger; it turns days-of-cover targets
into quantities, gives days of supply, and flags fast-consumed items whose
issues in the window exceed a share of their target.

Everything is read with a handful of grouped queries over the balance table
(O(depots × items × lots), independent of the ledger's length) plus one
indexed range scan of the window's issues, so the report stays fast on a
ledger of millions of entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..extensions import db
from ..gcpause import collector_paused
from ..geo.crs import data_crs
from . import parts
from .cache import cached
from .common import now_in
from .models import (
    Balance,
    Depot,
    Item,
    Lot,
    Reservation,
    ReservationStatus,
    ResponseLevel,
    TargetMode,
    Transfer,
    TransferStatus,
)
from .parts import STRIDE, int_sum, packed, table


@dataclass(frozen=True)
class GapOptions:
    """Knobs of the report; the defaults are the documents' and OpenLMIS's usual ones."""

    level: ResponseLevel = ResponseLevel.ANY
    window_days: int = 30
    warn_days: int = 30
    fast_share: float = 0.5  # issues in the window above this share of the target: fast


@dataclass(frozen=True)
class GapFilter:
    """Which rows of the report a screen or a download shows.

    The figures, the fill and the totals stay the whole report's (a shortfall is
    filled from every depot's surplus, whichever rows are shown); the filter only
    picks rows, and warnings of the depots, items and categories it keeps.
    """

    depot: str | None = None
    item: str | None = None
    category: str | None = None
    short_only: bool = False
    critical_only: bool = False

    def keeps(self, row: dict[str, Any]) -> bool:
        return self.keeps_pair(row) and (not self.short_only or row["shortfall"] > 0)

    def keeps_pair(self, row: dict[str, Any]) -> bool:
        return ((self.depot is None or row["depot"] == self.depot)
                and (self.item is None or row["item"] == self.item)
                and (self.category is None or row["category"] == self.category)
                and (not self.critical_only or row["critical"]))


def filtered(report: dict[str, Any], keep: GapFilter) -> dict[str, Any]:
    """The report with the rows and warnings ``keep`` shows (a new dict: the cached one
    is shared)."""
    if keep == GapFilter():
        return report
    pairs = {(r["depot"], r["item"]) for r in report["rows"] if keep.keeps_pair(r)}
    return {**report, "rows": [r for r in report["rows"] if keep.keeps(r)],
            "warnings": [w for w in report["warnings"] if (w["depot"], w["item"]) in pairs]}


def paged(report: dict[str, Any], page: int, per_page: int) -> dict[str, Any]:
    """One page of the report's rows; the totals, the fill, the figures and the warnings
    (running out, expiring: few, and each one wanted) stay the whole filtered report's.
    A province's report is 25,000 rows: an unpaged answer was 12.8 MB (issue 19)."""
    total = len(report["rows"])
    pages = max(1, -(-total // per_page))
    rows = report["rows"][(page - 1) * per_page:page * per_page]
    return {**report, "rows": rows, "page": page, "pages": pages, "per_page": per_page,
            "rows_matching": total}


def filter_choices(report: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The depots and items a report's filter can pick, in code order, with their names."""
    depots: dict[str, dict[str, str]] = {}
    items: dict[str, dict[str, str]] = {}
    for r in report["rows"]:
        if r["depot"] not in depots:
            depots[r["depot"]] = {"code": r["depot"], "name_zh": r["depot_name_zh"],
                                  "name_en": r["depot_name_en"]}
        if r["item"] not in items:
            items[r["item"]] = {"code": r["item"], "name_zh": r["item_name_zh"],
                                "name_en": r["item_name_en"]}
    return {"depots": sorted(depots.values(), key=lambda d: d["code"]),
            "items": sorted(items.values(), key=lambda i: i["code"])}


@dataclass(frozen=True)
class _Neighbours:
    """Each depot's view of the others: computed once per set of depots, not per report."""

    km: dict[tuple[int, int], float]  # rounded to 0.1 km, as the report shows it
    nearest: dict[int, list[int]]  # the other depots, nearest first (ties by code)


@lru_cache(maxsize=32)
def _neighbours(points: tuple[tuple[int, str, float, float], ...]) -> _Neighbours:
    """Distances in the UTM zone the depots lie in, from (id, code, lon, lat) per depot."""
    if not points:
        return _Neighbours(km={}, nearest={})
    ids = [p[0] for p in points]
    code = {p[0]: p[1] for p in points}
    series = gpd.GeoSeries(gpd.points_from_xy([p[2] for p in points], [p[3] for p in points]),
                           crs="EPSG:4326")
    projected = series.to_crs(data_crs(series))
    xy = np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])
    diff = xy[:, None, :] - xy[None, :, :]
    km = np.sqrt((diff ** 2).sum(axis=2)) / 1000.0
    exact = {(a, b): float(km[i, j]) for i, a in enumerate(ids) for j, b in enumerate(ids)}
    nearest = {here: [d for d in sorted(ids, key=lambda d, h=here: (exact[(h, d)], code[d]))  # type: ignore[misc]
                      if d != here] for here in ids}
    return _Neighbours(km={pair: _round1(v) for pair, v in exact.items()}, nearest=nearest)


@dataclass
class _Figures:
    """Every (depot, item) pair's figures as parallel arrays, computed without Python loops.

    ``lots`` holds the balances of lots expiring within the warning horizon (depot,
    item, lot, quantity) and ``lot_info`` those lots' numbers and expiry dates: the
    expired quantities and the expiry warnings both come from this one read.
    """

    depot_id: np.ndarray
    item_id: np.ndarray
    on_hand: np.ndarray
    expired: np.ndarray
    reserved: np.ndarray
    in_transit: np.ndarray
    issued: np.ndarray
    has_target: np.ndarray
    by_days: np.ndarray
    target_days: np.ndarray
    target: np.ndarray
    burn: np.ndarray
    available: np.ndarray
    shortfall: np.ndarray
    free: np.ndarray
    fast: np.ndarray
    lots: np.ndarray
    lot_info: dict[int, tuple[str, date]]


def _expiring(s: Session, context: str, horizon: date
              ) -> tuple[np.ndarray, dict[int, tuple[str, date]]]:
    """Balances (depot, item, lot, quantity > 0) of lots expiring by ``horizon``, and those lots."""
    soon = (Lot.context == context, Lot.expiry.is_not(None), Lot.expiry <= horizon)
    info = {lot_id: (number, expiry) for lot_id, number, expiry in
            s.execute(select(Lot.id, Lot.lot_number, Lot.expiry).where(*soon))
            if expiry is not None}
    if not info:
        return np.zeros((0, 4), dtype=np.int64), info
    rows = table(s, select(Balance.depot_id, Balance.item_id, Balance.lot_id, Balance.quantity)
                  .where(Balance.context == context, Balance.quantity > 0,
                         Balance.lot_id.in_(select(Lot.id).where(*soon))), 4)
    return rows, info


def figures(s: Session, context: str, today: date, since: datetime,
            options: GapOptions, *, fresh: bool = False) -> _Figures:
    sums = parts.current(s, context, since, options.window_days, options.level, fresh=fresh)
    # The expired part from the few lots near or past expiry: joining every balance
    # row to its lot cost four times the on-hand scan itself.
    lots, lot_info = _expiring(s, context, today + timedelta(days=options.warn_days))
    gone = np.array([lot_info[lot][1] < today for lot in lots[:, 2].tolist()], dtype=bool)
    expired_rows = parts.summed(lots[gone, 0] * STRIDE + lots[gone, 1], lots[gone, 3])
    res = table(s, select(packed(Reservation.depot_id, Reservation.item_id),
                          int_sum(Reservation.quantity))
                .where(Reservation.context == context,
                       Reservation.status == ReservationStatus.ACTIVE.value)
                .group_by(Reservation.depot_id, Reservation.item_id), 2)
    transit = table(s, select(packed(Transfer.to_depot_id, Transfer.item_id),
                              int_sum(Transfer.quantity))
                    .where(Transfer.context == context,
                           Transfer.status == TransferStatus.IN_TRANSIT.value)
                    .group_by(Transfer.to_depot_id, Transfer.item_id), 2)
    # The general target first, then the level's own over it.
    targets = sums.targets[np.argsort(sums.targets[:, 1] >> 1, kind="stable")]
    keys = np.unique(np.concatenate([p[:, 0] for p in (
        sums.on_hand, expired_rows, res, transit, sums.issued, targets)]))
    n = len(keys)

    def column(part: np.ndarray, col: int = 1) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        if len(part):
            out[np.searchsorted(keys, part[:, 0])] = part[:, col]
        return out

    has_target = np.zeros(n, dtype=bool)
    if len(targets):
        has_target[np.searchsorted(keys, targets[:, 0])] = True
    flags, measure = column(targets, 1), column(targets, 2)
    by_days = (flags & 1).astype(bool)
    on_hand, expired = column(sums.on_hand), column(expired_rows)
    reserved, in_transit, issued = column(res), column(transit), -column(sums.issued)
    target_days = np.where(by_days, measure, 0)
    burn = issued / options.window_days
    target = np.where(by_days, np.ceil(burn * target_days - 1e-9).astype(np.int64), measure)
    target = np.where(has_target, target, 0)
    available = np.maximum(on_hand - expired - reserved, 0)
    shortfall = np.where(has_target, np.maximum(target - available - in_transit, 0), 0)
    fast = has_target & ~by_days & (target > 0) & (issued > options.fast_share * target)
    return _Figures(
        depot_id=keys // STRIDE, item_id=keys % STRIDE, on_hand=on_hand, expired=expired,
        reserved=reserved, in_transit=in_transit, issued=issued, has_target=has_target,
        by_days=by_days, target_days=target_days, target=target, burn=burn,
        available=available, shortfall=shortfall, free=available - target, fast=fast,
        lots=lots, lot_info=lot_info,
    )


def _round1(value: float) -> float:
    return math.floor(value * 10 + 0.5) / 10


def _masked(values: np.ndarray, mask: np.ndarray) -> list[Any]:
    """Values as Python scalars, None where the mask is off."""
    return [v if m else None for v, m in zip(values.tolist(), mask.tolist(), strict=True)]


def _round1_array(values: np.ndarray) -> np.ndarray:
    return np.floor(values * 10 + 0.5) / 10


def lookups(s: Session, context: str) -> tuple[dict[int, Any], dict[int, Any]]:
    depots = {r[0]: r for r in s.execute(select(Depot.id, Depot.code, Depot.name_zh,
                                                Depot.name_en, Depot.lon, Depot.lat)
                                         .where(Depot.context == context))}
    items = {r[0]: r for r in s.execute(select(Item.id, Item.code, Item.name_zh, Item.name_en,
                                               Item.unit, Item.critical, Item.category)
                                        .where(Item.context == context))}
    return depots, items


def _ranks(f: _Figures, depots: dict[int, Any], items: dict[int, Any]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's depot and item rank by code, so rows sort by codes with numpy alone."""
    d_rank = {d: n for n, d in enumerate(sorted(depots, key=lambda d: depots[d][1]))}
    i_rank = {i: n for n, i in enumerate(sorted(items, key=lambda i: items[i][1]))}
    return (np.array([d_rank[d] for d in f.depot_id.tolist()], dtype=np.int64),
            np.array([i_rank[i] for i in f.item_id.tolist()], dtype=np.int64))


def compute(s: Session, context: str, options: GapOptions, *,
            fresh: bool = False) -> dict[str, Any]:
    """The report as plain data (the API's JSON, the exports' rows)."""
    now = now_in(s, context)
    today = now.date()
    f = figures(s, context, today, now - timedelta(days=options.window_days), options,
                fresh=fresh)
    depots, items = lookups(s, context)
    depot_rank, item_rank = _ranks(f, depots, items)
    order = np.lexsort((item_rank, depot_rank))  # depot code, then item code
    burn = f.burn[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        supply = np.where(burn > 0, _round1_array(f.available[order] / burn), np.nan)
    suggested = np.ceil(f.issued[order] / options.fast_share).astype(np.int64)
    quantity, days = TargetMode.QUANTITY.value, TargetMode.DAYS.value
    # Column by column (numpy where it can), then one dict per row: a per-row loop with
    # its branches cost as much as all the SQL.
    d_rows = [depots[d] for d in f.depot_id[order].tolist()]
    i_rows = [items[i] for i in f.item_id[order].tolist()]
    has_target, by_days = f.has_target[order], f.by_days[order]
    fast = f.fast[order]
    supply_list = [None if v != v else v for v in supply.tolist()]  # NaN: no burn
    # A dict display with its keys written out builds each row a fifth faster than
    # dict(zip(keys, values)) (one constant-key map per row, no zip object).
    rows: list[dict[str, Any]] = [
        {"depot": d[1], "depot_name_zh": d[2], "depot_name_en": d[3], "item": i[1],
         "item_name_zh": i[2], "item_name_en": i[3], "unit": i[4], "critical": bool(i[5]),
         "category": i[6], "on_hand": on_hand, "expired": expired, "reserved": reserved,
         "available": available, "in_transit": in_transit, "target": target,
         "target_mode": mode, "target_days": target_days, "issued_in_window": issued,
         "burn_per_day": burn_per_day, "days_of_supply": supply_days, "shortfall": shortfall,
         "fill_transfers": [], "fill_purchase": 0, "fast_moving": is_fast,
         "suggested_target": suggestion}
        for (d, i, on_hand, expired, reserved, available, in_transit, target, mode,
             target_days, issued, burn_per_day, supply_days, shortfall, is_fast, suggestion)
        in zip(d_rows, i_rows, f.on_hand[order].tolist(), f.expired[order].tolist(),
               f.reserved[order].tolist(), f.available[order].tolist(),
               f.in_transit[order].tolist(), _masked(f.target[order], has_target),
               _masked(np.where(by_days, days, quantity), has_target),
               _masked(f.target_days[order], has_target & by_days), f.issued[order].tolist(),
               _round1_array(burn).tolist(), supply_list, f.shortfall[order].tolist(),
               fast.tolist(), _masked(suggested, fast), strict=True)]
    with np.errstate(invalid="ignore"):
        running_out = np.nonzero(supply < options.warn_days)[0].tolist()
    warnings: list[dict[str, Any]] = [
        {"kind": "running_out", "depot": rows[n]["depot"], "item": rows[n]["item"],
         "days_of_supply": rows[n]["days_of_supply"], "available": rows[n]["available"]}
        for n in running_out]
    to_transfer, to_purchase = _fill(f, order, rows, depots, depot_rank[order],
                                     item_rank[order])
    warnings.extend(expiring_lots(f, today, depots, items))
    warnings.sort(key=lambda w: (w["kind"], w["depot"], w["item"], w.get("lot") or ""))
    return {
        "generated_at": now.isoformat(), "level": options.level.value or None,
        "window_days": options.window_days, "warn_days": options.warn_days,
        "fast_share": options.fast_share, "rows": rows, "rows_total": len(rows),
        "warnings": warnings,
        "totals": {"shortfall": int(f.shortfall.sum()), "to_transfer": to_transfer,
                   "to_purchase": to_purchase, "rows_short": int((f.shortfall > 0).sum())},
    }


def _fill(f: _Figures, order: np.ndarray, rows: list[dict[str, Any]],
          depots: dict[int, Any], depot_rank: np.ndarray,
          item_rank: np.ndarray) -> tuple[int, int]:
    """Greedy: each shortfall (by item code, largest first) takes from the nearest surpluses.

    A donor gives only what it holds above its own target (all of it when it has none),
    so filling one depot never opens a gap in another. Returns the quantities to
    transfer and to purchase. ``order`` gives the rows' pairs; the ranks are in row order.
    """
    shortfall = f.shortfall[order]
    short = np.nonzero(shortfall > 0)[0]
    if not len(short):
        return 0, 0
    near = _neighbours(tuple(sorted((i, r[1], r[4], r[5]) for i, r in depots.items())))
    free = f.free[order]
    item_ids, depot_ids = f.item_id[order].tolist(), f.depot_id[order].tolist()
    surplus: dict[int, dict[int, int]] = {}
    for n in np.nonzero(free > 0)[0].tolist():
        surplus.setdefault(item_ids[n], {})[depot_ids[n]] = int(free[n])
    codes = {d: r[1] for d, r in depots.items()}
    todo = short[np.lexsort((depot_rank[short], -shortfall[short], item_rank[short]))]
    needs = shortfall.tolist()
    to_transfer = to_purchase = 0
    for n in todo.tolist():
        need = needs[n]
        donors = surplus.get(item_ids[n])
        if donors:
            here = depot_ids[n]
            transfers = rows[n]["fill_transfers"]
            for donor in near.nearest[here]:
                give = donors.get(donor)
                if give is None:
                    continue
                take = need if need < give else give
                if give > take:
                    donors[donor] = give - take
                else:
                    del donors[donor]  # exhausted donors drop out of later searches
                need -= take
                to_transfer += take
                transfers.append({"from": codes[donor], "quantity": take,
                                  "distance_km": near.km[(here, donor)]})
                if need == 0 or not donors:
                    break
        rows[n]["fill_purchase"] = need
        to_purchase += need
    return to_transfer, to_purchase


def expiring_lots(f: _Figures, today: date, depots: dict[int, Any],
                  items: dict[int, Any]) -> list[dict[str, Any]]:
    """Warnings for lots past or near expiry that still hold stock."""
    out = []
    for depot_id, item_id, lot_id, qty in f.lots.tolist():
        number, expiry = f.lot_info[lot_id]
        out.append({"kind": "expired" if expiry < today else "expiring",
                    "depot": depots[depot_id][1], "item": items[item_id][1], "lot": number,
                    "expiry": expiry.isoformat(), "quantity": qty,
                    "days_left": (expiry - today).days})
    return out


def gap_report(*, options: GapOptions | None = None, context: str = LIVE,
               fresh: bool = False) -> dict[str, Any]:
    """The gap report for every depot and item (``GET /api/stock/gaps``).

    ``fresh`` computes it from scratch, skipping the cached report and the kept
    per-pair sums (the benchmark's cold figure).
    """
    options = options or GapOptions()
    with db.reading() as s, collector_paused():
        if fresh:
            return compute(s, context, options, fresh=True)
        return cached(s, "gaps", context, options, lambda: compute(s, context, options))

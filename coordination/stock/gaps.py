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
from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..extensions import db
from .cache import cached
from .common import now_in
from .models import (
    Balance,
    Depot,
    EntryKind,
    Item,
    LedgerEntry,
    Lot,
    Reservation,
    ReservationStatus,
    ResponseLevel,
    Target,
    TargetMode,
    Transfer,
    TransferStatus,
)


@dataclass(frozen=True)
class GapOptions:
    """Knobs of the report; the defaults are the documents' and OpenLMIS's usual ones."""

    level: ResponseLevel = ResponseLevel.ANY
    window_days: int = 30
    warn_days: int = 30
    fast_share: float = 0.5  # issues in the window above this share of the target: fast


@lru_cache(maxsize=32)
def _distances(points: tuple[tuple[int, float, float], ...]) -> dict[tuple[int, int], float]:
    """Pairwise depot distances in km, computed in the UTM zone the depots lie in."""
    if not points:
        return {}
    ids = [p[0] for p in points]
    series = gpd.GeoSeries(gpd.points_from_xy([p[1] for p in points], [p[2] for p in points]),
                           crs="EPSG:4326")
    projected = series.to_crs(series.estimate_utm_crs())
    xy = np.column_stack([projected.x.to_numpy(), projected.y.to_numpy()])
    diff = xy[:, None, :] - xy[None, :, :]
    km = np.sqrt((diff ** 2).sum(axis=2)) / 1000.0
    return {(a, b): float(km[i, j]) for i, a in enumerate(ids) for j, b in enumerate(ids)}


def depot_distances(depots: list[tuple[int, float, float]]) -> dict[tuple[int, int], float]:
    return _distances(tuple(sorted(depots)))


def _table(s: Session, stmt: Any, width: int) -> np.ndarray:
    """A grouped query's rows as one int64 array (None read as 0).

    Core execution on the session's connection, rows read straight from the DBAPI
    cursor: the ORM's (and even Core's) row processing would cost more than the
    query itself on tens of thousands of grouped rows. Only integers are selected,
    so no result processing is skipped that matters.
    """
    result = s.connection().execute(stmt)
    try:
        # The driver's own rows: building a Row object per grouped row cost more than the
        # query (profiled: ~60% of a fresh report on a million-entry ledger).
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    if not rows:
        return np.zeros((0, width), dtype=np.int64)
    try:
        return np.array(rows, dtype=np.int64).reshape(-1, width)
    except TypeError:  # a NULL somewhere (e.g. a target's unused measure)
        return np.array([tuple(v or 0 for v in r) for r in rows],
                        dtype=np.int64).reshape(-1, width)


@dataclass
class _Figures:
    """Every (depot, item) pair's figures as parallel arrays, computed without Python loops."""

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


def figures(s: Session, context: str, today: date, since: datetime,
             options: GapOptions) -> _Figures:
    # On hand from the balance table alone, and the expired part from the few lots that
    # have expired: joining every balance row to its lot cost four times the scan itself.
    on_hand_rows = _table(s, select(Balance.depot_id, Balance.item_id, func.sum(Balance.quantity))
                          .where(Balance.context == context)
                          .group_by(Balance.depot_id, Balance.item_id), 3)
    expired_lots = select(Lot.id).where(Lot.context == context, Lot.expiry.is_not(None),
                                        Lot.expiry < today)
    expired_rows = _table(s, select(Balance.depot_id, Balance.item_id, func.sum(Balance.quantity))
                          .where(Balance.context == context, Balance.lot_id.in_(expired_lots))
                          .group_by(Balance.depot_id, Balance.item_id), 3)
    res = _table(s, select(Reservation.depot_id, Reservation.item_id,
                           func.sum(Reservation.quantity))
                 .where(Reservation.context == context,
                        Reservation.status == ReservationStatus.ACTIVE.value)
                 .group_by(Reservation.depot_id, Reservation.item_id), 3)
    transit = _table(s, select(Transfer.to_depot_id, Transfer.item_id,
                               func.sum(Transfer.quantity))
                     .where(Transfer.context == context,
                            Transfer.status == TransferStatus.IN_TRANSIT.value)
                     .group_by(Transfer.to_depot_id, Transfer.item_id), 3)
    # Grouping by ``depot_id + 0`` (not the bare columns) stops SQLite from walking the
    # stock-card index in group order over the whole ledger; it then range-scans the
    # covering burn index over the window alone (1.3 s -> 40 ms on a million entries).
    zero = literal_column("0")
    d_key, i_key = LedgerEntry.depot_id + zero, LedgerEntry.item_id + zero
    issues = _table(s, select(d_key, i_key, func.sum(LedgerEntry.quantity))
                    .where(LedgerEntry.context == context,
                           LedgerEntry.kind == EntryKind.ISSUE.value,
                           LedgerEntry.occurred_at >= since)
                    .group_by(d_key, i_key), 3)
    levels = [ResponseLevel.ANY.value]
    if options.level is not ResponseLevel.ANY:
        levels.append(options.level.value)
    specific = case((Target.level == ResponseLevel.ANY.value, 0), else_=1)
    by_days_q = case((Target.mode == TargetMode.DAYS.value, 1), else_=0)
    targets = _table(s, select(Target.depot_id, Target.item_id, specific, by_days_q,
                               func.coalesce(Target.quantity, 0), func.coalesce(Target.days, 0))
                     .where(Target.context == context, Target.level.in_(levels)), 6)
    # The general target first, then the level's own over it.
    targets = targets[np.argsort(targets[:, 2], kind="stable")]

    stride = np.int64(1 << 32)
    parts = [on_hand_rows, expired_rows, res, transit, issues, targets]
    keys = np.unique(np.concatenate([p[:, 0] * stride + p[:, 1] for p in parts]))
    n = len(keys)

    def column(part: np.ndarray, col: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.int64)
        if len(part):
            out[np.searchsorted(keys, part[:, 0] * stride + part[:, 1])] = part[:, col]
        return out

    has_target = np.zeros(n, dtype=bool)
    if len(targets):
        has_target[np.searchsorted(keys, targets[:, 0] * stride + targets[:, 1])] = True
    by_days = column(targets, 3).astype(bool)
    on_hand, expired = column(on_hand_rows, 2), column(expired_rows, 2)
    reserved, in_transit, issued = column(res, 2), column(transit, 2), -column(issues, 2)
    target_days = column(targets, 5)
    burn = issued / options.window_days
    target = np.where(by_days, np.ceil(burn * target_days - 1e-9).astype(np.int64),
                      column(targets, 4))
    target = np.where(has_target, target, 0)
    available = np.maximum(on_hand - expired - reserved, 0)
    shortfall = np.where(has_target, np.maximum(target - available - in_transit, 0), 0)
    fast = has_target & ~by_days & (target > 0) & (issued > options.fast_share * target)
    return _Figures(
        depot_id=keys // stride, item_id=keys % stride, on_hand=on_hand, expired=expired,
        reserved=reserved, in_transit=in_transit, issued=issued, has_target=has_target,
        by_days=by_days, target_days=target_days, target=target, burn=burn,
        available=available, shortfall=shortfall, free=available - target, fast=fast,
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


def _order(f: _Figures, depots: dict[int, Any], items: dict[int, Any]) -> np.ndarray:
    """Row order: depot code, then item code."""
    d_rank = {d: n for n, d in enumerate(sorted(depots, key=lambda d: depots[d][1]))}
    i_rank = {i: n for n, i in enumerate(sorted(items, key=lambda i: items[i][1]))}
    return np.lexsort((np.array([i_rank[i] for i in f.item_id.tolist()], dtype=np.int64),
                       np.array([d_rank[d] for d in f.depot_id.tolist()], dtype=np.int64)))


ROW_KEYS = (
    "depot", "depot_name_zh", "depot_name_en", "item", "item_name_zh", "item_name_en", "unit",
    "critical", "category", "on_hand", "expired", "reserved", "available", "in_transit",
    "target", "target_mode", "target_days", "issued_in_window", "burn_per_day",
    "days_of_supply", "shortfall", "fill_transfers", "fill_purchase", "fast_moving",
    "suggested_target",
)


def compute(s: Session, context: str, options: GapOptions) -> dict[str, Any]:
    """The report as plain data (the API's JSON, the exports' rows)."""
    now = now_in(s, context)
    today = now.date()
    f = figures(s, context, today, now - timedelta(days=options.window_days), options)
    depots, items = lookups(s, context)
    order = _order(f, depots, items)
    burn = f.burn[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        supply = np.where(burn > 0, _round1_array(f.available[order] / burn), np.nan)
    suggested = np.ceil(f.issued[order] / options.fast_share).astype(np.int64)
    quantity, days = TargetMode.QUANTITY.value, TargetMode.DAYS.value
    # Column by column (numpy where it can, one list comprehension each where it cannot),
    # then one dict per row: a per-row loop with its branches cost as much as all the SQL.
    d_rows = [depots[d] for d in f.depot_id[order].tolist()]
    i_rows = [items[i] for i in f.item_id[order].tolist()]
    has_target, by_days = f.has_target[order], f.by_days[order]
    fast = f.fast[order]
    supply_list = [None if v != v else v for v in supply.tolist()]  # NaN: no burn
    columns = (
        [d[1] for d in d_rows], [d[2] for d in d_rows], [d[3] for d in d_rows],
        [i[1] for i in i_rows], [i[2] for i in i_rows], [i[3] for i in i_rows],
        [i[4] for i in i_rows], [bool(i[5]) for i in i_rows], [i[6] for i in i_rows],
        f.on_hand[order].tolist(), f.expired[order].tolist(), f.reserved[order].tolist(),
        f.available[order].tolist(), f.in_transit[order].tolist(),
        _masked(f.target[order], has_target),
        _masked(np.where(by_days, days, quantity), has_target),
        _masked(f.target_days[order], has_target & by_days),
        f.issued[order].tolist(), _round1_array(burn).tolist(), supply_list,
        f.shortfall[order].tolist(), [[] for _ in d_rows], [0] * len(d_rows),
        fast.tolist(), _masked(suggested, fast),
    )
    rows: list[dict[str, Any]] = [dict(zip(ROW_KEYS, values, strict=True))
                                  for values in zip(*columns, strict=True)]
    with np.errstate(invalid="ignore"):
        running_out = np.nonzero(supply < options.warn_days)[0].tolist()
    warnings: list[dict[str, Any]] = [
        {"kind": "running_out", "depot": rows[n]["depot"], "item": rows[n]["item"],
         "days_of_supply": rows[n]["days_of_supply"], "available": rows[n]["available"]}
        for n in running_out]
    _fill(f, order, rows, depots)
    warnings.extend(expiring_lots(s, context, today, options.warn_days, depots, items))
    warnings.sort(key=lambda w: (w["kind"], w["depot"], w["item"], w.get("lot") or ""))
    return {
        "generated_at": now.isoformat(), "level": options.level.value or None,
        "window_days": options.window_days, "warn_days": options.warn_days,
        "fast_share": options.fast_share, "rows": rows, "warnings": warnings,
        "totals": {"shortfall": int(f.shortfall.sum()),
                   "to_transfer": sum(t["quantity"] for r in rows for t in r["fill_transfers"]),
                   "to_purchase": sum(r["fill_purchase"] for r in rows),
                   "rows_short": int((f.shortfall > 0).sum())},
    }


def _fill(f: _Figures, order: np.ndarray, rows: list[dict[str, Any]],
          depots: dict[int, Any]) -> None:
    """Greedy: each shortfall (by item code, largest first) takes from the nearest surpluses.

    A donor gives only what it holds above its own target (all of it when it has none),
    so filling one depot never opens a gap in another.
    """
    short = np.nonzero(f.shortfall[order] > 0)[0]
    if not len(short):
        return
    dist = depot_distances([(i, r[4], r[5]) for i, r in depots.items()])
    free = f.free[order]
    item_ids, depot_ids = f.item_id[order], f.depot_id[order]
    surplus: dict[int, dict[int, int]] = {}
    for n in np.nonzero(free > 0)[0].tolist():
        surplus.setdefault(int(item_ids[n]), {})[int(depot_ids[n])] = int(free[n])
    # Each depot's view of the others, nearest first (ties by code), computed once; a
    # shortfall walks it until it is filled, so the nearest donors are found without
    # sorting the donors again for every row (profiled: a third of a fresh report).
    nearest: dict[int, list[int]] = {
        here: [d for d in sorted(depots, key=lambda d, h=here: (dist[(h, d)], depots[d][1]))
               if d != here] for here in depots}
    todo = sorted(short.tolist(), key=lambda n: (rows[n]["item"], -rows[n]["shortfall"],
                                                 rows[n]["depot"]))
    for n in todo:
        row = rows[n]
        need = row["shortfall"]
        donors = surplus.get(int(item_ids[n]))
        if donors:
            here = int(depot_ids[n])
            for donor in nearest[here]:
                if not donors:
                    break
                if donor not in donors:
                    continue
                take = min(need, donors[donor])
                left = donors[donor] - take
                if left:
                    donors[donor] = left
                else:
                    del donors[donor]  # exhausted donors drop out of later searches
                need -= take
                row["fill_transfers"].append({"from": depots[donor][1], "quantity": take,
                                              "distance_km": _round1(dist[(here, donor)])})
                if need == 0:
                    break
        row["fill_purchase"] = need


def expiring_lots(s: Session, context: str, today: date, days: int, depots: dict[int, Any],
              items: dict[int, Any]) -> list[dict[str, Any]]:
    horizon = today + timedelta(days=days)
    out = []
    for depot_id, item_id, number, expiry, qty in s.execute(
        select(Balance.depot_id, Balance.item_id, Lot.lot_number, Lot.expiry, Balance.quantity)
        .join(Lot, Lot.id == Balance.lot_id)
        .where(Balance.context == context, Balance.quantity > 0, Lot.expiry.is_not(None),
               Lot.expiry <= horizon)
    ):
        out.append({"kind": "expired" if expiry < today else "expiring",
                    "depot": depots[depot_id][1], "item": items[item_id][1], "lot": number,
                    "expiry": expiry.isoformat(), "quantity": int(qty),
                    "days_left": (expiry - today).days})
    return out


def gap_report(*, options: GapOptions | None = None, context: str = LIVE,
               fresh: bool = False) -> dict[str, Any]:
    """The gap report for every depot and item (``GET /api/stock/gaps``).

    ``fresh`` skips the cache (the benchmark's cold figure).
    """
    options = options or GapOptions()
    with db.reading() as s:
        if fresh:
            return compute(s, context, options)
        return cached(s, "gaps", context, options, lambda: compute(s, context, options))

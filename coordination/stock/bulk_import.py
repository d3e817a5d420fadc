"""Apply a validated import in a handful of statements instead of a few per row.

Row by row, a 50,000-line delivery note took six minutes inside one write
transaction, and SQLite's single writer (and PostgreSQL's row locks) made the rest of
the deployment wait for it. Here the rows were validated before the transaction
(``imports._validate``, in a read session); the write transaction then does, for the
whole file at once: insert the new lots, insert the missing zero balances, lock the
balances it changes (one ``SELECT … FOR UPDATE`` in primary-key order, as the
row-by-row path would), insert every ledger entry in one multi-row ``INSERT`` and
update every balance in one executemany. Lots are re-read inside the transaction, so
a lot recorded meanwhile with another expiry still refuses the whole file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from ..db import UTCDateTime
from ..errors import RowError
from ..events import Actor
from .common import dialect_insert
from .models import Balance, Depot, EntryKind, Item, LedgerEntry, Lot
from .parts import touch
from .schemas import CountIn, ReceiptIn

#: Entries echoed in the answer and the event (a big file's full list is the ledger).
ECHOED = 500


def apply_all(s: Session, context: str, rows: list[tuple[int, CountIn | ReceiptIn]],
              actor: Actor, at: datetime) -> tuple[list[RowError], list[dict[str, Any]], int]:
    """Post every row; ``(errors, first entries, rows applied)``. With errors, nothing
    must be kept: the caller raises and the transaction rolls back."""
    depots = {c: i for c, i in s.execute(select(Depot.code, Depot.id)
                                         .where(Depot.context == context))}
    items = {i.code: i for i in s.scalars(select(Item).where(Item.context == context))}
    item_ids = sorted({items[d.item].id for _, d in rows})
    receipts = [(n, d) for n, d in rows if isinstance(d, ReceiptIn)]
    if receipts:
        first_expiry: dict[tuple[int, str], date | None] = {}
        for _, receipt in receipts:
            first_expiry.setdefault((items[receipt.item].id, receipt.lot), receipt.expiry)
        _insert_missing(s, Lot.__table__, ["context", "item_id", "lot_number", "expiry"], [
            (context, item_id, number, expiry)
            for (item_id, number), expiry in first_expiry.items()])
    lots = {(lot.item_id, lot.lot_number): lot for lot in s.scalars(
        select(Lot).where(Lot.item_id.in_(item_ids)))}
    errors = [RowError(n, "expiry", str(_l(
        "Lot %(lot)s is already recorded with expiry %(expiry)s.", lot=d.lot,
        expiry=str(lots[(items[d.item].id, d.lot)].expiry or "-"))))
        for n, d in receipts
        if d.expiry is not None and lots[(items[d.item].id, d.lot)].expiry != d.expiry]
    errors += [RowError(n, "lot", str(_l("Lot %(lot)s of %(item)s does not exist.",
                                          lot=d.lot, item=d.item)))
               for n, d in rows if (items[d.item].id, d.lot) not in lots]
    if errors:
        return errors, [], 0
    item_id = {code: item.id for code, item in items.items()}
    lot_id = {k: lot.id for k, lot in lots.items()}
    row_keys = [(depots[d.depot], item_id[d.item], lot_id[(item_id[d.item], d.lot)])
                for _, d in rows]
    keys = set(row_keys)
    _insert_missing(s, Balance.__table__, ["context", "depot_id", "item_id", "lot_id", "quantity"],
                    [(context, dep, it, lot, 0) for dep, it, lot in sorted(keys)])
    locked = s.execute(
        select(Balance.depot_id, Balance.item_id, Balance.lot_id, Balance.quantity)
        .where(Balance.context == context, Balance.depot_id.in_(sorted({k[0] for k in keys})),
               Balance.item_id.in_(item_ids))
        .order_by(Balance.depot_id, Balance.item_id, Balance.lot_id)
        .with_for_update())
    book = {(dep, it, lot): qty for dep, it, lot, qty in locked}
    entries: list[tuple[Any, ...]] = []
    befores: list[int] = []
    count_kind, receipt_kind = EntryKind.COUNT.value, EntryKind.RECEIPT.value
    for (_, d), key in zip(rows, row_keys, strict=True):
        before = book[key]
        if isinstance(d, CountIn):
            delta, counted, kind = d.counted - before, d.counted, count_kind
        else:
            delta, counted, kind = d.quantity, None, receipt_kind
        book[key] = before + delta
        entries.append((context, kind, key[0], key[1], key[2], delta, before + delta, counted,
                        d.note, actor.kind, actor.id, actor.name, at))
        if len(befores) < ECHOED:
            befores.append(before)
    ids = _insert_entries(s, entries)
    _set_quantities(s, context, [(dep, it, lot, qty) for (dep, it, lot), qty in book.items()
                                 if (dep, it, lot) in keys])
    for dep, it, _lot in keys:
        touch(s, dep, it)
    codes = {v: k for k, v in depots.items()}
    by_id = {i.id: i for i in items.values()}
    lot_of = {lot.id: lot for lot in lots.values()}
    echoed = [_entry_dict(entry_id, dict(zip(ENTRY_COLUMNS, e, strict=True)), before,
                          codes, by_id, lot_of)
              for entry_id, e, before in zip(ids[:ECHOED], entries[:ECHOED], befores,
                                             strict=True)]
    return [], echoed, len(entries)


def _entry_dict(entry_id: int, e: dict[str, Any], book: int, depots: dict[int, str],
                items: dict[int, Item], lots: dict[int, Lot]) -> dict[str, Any]:
    """What ``common.entry_dict`` says of one posted row (``book`` for counts)."""
    lot = lots[e["lot_id"]]
    body = {
        "id": entry_id, "kind": e["kind"], "depot": depots[e["depot_id"]],
        "item": items[e["item_id"]].code, "lot": lot.lot_number,
        "expiry": lot.expiry.isoformat() if lot.expiry else None,
        "quantity": e["quantity"], "balance_after": e["balance_after"],
        "counted": e["counted"], "reason": None, "destination_kind": None,
        "destination_ref": None, "transfer_id": None, "request_id": None,
        "note": e["note"], "actor": e["actor_name"], "at": e["occurred_at"].isoformat(),
    }
    if e["kind"] == EntryKind.COUNT.value:
        body["book"] = book
    return body


# --- the statements: portable SQLAlchemy on SQLite, COPY on PostgreSQL -------------
# (psycopg parses a many-row INSERT's placeholders in Python: 50,000 rows of ledger
# took a minute that way; COPY takes well under a second.)


def _pg(s: Session) -> Any | None:
    """The psycopg connection under this session's transaction, on PostgreSQL."""
    if s.get_bind().dialect.name != "postgresql":
        return None
    return s.connection().connection.driver_connection


def _copy_into(raw: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    with raw.cursor() as cur, cur.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _staging(raw: Any, like: str, columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    name = f"import_{like}"
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} "
                    f"(LIKE {like} INCLUDING DEFAULTS) ON COMMIT DROP")
        cur.execute(f"TRUNCATE {name}")
    _copy_into(raw, name, columns, rows)
    return name


def _insert_missing(s: Session, table: Any, columns: list[str],
                    rows: list[tuple[Any, ...]]) -> None:
    """Insert the rows the table does not hold yet (its unique key decides)."""
    raw = _pg(s)
    if raw is None:
        s.execute(dialect_insert(s)(table).on_conflict_do_nothing(),
                  [dict(zip(columns, r, strict=True)) for r in rows])
        return
    staged = _staging(raw, table.name, columns, rows)
    cols = ", ".join(columns)
    with raw.cursor() as cur:
        cur.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {staged} "
                    "ON CONFLICT DO NOTHING")


#: The ledger columns an import writes, in the order of its entry tuples.
ENTRY_COLUMNS = ("context", "kind", "depot_id", "item_id", "lot_id", "quantity",
                 "balance_after", "counted", "note", "actor_kind", "actor_id", "actor_name",
                 "occurred_at")


def _insert_entries(s: Session, entries: list[tuple[Any, ...]]) -> list[int]:
    """Insert the ledger entries in order; their ids, in the same order."""
    at = entries[0][-1]
    # Plain driver statements bypass the column types: the time goes as UTCDateTime
    # would bind it on this dialect (naive UTC; on SQLite its text form), once.
    dialect = s.get_bind().dialect
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stored = bind(at) if bind is not None else at
    raw = _pg(s)
    if raw is None:
        # SQLite: this transaction holds the only write lock, so the next ids are known;
        # one executemany of plain tuples (an ORM insert with RETURNING in order was
        # 50,000 single statements here: seconds of write lock instead of a fraction).
        first = (s.scalar(select(func.max(LedgerEntry.id))) or 0) + 1
        ids = list(range(first, first + len(entries)))
        driver = s.connection().connection.driver_connection
        assert driver is not None
        marks = ", ".join("?" * (len(ENTRY_COLUMNS) + 1))
        driver.executemany(
            f"INSERT INTO stock_ledger (id, {', '.join(ENTRY_COLUMNS)}) VALUES ({marks})",
            [(i, *e[:-1], stored) for i, e in zip(ids, entries, strict=True)])
        return ids
    with raw.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('stock_ledger', 'id')) "
                    "FROM generate_series(1, %s)", (len(entries),))
        ids = [row[0] for row in cur.fetchall()]
    _copy_into(raw, "stock_ledger", ["id", *ENTRY_COLUMNS],
               [(i, *e[:-1], stored) for i, e in zip(ids, entries, strict=True)])
    return ids


def _set_quantities(s: Session, context: str, rows: list[tuple[int, int, int, int]]) -> None:
    """Every changed balance to its new quantity: ``(depot, item, lot, quantity)``."""
    raw = _pg(s)
    if raw is None:
        table = cast(Table, Balance.__table__)
        s.execute(update(table).where(
            table.c.context == context, table.c.depot_id == bindparam("d"),
            table.c.item_id == bindparam("i"), table.c.lot_id == bindparam("l"),
        ).values(quantity=bindparam("q")), [
            {"d": d, "i": i, "l": lot, "q": q} for d, i, lot, q in rows])
        return
    staged = _staging(raw, "stock_balances", ["context", "depot_id", "item_id", "lot_id",
                                              "quantity"],
                      [(context, d, i, lot, q) for d, i, lot, q in rows])
    with raw.cursor() as cur:
        cur.execute(f"UPDATE stock_balances b SET quantity = n.quantity FROM {staged} n "
                    "WHERE b.context = n.context AND b.depot_id = n.depot_id "
                    "AND b.item_id = n.item_id AND b.lot_id = n.lot_id")

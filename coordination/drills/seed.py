"""Seed a drill context with a copy of live reference data.

A drill plays on the city's real facilities, ambulances and stockpiles, but
must never write to them. So the run gets copies: every reference table is
copied row by row into the run's context, ids shifted past the table's highest
id so they stay unique, and every foreign key to a copied table shifted by the
same amount. Copies are plain inserts in the run's own context; live rows are
only read. History (capacity reports, positions, the stock ledger) is not
copied: stock starts from one opening-balance ledger entry per lot so the
drill's ledger still sums to its balances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, or_, select, text
from sqlalchemy.orm import Session

from ..db import Base

# Copied in this order (foreign keys point backwards in the list).
REFERENCE_TABLES: list[str] = [
    "facilities", "units",
    "stock_depots", "stock_items", "stock_lots", "stock_balances", "stock_targets",
]

AfterSeed = Callable[[Session, str, "SeedResult"], None]
_after_seed: list[AfterSeed] = []
# Per table, a change to each copied row: a secret that must not be shared by two rows,
# ids kept in a JSON column (no foreign key tells the copier about them).
Transform = Callable[[dict[str, Any], "SeedResult"], dict[str, Any]]
TRANSFORMS: dict[str, Transform] = {}


def register_reference_table(name: str, *, after: str | None = None,
                             transform: Transform | None = None) -> None:
    """Domain packages add their reference tables (a roster, agencies) here."""
    if transform is not None:
        TRANSFORMS[name] = transform
    if name in REFERENCE_TABLES:
        return
    if after is not None and after in REFERENCE_TABLES:
        REFERENCE_TABLES.insert(REFERENCE_TABLES.index(after) + 1, name)
    else:
        REFERENCE_TABLES.append(name)


def register_after_seed(hook: AfterSeed) -> None:
    """Run after the copy, in the same transaction (e.g. opening ledger entries)."""
    if hook not in _after_seed:
        _after_seed.append(hook)


@dataclass
class SeedResult:
    counts: dict[str, int] = field(default_factory=dict)
    offsets: dict[str, int] = field(default_factory=dict)

    def new_id(self, table: str, old: int) -> int:
        return old + self.offsets[table]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _single_int_pk(table: Table) -> str | None:
    pk = list(table.primary_key.columns)
    if len(pk) == 1 and pk[0].name == "id":
        return "id"
    return None


def copy_reference_data(session: Session, *, source: str, target: str) -> SeedResult:
    """Copy every reference row of ``source`` into ``target``; return the id shifts."""
    result = SeedResult()
    for name in REFERENCE_TABLES:
        table = _table(name)
        pk = _single_int_pk(table)
        offset = 0
        if pk is not None:
            offset = int(session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0)
        result.offsets[name] = offset
        remaps: list[tuple[str, str]] = []
        for col in table.columns:
            for fk in col.foreign_keys:
                ref = fk.column.table.name
                if ref in result.offsets and fk.column.name == "id":
                    remaps.append((col.name, ref))
        rows = session.execute(select(table).where(table.c.context == source)).mappings().all()
        batch: list[dict[str, Any]] = []
        for row in rows:
            new = dict(row)
            new["context"] = target
            if pk is not None:
                new["id"] = row["id"] + offset
            for col_name, ref in remaps:
                if new[col_name] is not None:
                    new[col_name] = new[col_name] + result.offsets[ref]
            if name in TRANSFORMS:
                new = TRANSFORMS[name](new, result)
            batch.append(new)
        if batch:
            session.execute(insert(table), batch)
        result.counts[name] = len(batch)
        if pk is not None and batch and session.get_bind().dialect.name == "postgresql":
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT max(id) FROM {name}))"
            ))
    for hook in _after_seed:
        hook(session, target, result)
    return result


def delete_context_rows(session: Session, context: str) -> dict[str, int]:
    """Remove every row of ``context`` from every table, children first.

    Tables without a context column (lines of a transfer or a request) go with
    their parent: their rows whose parent belongs to the context are removed.
    """
    removed: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == "contexts":
            continue
        if "context" in table.c:
            cond = table.c.context == context
        else:
            parents = [
                col.in_(select(fk.column).where(fk.column.table.c.context == context))
                for col in table.columns for fk in col.foreign_keys
                if "context" in fk.column.table.c and fk.column.table.name != "contexts"
            ]
            if not parents:
                continue
            cond = or_(*parents)
        n = session.execute(table.delete().where(cond)).rowcount  # type: ignore[attr-defined]
        if n:
            removed[table.name] = n
    return removed

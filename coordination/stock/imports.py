"""Import counts and receipts from CSV or XLSX: every row checked, all or nothing.

Every row is validated first — columns present, quantity a whole number of the
right sign, expiry a date, depot, item and (for counts) lot known, one expiry
per lot — and *every* bad row is reported with its row number (as the
spreadsheet shows it: the header is row 1) and field. Only a file without a
single bad row is applied, in one transaction with one event, so a half-read
delivery note never leaves half its lines on the books.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, RowError, ValidationFailed
from ..events import Actor
from ..extensions import db
from .bulk_import import apply_all
from .common import emit, now_in
from .import_keys import StockImport, import_key
from .models import Depot, Item, Lot
from .schemas import MAX_QUANTITY, CountIn, ReceiptIn

MAX_ROWS = 50_000


class ImportKind(StrEnum):
    COUNT = "count"
    RECEIPT = "receipt"


# Column names as people write them, in English and Chinese.
ALIASES = {
    "depot": "depot", "depot_code": "depot", "仓库": "depot", "储备库": "depot",
    "item": "item", "item_code": "item", "物资编码": "item", "物资": "item",
    "lot": "lot", "lot_number": "lot", "batch": "lot", "批号": "lot",
    "expiry": "expiry", "expiry_date": "expiry", "有效期": "expiry", "有效期至": "expiry",
    "quantity": "quantity", "qty": "quantity", "数量": "quantity",
    "counted": "quantity", "盘点数量": "quantity", "实盘数量": "quantity",
    "note": "note", "备注": "note",
}


class ImportRejected(ValidationFailed):
    """The file was refused; ``details`` lists every bad row and field."""


#: Rows read or checked between two calls of the job's ``pace`` / ``report``.
CHUNK = 500


def check_filename(filename: str) -> None:
    """Refuse, before any work, a file that is neither CSV nor XLSX."""
    if not filename.lower().endswith((".xlsx", ".csv", ".txt")):
        raise ValidationFailed(_l("Import a .csv or .xlsx file."))


def read_table(content: bytes, filename: str, pace: Callable[[], None] | None = None,
               ) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV or XLSX file as (spreadsheet row number, {column: value})."""
    check_filename(filename)
    pace = pace or (lambda: None)
    raw = _xlsx_rows(content, pace) if filename.lower().endswith(".xlsx") \
        else _csv_rows(content, pace)
    if not raw:
        raise ValidationFailed(_l("The file is empty."))
    header = [ALIASES.get(str(h or "").strip().lower(), str(h or "").strip().lower())
              for h in raw[0]]
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        rows.append((number, {h: (values[i] if i < len(values) else None)
                              for i, h in enumerate(header) if h}))
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(_l("At most %(n)d rows per file.", n=MAX_ROWS))
    return rows


def _csv_rows(content: bytes, pace: Callable[[], None]) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationFailed(_l("The CSV file is neither UTF-8 nor GBK."))
    rows: list[list[Any]] = []
    for n, row in enumerate(csv.reader(io.StringIO(text))):
        if n % CHUNK == 0:
            pace()
        rows.append(row)
    return rows


def _xlsx_rows(content: bytes, pace: Callable[[], None]) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the user's file, not our bug
        raise ValidationFailed(_l("The file is not a readable XLSX workbook.")) from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[Any]] = []
        for n, row in enumerate(sheet.iter_rows(values_only=True)):
            if n % CHUNK == 0:
                pace()
            rows.append(list(row))
        return rows
    finally:
        book.close()


def _quantity(value: Any, *, allow_zero: bool) -> int | str:
    """A whole, in-range quantity, or the reason it is not one."""
    if value is None or str(value).strip() == "":
        return str(_l("The quantity is missing."))
    if isinstance(value, bool):
        return str(_l("The quantity is not a number."))
    if isinstance(value, int | float):
        number: float = value
    else:
        try:
            number = float(str(value).strip().replace(",", ""))
        except ValueError:
            return str(_l("The quantity is not a number."))
    if number != number or number in (float("inf"), float("-inf")):
        return str(_l("The quantity is not a number."))
    if number != int(number):
        return str(_l("The quantity must be a whole number of units."))
    if number < 0 or (number == 0 and not allow_zero):
        return str(_l("The quantity must be positive.") if not allow_zero
                   else _l("The quantity cannot be negative."))
    if number > MAX_QUANTITY:
        return str(_l("The quantity is too large."))
    return int(number)


def _expiry(value: Any) -> date | None | str:
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        return str(_l("The expiry is not a date (use YYYY-MM-DD)."))


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _validate(s: Session, context: str, kind: ImportKind, rows: list[tuple[int, dict[str, Any]]],
              default_depot: str | None, today: date,
              progress: Callable[[int, int], None] | None = None,
              ) -> tuple[list[RowError], list[Any]]:
    errors: list[RowError] = []
    parsed: list[Any] = []
    columns = set(rows[0][1]) if rows else set()
    needed = {"item", "lot", "quantity"} | ({"depot"} if default_depot is None else set())
    for col in sorted(needed - columns):
        errors.append(RowError(1, col, str(_l("The column %(col)s is missing.", col=col))))
    if errors:
        return errors, parsed
    depots = {c: i for c, i in s.execute(select(Depot.code, Depot.id)
                                         .where(Depot.context == context))}
    items = {i.code: i for i in s.scalars(select(Item).where(Item.context == context))}
    lots = {(item_id, n): e for item_id, n, e in s.execute(
        select(Lot.item_id, Lot.lot_number, Lot.expiry).where(Lot.context == context))}
    seen_expiry: dict[tuple[str, str], date | None] = {}
    for checked, (number, row) in enumerate(rows):
        if progress is not None and checked and checked % CHUNK == 0:
            progress(checked, len(errors))
        bad = len(errors)
        depot = _text(row.get("depot")) or (default_depot or "")
        item_code, lot = _text(row.get("item")), _text(row.get("lot"))
        if not depot:
            errors.append(RowError(number, "depot", str(_l("The depot is missing."))))
        elif depot not in depots:
            errors.append(RowError(number, "depot", str(_l("Unknown depot %(code)s.",
                                                           code=depot))))
        item = items.get(item_code)
        if not item_code:
            errors.append(RowError(number, "item", str(_l("The item is missing."))))
        elif item is None:
            errors.append(RowError(number, "item", str(_l("Unknown item %(code)s.",
                                                          code=item_code))))
        if not lot:
            errors.append(RowError(number, "lot", str(_l("The lot number is missing."))))
        elif isinstance(row.get("lot"), int | float) and not isinstance(row.get("lot"), bool):
            # A spreadsheet turned it into a number: 00123 is now 123, and is not the lot.
            errors.append(RowError(number, "lot", str(_l(
                "The lot number %(lot)s is a number cell, so a spreadsheet may have dropped "
                "its leading zeros (00123 becomes 123); format the column as text and type "
                "the lot numbers again.", lot=lot))))
        elif len(lot) > 60:
            errors.append(RowError(number, "lot", str(_l("The lot number is too long."))))
        qty = _quantity(row.get("quantity"), allow_zero=kind is ImportKind.COUNT)
        if isinstance(qty, str):
            errors.append(RowError(number, "quantity", qty))
        expiry = _expiry(row.get("expiry"))
        expiry_ok = not isinstance(expiry, str)
        if isinstance(expiry, str):
            errors.append(RowError(number, "expiry", expiry))
            expiry = None
        known = (item.id, lot) in lots if item is not None else False
        if item is not None and lot and expiry_ok:
            if kind is ImportKind.COUNT and not known:
                errors.append(RowError(number, "lot", str(_l(
                    "Lot %(lot)s of %(item)s does not exist.", lot=lot, item=item.code))))
            if kind is ImportKind.RECEIPT:
                recorded = lots.get((item.id, lot)) if known else seen_expiry.get((item.code, lot))
                is_new = not known and (item.code, lot) not in seen_expiry
                if expiry is not None and not is_new and recorded != expiry:
                    errors.append(RowError(number, "expiry", str(_l(
                        "Lot %(lot)s is already recorded with expiry %(expiry)s.", lot=lot,
                        expiry=recorded.isoformat() if recorded else "-"))))
                elif expiry is None and is_new and item.shelf_life_days is not None:
                    errors.append(RowError(number, "expiry", str(_l(
                        "Lot %(lot)s needs an expiry date (%(item)s has a shelf life).",
                        lot=lot, item=item.code))))
                elif expiry is not None and expiry < today:
                    errors.append(RowError(number, "expiry", str(_l(
                        "Lot %(lot)s expired on %(expiry)s; expired stock is not received.",
                        lot=lot, expiry=expiry.isoformat()))))
                if is_new:
                    seen_expiry[(item.code, lot)] = expiry
        if len(errors) > bad:
            continue
        note = _text(row.get("note"))[:2000]
        assert not isinstance(qty, str)  # a refused quantity is among the errors above
        if kind is ImportKind.COUNT:
            parsed.append((number, CountIn(depot=depot, item=item_code, lot=lot, counted=qty,
                                           note=note)))
        else:
            parsed.append((number, ReceiptIn(depot=depot, item=item_code, lot=lot,
                                             expiry=expiry, quantity=qty, note=note)))
    return errors, parsed


#: ``report(phase, total=, done=, errors=)``: where an import is, for its job's bar.
Report = Callable[..., None]
#: ``finish(session, body, rows)``: record the job's end in the import's own transaction.
Finish = Callable[[Session, dict[str, Any], int], None]


def _no_report(_phase: str, **_counts: int | None) -> None:
    return None


def import_stock(*, content: bytes, filename: str, kind: ImportKind, actor: Actor,
                 default_depot: str | None = None, context: str = LIVE,
                 report: Report | None = None, finish: Finish | None = None) -> dict[str, Any]:
    """Apply a file of counts or receipts, or raise ``ImportRejected`` listing every bad row.

    Called directly by the CLI, and by the import job (``import_jobs``) that the page
    and the API queue. Validation runs in a read session, so the write lock is held
    only for the bulk posting (``bulk_import``): one short transaction, which is what
    keeps the import all-or-nothing. A file already imported is a ``Conflict``.
    """
    report = report or _no_report
    report("reading")
    rows = read_table(content, filename, pace=lambda: report("reading"))
    if not rows:
        raise ValidationFailed(_l("The file has no rows to import."))
    key = stock_import_key(context=context, kind=kind, default_depot=default_depot,
                           content=content)
    report("checking", total=len(rows), done=0, errors=0)
    with db.reading() as s:
        refuse_repeat(s, key)
        at = now_in(s, context)
        errors, parsed = _validate(s, context, kind, rows, default_depot, at.date(),
                                   lambda done, bad: report("checking", done=done, errors=bad))
    if errors:
        raise _rejected(errors)
    report("posting", done=len(rows), errors=0)
    with db.unit_of_work() as s:
        s.add(StockImport(context=context, key=key, kind=kind.value, filename=filename[:200],
                          rows=len(parsed), actor_name=actor.name[:120]))
        try:
            s.flush()  # the unique key: of two concurrent imports of one file, one waits here
        except IntegrityError:
            raise already_imported() from None
        errors, applied, count = apply_all(s, context, parsed, actor, at)
        if errors:
            raise _rejected(errors)
        body = {"kind": kind.value, "filename": filename[:200], "rows": count,
                "entries": applied}
        emit(s, context=context, type="stock.imported", actor=actor, payload=body)
        if finish is not None:
            finish(s, {k: v for k, v in body.items() if k != "entries"}, count)
        return body


def stock_import_key(*, context: str, kind: ImportKind, default_depot: str | None,
                     content: bytes) -> str:
    return import_key(context=context, kind=kind.value, default_depot=default_depot,
                      content=content)


def _rejected(errors: list[RowError]) -> ImportRejected:
    return ImportRejected(
        _l("%(n)d problems in the file; nothing was imported.", n=len(errors)),
        details=[e.as_dict() for e in errors],
    )


def already_imported() -> Conflict:
    return Conflict(_l("This file was already imported; nothing was imported again."))


def refuse_repeat(s: Session, key: str) -> None:
    """Raise "already imported" when a file of this key was applied before."""
    if s.scalar(select(StockImport.id).where(StockImport.key == key)) is not None:
        raise already_imported()

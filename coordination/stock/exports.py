"""Exports of the gap report and the stock card to XLSX and CSV.

The columns are the JSON's own fields in a fixed order, under translated
titles, so a spreadsheet row is the same row the screen and the API show.
Both go through ``coordination.tabular`` (byte-order mark, formula-safe cells).

Cells are what a spreadsheet can compute with: times as date-time cells in the
configured time zone (to the second; Excel and WPS have no zones), expiry
dates as date cells (days to expiry is a subtraction), yes/no and units of
issue in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from .. import runtime, tabular
from .models import ENTRY_LABELS, REASON_LABELS, TARGET_MODE_LABELS

GAP_COLUMNS: list[tuple[str, Any]] = [
    ("depot", _l("Depot")), ("depot_name_zh", _l("Depot name")), ("item", _l("Item")),
    ("item_name_zh", _l("Item name")), ("unit", _l("Unit")),
    ("critical", _lp("stock item", "Critical")),
    ("on_hand", _l("On hand")), ("expired", _l("Expired")), ("reserved", _l("Reserved")),
    ("available", _lp("quantity", "Available")), ("in_transit", _l("In transit")),
    ("target", _l("Reserve target")), ("target_mode", _l("Target set as")),
    ("burn_per_day", _l("Issued per day")), ("days_of_supply", _l("Days of supply")),
    ("shortfall", _l("Shortfall")), ("fill_transfers", _l("Fill by transfer")),
    ("fill_purchase", _l("Fill by purchase")), ("fast_moving", _l("Fast-consumed")),
    ("suggested_target", _l("Suggested target")),
]

CARD_COLUMNS: list[tuple[str, Any]] = [
    ("id", _l("Entry")), ("at", _l("Time")), ("kind", _l("Movement")), ("lot", _l("Lot")),
    ("expiry", _l("Expiry")), ("quantity", _l("Quantity")), ("counted", _l("Counted")),
    ("balance", _l("Balance")), ("reason", _l("Reason")),
    ("reference", _lp("stock movement", "Reference")),
    ("actor", _l("By")), ("note", _l("Note")),
]


# Units of issue the catalogue uses, in the reader's language.
UNIT_LABELS: dict[str, Any] = {
    "piece": _l("piece"), "box": _l("box"), "bottle": _l("bottle"),
    "cylinder": _l("cylinder"), "pack": _l("pack"), "unit": _l("set"),
}
# Columns holding an enum's value, shown (and exported) in the reader's language.
WORDS: dict[str, dict[Any, Any]] = {
    "target_mode": TARGET_MODE_LABELS, "kind": ENTRY_LABELS, "reason": REASON_LABELS,
    "unit": UNIT_LABELS,
}
# Columns holding an ISO time or an ISO date.
TIME_KEYS = frozenset({"at"})
DATE_KEYS = frozenset({"expiry"})


def _zone() -> ZoneInfo:
    settings = runtime.settings()
    name = settings.timezone if settings is not None else "Asia/Shanghai"
    return ZoneInfo(name)


def _time_cell(value: Any) -> Any:
    """An ISO time (UTC, microseconds) as a naive local date-time to the second."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(when, datetime):
        return value
    if when.tzinfo is not None:
        when = when.astimezone(_zone()).replace(tzinfo=None)
    return when.replace(microsecond=0)


def cell(key: str, value: Any) -> Any:
    """One value as a spreadsheet cell: plain numbers and text, transfers spelled out."""
    if key == "fill_transfers":
        return "; ".join(f"{t['from']} {t['quantity']} ({t['distance_km']} km)" for t in value)
    if value is None:
        return ""
    if key in WORDS and value in WORDS[key]:
        return str(WORDS[key][value])
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if key in TIME_KEYS:
        return _time_cell(value)
    if key in DATE_KEYS and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _table(columns: Sequence[tuple[str, Any]], rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[str(title) for _key, title in columns]] + [
        [cell(key, row.get(key)) for key, _title in columns] for row in rows
    ]


def to_csv(columns: Sequence[tuple[str, Any]], rows: Sequence[dict[str, Any]]) -> bytes:
    return tabular.csv_bytes(_table(columns, rows))


def to_xlsx(columns: Sequence[tuple[str, Any]], rows: Sequence[dict[str, Any]],
            sheet: str) -> bytes:
    return tabular.xlsx_bytes(_table(columns, rows), sheet)


def gap_report_file(report: dict[str, Any], fmt: str) -> bytes:
    rows = report["rows"]
    return to_xlsx(GAP_COLUMNS, rows, "gaps") if fmt == "xlsx" else to_csv(GAP_COLUMNS, rows)


def stock_card_file(card: dict[str, Any], fmt: str) -> bytes:
    rows = card["entries"]
    if fmt == "xlsx":
        return to_xlsx(CARD_COLUMNS, rows, f"{card['depot']}-{card['item']}")
    return to_csv(CARD_COLUMNS, rows)

"""The stock services: the only place stock state changes (DESIGN.md, the one path).

The work is split by concern into modules of their own; this module is the
one name adapters import, so routes, the CLI and drills all call the same
functions.
"""

from __future__ import annotations

from .catalogue import list_depots, list_items, save_depot, save_item
from .dashboard import dashboard
from .gaps import GapFilter, GapOptions, filter_choices, filtered, gap_report, paged
from .import_jobs import import_job, recent_imports, submit_import
from .imports import ImportKind, ImportRejected, import_stock
from .ledger import adjust_stock, count_stock, issue_stock, receive_stock
from .overview import depot_detail, depot_map, form_choices, logistics_overview
from .queries import balances, stock_card
from .requests import (
    approve_request,
    confirm_request,
    create_request,
    get_request,
    list_requests,
    reject_request,
    ship_request,
)
from .targets import (
    list_reservations,
    list_targets,
    release_reservation,
    reserve_stock,
    set_target,
)
from .transfers import list_transfers, receive_transfer, send_transfer

__all__ = [
    "GapFilter", "GapOptions", "ImportKind", "ImportRejected", "adjust_stock", "approve_request",
    "balances", "confirm_request", "count_stock", "create_request", "dashboard", "gap_report",
    "get_request", "import_job", "import_stock", "recent_imports", "submit_import",
    "depot_detail", "depot_map", "filter_choices", "filtered", "paged",
    "form_choices", "logistics_overview", "issue_stock", "list_depots", "list_items",
    "list_requests", "list_reservations", "list_targets", "list_transfers", "receive_stock",
    "receive_transfer", "reject_request", "release_reservation", "reserve_stock", "save_depot",
    "save_item", "send_transfer", "set_target", "ship_request", "stock_card",
]

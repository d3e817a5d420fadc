"""Where the app finds its plans, and the plan set it works from.

The plans folder is read on demand and every file is cached by its content
hash (loader.PlanCache), so an edited plan is picked up on the next request
without a restart and an unchanged one is never parsed twice. Item codes are
checked against the stock catalogue of the context when it has one.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import runtime
from ..config import ROOT
from ..contexts import LIVE
from ..errors import Conflict, NotFound
from ..extensions import db
from ..stock.models import Item
from .loader import LoadResult, PlanSet, cache

CONFIG_KEY = "COORDINATION_PLANS_PATH"


def plans_dir() -> Path:
    """The plans folder: app config, then the settings (``COORDINATION_PLANS_PATH``)."""
    config = runtime.app_config()
    if config is not None:
        configured = config.get(CONFIG_KEY)
        return Path(configured or config["COORDINATION"].plans_path)
    return Path(os.environ.get(CONFIG_KEY) or ROOT / "plans")


def catalogue_codes(context: str = LIVE) -> frozenset[str] | None:
    """Stock item codes of the context, or None when no catalogue is loaded (skip the check)."""
    with db.reading() as s:
        codes = frozenset(s.scalars(select(Item.code).where(Item.context == context)))
    return codes or None


def plan_set(*, context: str = LIVE, directory: Path | None = None) -> PlanSet:
    return cache.load(directory or plans_dir(), catalogue=catalogue_codes(context))


def get_plan(plan_id: str, *, context: str = LIVE) -> LoadResult:
    """A valid plan by id; an invalid file with that id is a conflict, not a 404."""
    found = plan_set(context=context)
    hit = found.plans.get(plan_id)
    if hit is not None:
        return hit
    if any(r.path.endswith(f"/{plan_id}.yaml") for r in found.invalid):
        raise Conflict(_l("The plan %(plan)s has errors and cannot be used; an administrator "
                          "sees them on the plans page.", plan=plan_id))
    raise NotFound(_l("No such plan: %(plan)s.", plan=plan_id))

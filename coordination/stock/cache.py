"""A per-process cache of computed reports, keyed by the state of the books.

Every stock change appends an event, which moves the context's sequence head,
so (database, context, head, clock minute, options) names one state of the
books: every screen polling the dashboard after a change shares one
computation, and a change made by any process is seen at the next call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import Context
from .common import now_in

_CACHE: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_LOCK = threading.Lock()
CACHE_SIZE = 16


def cached(s: Session, kind: str, context: str, options: Any,
           build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The report for this state of the books, built once. Callers must not mutate it."""
    head = s.scalar(select(Context.last_seq).where(Context.name == context))
    minute = now_in(s, context).replace(second=0, microsecond=0)
    engine = s.get_bind().engine
    key = (engine.url.render_as_string(), id(engine), kind, context, head, minute, options)
    with _LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    report = build()
    with _LOCK:
        _CACHE[key] = report
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return report

"""Holding the cyclic garbage collector off while a large report is built.

A report over tens of thousands of rows allocates hundreds of thousands of
dicts, lists and floats. Each burst of allocations triggers young-generation
collections, and every tenth of those sweeps the older generations too, which
hold the whole application's heap (geopandas, shapely, the ORM's metadata):
profiled at a third of a fresh gap report on a million-entry ledger, and the
source of most of its spread. What a report builds holds no reference cycles,
so reference counting frees it all; deferring the cycle collector until the
report is done loses nothing and the deferred work runs at the next allocation
threshold after it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cycle collector for the block; nested and concurrent uses share one pause.

    The collector comes back when the last overlapping block ends, and only if it
    was on when the first began (a caller that switched it off keeps it off).
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()

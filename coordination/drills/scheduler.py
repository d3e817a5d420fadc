"""Fire drill injects on time: sleep until the next one is due, never longer than a beat.

The next due time is computed from the stored drill clock, so a change of
speed or a pause by the trainer (in this process: at once, through the
waker; in another process: within one beat) moves it. Claiming each inject
with a conditional update makes several processes safe.

At 60x a second of scenario time is 17 ms of real time, and finding what is
due (the runs, their clocks, the pending injects) takes a few of those. So the
scheduler wakes ``LEAD`` early, reads what will be due, sleeps out the rest and
only claims when the moment comes; the claim reads the clock again, so an
inject never fires before its time whatever changed in between.
"""

from __future__ import annotations

import gc
import logging
import threading

from ..clock import wall_now
from ..runtime import AppLike
from . import service

log = logging.getLogger(__name__)
BEAT = 0.5  # seconds: the longest a process sleeps without looking
LEAD = 0.02  # seconds: how long before an inject is due its firing is prepared


def run(app: AppLike, stop: threading.Event | None = None) -> None:
    # At 60x a second of scenario time is 17 ms of real time: a full garbage
    # collection over the app's long-lived objects (models, metadata, caches) can
    # take that long. Freezing what is loaded by now keeps them out of every scan.
    gc.freeze()
    waker = threading.Event()
    service.WAKERS.append(waker)
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            timeout = BEAT
            try:
                with app.app_context():
                    service.fire_due()
                    nxt = service.next_due_real()
                    if nxt is not None:
                        left = (nxt - wall_now()).total_seconds()
                        if left <= LEAD:
                            ready = service.due_by(nxt)
                            left = (nxt - wall_now()).total_seconds()
                            if left > 0 and waker.wait(left):
                                waker.clear()  # a pause or a new speed: look again
                                continue
                            service.fire(ready)
                            continue
                        timeout = min(BEAT, left - LEAD)
            except Exception:
                log.exception("drill scheduler failed; retrying")
            waker.wait(timeout)
            waker.clear()
    finally:
        service.WAKERS.remove(waker)

"""A Python twin of static/js/live.js, for tests and benchmarks.

``LiveClient`` follows the rules an operator's screen follows:

- it keeps ``last_seq``, the newest sequence number it has applied;
- on every connect it asks ``replay`` for everything after ``last_seq`` and
  keeps asking while the answer says ``more``, then moves its cursor to the
  answer's ``head`` (events it may not see still advance the cursor);
- it applies live events strictly in order: one at or below ``last_seq`` is
  dropped, the next one is applied, one beyond a gap is held back and the gap
  is filled from the log; live events arriving during a replay wait for it;
- a ``head`` message beyond ``last_seq`` makes it replay, so a live event lost
  on the way (a Redis outage, a dropped process) is never missed for long;
- when the connection drops it reconnects by itself, to the next of its URLs
  (failover), with the cursor it had.

Everything it applies is recorded (``applied``: the event, whether it was
applied from a live message or from a replay, and from which server), and
every live message of its context is recorded as it arrived (``live``), so a
test can assert both "all of them, contiguous, no duplicate, in order" and
"this one came live, not by replay".

One deliberate difference from the browser: python-engineio hands each
incoming message to its own thread, so two messages sent back to back can
reach the handlers in either order. A gap therefore waits ``gap_grace``
seconds (default 50 ms) for the missing event before the client asks the log;
the browser, with one event loop and ordered delivery, asks at once.

Threads: the socket's handler threads only record, apply and schedule; one
worker thread per client does every blocking call (replay, reconnect). The
``on_event`` callback runs under the client's lock, in sequence order: keep it
short and do not call back into the client from it.

Usage::

    with LiveClient(token) as client:
        client.connect(server_a.url, server_b.url)   # fails over to B if A dies
        ...
        assert client.wait_until(lambda c: len(c.texts(prefix)) == 10, timeout=10)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import socketio

from .support import close_socket

Message = dict[str, Any]
Via = Literal["live", "replay"]

DEFAULT_CONTEXT = "live"
DUTYLOG_POSTED = "dutylog.posted"


@dataclass(frozen=True)
class Applied:
    """One event as the client applied it."""

    event: Message
    via: Via  # "live": from an event/events message; "replay": from a replay answer
    url: str  # the server it came from
    at: float  # time.time() when it was applied

    @property
    def seq(self) -> int:
        return int(self.event["seq"])


@dataclass
class Counters:
    """What the client did, for assertions and for benchmark reports."""

    connects: int = 0  # socket connections established (the first one included)
    disconnects: int = 0  # connections lost without close()/connect() asking for it
    failed_connects: int = 0  # automatic reconnect attempts that failed
    catch_ups: int = 0  # completed replay loops (each may take several pages)
    replay_pages: int = 0  # replay calls answered with ok
    gap_replays: int = 0  # catch-ups started because a live gap did not fill in time
    head_replays: int = 0  # catch-ups asked for by a head beyond last_seq
    stale_live: int = 0  # live events dropped because seq <= last_seq
    foreign: int = 0  # live messages of another context (or malformed)
    replays: list[tuple[str, int]] = field(default_factory=list)  # (url, since) of each call
    errors: list[str] = field(default_factory=list)  # failed replays and reconnects


class ReplayRefused(RuntimeError):
    """The server answered ``replay`` with something other than ``{"ok": true, ...}``."""


class LiveClient:
    """A live-channel client that never silently misses an event (see the module doc).

    Authenticate with an API ``token`` (sent as the socket's ``auth``) or with
    ``cookies`` of a signed-in session. ``since`` starts the cursor elsewhere
    than 0; ``page_limit`` is sent as the replay ``limit`` (the server's page
    size when None).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        cookies: Mapping[str, str] | None = None,
        context: str = DEFAULT_CONTEXT,
        since: int = 0,
        page_limit: int | None = None,
        gap_grace: float = 0.05,
        call_timeout: float = 15.0,
        retry_delay: float = 2.0,
        reconnect_delay: float = 0.25,
        reconnect_delay_max: float = 5.0,
        on_event: Callable[[Applied], None] | None = None,
    ) -> None:
        if token is None and not cookies:
            raise ValueError("LiveClient needs a token or session cookies")
        self.token = token
        self.cookies = dict(cookies or {})
        self.context = context
        self.page_limit = page_limit
        self.gap_grace = gap_grace
        self.call_timeout = call_timeout
        self.retry_delay = retry_delay
        self.reconnect_delay = reconnect_delay
        self.reconnect_delay_max = reconnect_delay_max
        self.on_event = on_event

        self.applied: list[Applied] = []
        self.live: list[Message] = []  # every live message of this context, as it arrived
        self.counters = Counters()

        # Everything below is guarded by _cond.
        self._cond = threading.Condition(threading.RLock())
        self._last_seq = since
        self._buffer: dict[int, tuple[Message, str]] = {}  # held-back live events by seq
        self._replaying = False
        self._ask_pending = False  # a catch-up is wanted now (connect, head, sync)
        self._gap_at: float | None = None  # catch up then unless the gap fills first
        self._retry_at: float | None = None  # catch up then after a failed replay
        self._asked = 0  # catch-ups asked for so far
        self._answered = 0  # the newest ask a completed catch-up covered
        self._urls: tuple[str, ...] = ()  # where to (re)connect, in failover order
        self._url_index = 0
        self._url: str | None = None  # the server of the current (or last) socket
        self._client: socketio.Client | None = None
        self._generation = 0  # bumped for every socket, so stale handlers are ignored
        self._connect_ask: tuple[int, int] = (0, 0)  # (generation, ask) of the last connect
        self._reconnect_at: float | None = None
        self._reconnect_backoff = reconnect_delay
        self._closed = False

        self._connect_lock = threading.Lock()  # one socket swap at a time
        self._worker = threading.Thread(target=self._work, name="live-client", daemon=True)
        self._worker.start()

    # --- state ---------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        with self._cond:
            return self._last_seq

    @property
    def url(self) -> str | None:
        """The server of the current (or last) connection."""
        with self._cond:
            return self._url

    @property
    def connected(self) -> bool:
        with self._cond:
            return self._client is not None and self._client.connected

    @property
    def events(self) -> list[Message]:
        """The applied events, in the order applied (which is sequence order)."""
        with self._cond:
            return [a.event for a in self.applied]

    def texts(self, prefix: str = "", *, type: str = DUTYLOG_POSTED) -> list[str]:
        """Payload texts of applied events of ``type`` that start with ``prefix``."""
        with self._cond:
            return _texts((a.event for a in self.applied), prefix, type)

    def live_texts(self, prefix: str = "", *, type: str = DUTYLOG_POSTED) -> list[str]:
        """The same for events that arrived live (applied or not), in arrival order."""
        with self._cond:
            return _texts(self.live, prefix, type)

    # --- connecting ----------------------------------------------------------

    def connect(self, *urls: str, wait: bool = True, timeout: float = 15.0) -> None:
        """Connect to the first of ``urls`` that answers; later drops fail over in turn.

        Connecting again (to the same or other URLs) keeps the cursor: that is a
        failover by hand. With ``wait`` it returns once the catch-up from the log
        that follows the connect has completed.
        """
        if not urls:
            raise ValueError("connect() needs at least one URL")
        with self._connect_lock:
            with self._cond:
                if self._closed:
                    raise RuntimeError("LiveClient is closed")
                self._urls = tuple(urls)
                self._reconnect_at = None
            last_exc: Exception | None = None
            for index in range(len(urls)):
                try:
                    self._open(index, timeout)
                    break
                except socketio.exceptions.ConnectionError as exc:
                    last_exc = exc
            else:
                raise ConnectionError(f"no server answered: {', '.join(urls)}") from last_exc
        if wait:
            with self._cond:
                gen = self._generation
            ok = self._wait(lambda: self._connect_ask[0] >= gen
                            and self._answered >= self._connect_ask[1], timeout)
            if not ok:
                raise TimeoutError(f"no catch-up within {timeout} s after connecting to "
                                   f"{self.url}: {self.counters.errors[-3:]}")

    def disconnect(self) -> None:
        """Drop the connection at once and stay disconnected (the cursor is kept)."""
        with self._connect_lock:
            with self._cond:
                self._reconnect_at = None
                self._urls = ()
            self._drop_socket()

    def close(self) -> None:
        """Drop the connection and stop the worker thread. Idempotent."""
        self.disconnect()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._worker is not threading.current_thread():
            self._worker.join(timeout=5)

    def __enter__(self) -> LiveClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _open(self, index: int, timeout: float) -> None:
        """Replace the socket with a new one to ``self._urls[index]`` (connect lock held)."""
        self._drop_socket()
        client = socketio.Client(reconnection=False)
        with self._cond:
            self._generation += 1
            gen = self._generation
            self._client = client
            self._url_index = index
            url = self._url = self._urls[index]
        client.on("connect", lambda: self._on_connect(gen))
        client.on("disconnect", lambda *_reason: self._on_disconnect(gen))
        client.on("event", lambda msg: self._on_live([msg], url))
        client.on("events", lambda run: self._on_live(run, url))
        client.on("head", self._on_head)
        auth: dict[str, Any] = {"context": self.context}
        if self.token is not None:
            auth["token"] = self.token
        headers: dict[str, str] = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            client.connect(url, headers=headers, auth=auth, transports=["websocket"],
                           wait_timeout=timeout)
        except Exception:
            with self._cond:
                if self._client is client:
                    self._client = None
            raise

    def _drop_socket(self) -> None:
        with self._cond:
            client, self._client = self._client, None
            self._generation += 1  # its disconnect handler is now stale
            self._buffer.clear()  # the log fills in whatever they were ahead of
            self._gap_at = self._retry_at = None
        if client is not None:
            try:
                close_socket(client)
            except Exception as exc:  # noqa: BLE001 - it is going away either way
                self.counters.errors.append(f"closing socket: {exc!r}")

    # --- socket handlers (one thread per message: record, apply, schedule) ----

    def _on_connect(self, gen: int) -> None:
        with self._cond:
            if gen != self._generation:
                return
            self.counters.connects += 1
            self._reconnect_backoff = self.reconnect_delay
            self._connect_ask = (gen, self._schedule("connect"))

    def _on_disconnect(self, gen: int) -> None:
        with self._cond:
            if gen != self._generation or self._closed:
                return  # we dropped it ourselves
            self.counters.disconnects += 1
            self._client = None
            self._buffer.clear()
            if self._urls:
                self._url_index = (self._url_index + 1) % len(self._urls)
                self._reconnect_at = time.monotonic()
                self._cond.notify_all()

    def _on_live(self, messages: Sequence[Message], url: str) -> None:
        with self._cond:
            for ev in messages:
                if not isinstance(ev, dict) or ev.get("context") != self.context:
                    self.counters.foreign += 1
                    continue
                self.live.append(ev)
                seq = ev["seq"]
                if seq <= self._last_seq:
                    self.counters.stale_live += 1
                    continue
                self._buffer[seq] = (ev, url)
            if self._replaying:
                return  # flushed when the replay ends
            self._drain()
            self._note_gap()

    def _on_head(self, msg: Any) -> None:
        if not isinstance(msg, dict) or msg.get("context") != self.context:
            return
        with self._cond:
            if isinstance(msg.get("seq"), int) and msg["seq"] > self._last_seq:
                self.counters.head_replays += 1
                self._schedule("head")

    # --- applying --------------------------------------------------------------

    def _apply(self, ev: Message, via: Via, url: str) -> None:
        """Apply one event if it is new (lock held)."""
        if ev["seq"] <= self._last_seq:
            return
        self._last_seq = ev["seq"]
        record = Applied(event=ev, via=via, url=url, at=time.time())
        self.applied.append(record)
        if self.on_event is not None:
            self.on_event(record)
        self._cond.notify_all()

    def _drain(self) -> None:
        """Apply held-back live events that are now next in line (lock held)."""
        for seq in [s for s in self._buffer if s <= self._last_seq]:
            del self._buffer[seq]
        while self._last_seq + 1 in self._buffer:
            ev, url = self._buffer.pop(self._last_seq + 1)
            self._apply(ev, "live", url)

    def _schedule(self, reason: str) -> int:
        """Ask for a catch-up now (lock held); returns the ask number a waiter can watch.

        ``reason`` is for reading the code and tracebacks only.
        """
        self._ask_pending = True
        self._asked += 1
        self._cond.notify_all()
        return self._asked

    def _note_gap(self) -> None:
        """After applying what can be applied (lock held): time a gap, or forget one."""
        if not self._buffer:
            self._gap_at = None  # filled by itself: the message was only late
        elif self._gap_at is None:
            self._gap_at = time.monotonic() + self.gap_grace
            self._cond.notify_all()

    # --- the worker: every blocking call happens here ------------------------

    def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_until(self, predicate: Callable[[LiveClient], bool], timeout: float = 30.0) -> bool:
        """Wait until ``predicate(self)`` holds (re-checked after every applied event)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def sync(self, timeout: float = 30.0) -> None:
        """Catch up from the log now and wait until that catch-up has completed."""
        with self._cond:
            ask = self._schedule("sync")
        if not self._wait(lambda: self._answered >= ask, timeout):
            raise TimeoutError(f"no catch-up within {timeout} s: {self.counters.errors[-3:]}")

    def _work(self) -> None:
        while True:
            with self._cond:
                job = self._next_job()
                if job is None:
                    return
            if job == "reconnect":
                self._reconnect()
            else:
                self._catch_up()

    def _next_job(self) -> str | None:
        """Block until there is something to do (lock held); None when closed."""
        while not self._closed:
            now = time.monotonic()
            if self._reconnect_at is not None and self._reconnect_at <= now:
                return "reconnect"
            times = [self._reconnect_at]
            if self._client is not None:
                if self._ask_pending:
                    return "catch-up"
                times += [self._gap_at, self._retry_at]
                if any(t is not None and t <= now for t in times[1:]):
                    return "catch-up"
            waits = [t - now for t in times if t is not None]
            self._cond.wait(min(waits) if waits else None)
        return None

    def _catch_up(self) -> None:
        with self._cond:
            if self._gap_at is not None and self._gap_at <= time.monotonic():
                self.counters.gap_replays += 1
            self._ask_pending = False
            self._gap_at = self._retry_at = None
            client, gen, upto, url = self._client, self._generation, self._asked, self._url
            if client is None or url is None:
                return  # dropped meanwhile; the next connect asks again
            self._replaying = True
        ok = False
        try:
            ok = self._replay_pages(client, url)
        except Exception as exc:  # noqa: BLE001 - a dropped socket, a timeout, a refusal
            with self._cond:
                self.counters.errors.append(f"replay from {url}: {exc!r}")
        finally:
            with self._cond:
                self._replaying = False
                if ok:
                    self.counters.catch_ups += 1
                    self._answered = max(self._answered, upto)
                elif gen == self._generation and self._client is not None:
                    self._retry_at = time.monotonic() + self.retry_delay  # as live.js does
                self._drain()
                self._note_gap()
                self._cond.notify_all()

    def _replay_pages(self, client: socketio.Client, url: str) -> bool:
        while True:
            with self._cond:
                request: dict[str, Any] = {"since": self._last_seq}
                self.counters.replays.append((url, self._last_seq))
            if self.page_limit is not None:
                request["limit"] = self.page_limit
            ack = client.call("replay", request, timeout=self.call_timeout)
            if not isinstance(ack, dict) or not ack.get("ok"):
                raise ReplayRefused(repr(ack))
            with self._cond:
                self.counters.replay_pages += 1
                for ev in ack["events"]:
                    self._apply(ev, "replay", url)
                if ack["head"] > self._last_seq:
                    self._last_seq = ack["head"]  # past events this reader may not see
                if not ack["more"]:
                    return True

    def _reconnect(self) -> None:
        with self._connect_lock:
            with self._cond:
                if self._reconnect_at is None or not self._urls:
                    return  # connect()/disconnect() took over meanwhile
                self._reconnect_at = None
                index = self._url_index
                url = self._urls[index]
            try:
                self._open(index, timeout=self.call_timeout)
            except Exception as exc:  # noqa: BLE001 - try the next server after a pause
                with self._cond:
                    self.counters.failed_connects += 1
                    self.counters.errors.append(f"reconnect to {url}: {exc!r}")
                    if self._urls and not self._closed:
                        self._url_index = (index + 1) % len(self._urls)
                        self._reconnect_at = time.monotonic() + self._reconnect_backoff
                        self._reconnect_backoff = min(self._reconnect_backoff * 2,
                                                      self.reconnect_delay_max)


def _texts(events: Any, prefix: str, type: str) -> list[str]:
    out = []
    for ev in events:
        payload = ev.get("payload") or {}
        text = payload.get("text") if isinstance(payload, dict) else None
        if ev.get("type") == type and isinstance(text, str) and text.startswith(prefix):
            out.append(text)
    return out

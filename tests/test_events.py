"""The one path: append in the transaction, publish after commit, replay since seq."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coordination import events
from coordination.clock import DrillClock
from coordination.contexts import LIVE, Context, ContextKind
from coordination.events import Actor, Event
from coordination.extensions import db

ACTOR = Actor.system("test")


@pytest.fixture
def published(app):
    """Capture what the publisher is handed (the real one is restored after)."""
    seen: list[events.Published] = []
    events.set_publisher(seen.extend)
    yield seen
    from coordination.realtime import publisher

    events.set_publisher(publisher.publish)


def _append(s, n=1, context=LIVE, audience=("role:operator",)):
    return [
        events.append(s, context=context, type="test.happened", actor=ACTOR,
                      audience=list(audience), payload={"n": i})
        for i in range(n)
    ]


def _count(context=LIVE):
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.context == context))


def test_events_are_published_only_after_commit(published):
    with db.unit_of_work() as s:
        _append(s, 2)
        s.flush()
        assert published == [], "nothing may be published before commit"
    assert [p.message["seq"] for p in published] == [1, 2]
    assert published[0].rooms == ("role:admin", "role:operator")
    assert published[0].message["payload"] == {"n": 0}


def test_rolled_back_change_appends_and_publishes_nothing(published):
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        _append(s, 3)
        s.flush()
        raise RuntimeError("the service failed after appending")
    assert published == []
    assert _count() == 0
    with db.reading() as s:
        assert events.head(s, LIVE) == 0, "the counter must roll back too: no gap"
    with db.unit_of_work() as s:
        _append(s)
    assert [p.message["seq"] for p in published] == [1]


def test_publisher_failure_does_not_undo_the_change(app):
    def broken(batch):
        raise ConnectionError("queue down")

    events.set_publisher(broken)
    try:
        with db.unit_of_work() as s:
            _append(s)
    finally:
        from coordination.realtime import publisher

        events.set_publisher(publisher.publish)
    assert _count() == 1


def test_concurrent_writers_get_gap_free_ordered_sequence(app):
    errors: list[BaseException] = []

    def writer():
        try:
            for _ in range(15):
                with db.unit_of_work() as s:
                    _append(s)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.reading() as s:
        seqs = list(s.scalars(select(Event.seq).order_by(Event.seq)))
        assert seqs == list(range(1, 91))
        assert events.head(s, LIVE) == 90
        ids_in_seq_order = list(s.scalars(select(Event.id).order_by(Event.seq)))
    assert ids_in_seq_order == sorted(ids_in_seq_order), "commit order must follow seq"


def _visible_to_operator(audience):
    return "role:operator" in audience


def test_replay_pages_and_filters_by_audience(app):
    with db.unit_of_work() as s:
        _append(s, 3)
        _append(s, 2, audience=("role:logistics",))
        _append(s, 3)
    with db.reading() as s:
        page = events.replay(s, context=LIVE, since=0, limit=4, visible=_visible_to_operator)
        assert [e["seq"] for e in page.events] == [1, 2, 3]
        assert page.more and page.head == 4
        page2 = events.replay(s, context=LIVE, since=page.head, limit=4,
                              visible=_visible_to_operator)
        assert [e["seq"] for e in page2.events] == [6, 7, 8]
        assert not page2.more and page2.head == 8
        empty = events.replay(s, context=LIVE, since=8, limit=4, visible=_visible_to_operator)
        assert empty.events == [] and empty.head == 8 and not empty.more


def test_drill_context_is_isolated_and_uses_its_clock(app):
    start = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    real = datetime.now(UTC)
    clock = DrillClock(anchor_real=real - timedelta(seconds=10), anchor_sim=start, speed=60)
    with db.unit_of_work() as s:
        ctx = Context(name="drill-1", kind=ContextKind.DRILL, title="drill")
        ctx.store_clock(clock)
        s.add(ctx)
    with db.unit_of_work() as s:
        drill_event = _append(s, context="drill-1")[0]
        live_event = _append(s)[0]
    assert drill_event.seq == 1 and live_event.seq == 1, "each context has its own sequence"
    # Ten real seconds at 60x are ten scenario minutes.
    assert drill_event.occurred_at - start >= timedelta(minutes=10)
    assert drill_event.occurred_at - start < timedelta(minutes=11)
    with db.reading() as s:
        live = events.replay(s, context=LIVE, since=0, limit=100, visible=lambda a: True)
        drill = events.replay(s, context="drill-1", since=0, limit=100, visible=lambda a: True)
    assert [e["context"] for e in live.events] == ["live"]
    assert [e["context"] for e in drill.events] == ["drill-1"]


def test_append_to_unknown_context_fails_and_leaves_nothing(app):
    with pytest.raises(LookupError), db.unit_of_work() as s:
        _append(s, context="nope")
    assert _count("nope") == 0

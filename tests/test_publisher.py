"""Fan-out grouping: runs of events with the same audience travel as one message."""

from __future__ import annotations

from coordination.events import Published
from coordination.realtime import publisher


def _p(seq, rooms=("role:admin", "role:operator"), context="live"):
    return Published(context, rooms, {"seq": seq, "context": context})


def _shape(runs):
    return [(ctx, [m["seq"] for m in msgs]) for ctx, _rooms, msgs in runs]


def test_runs_with_the_same_audience_are_grouped_in_order():
    runs = publisher.runs([_p(1), _p(2), _p(3), _p(4, ("role:admin",)), _p(5),
                           _p(1, context="drill-1")])
    assert _shape(runs) == [("live", [1, 2, 3]), ("live", [4]), ("live", [5]),
                            ("drill-1", [1])]
    assert runs[0][1] == ("role:admin", "role:operator")


def test_long_runs_are_split():
    runs = publisher.runs([_p(i) for i in range(1, publisher.MAX_RUN + 6)])
    assert [len(m) for _c, _r, m in runs] == [publisher.MAX_RUN, 5]

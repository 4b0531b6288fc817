"""Keep-alive pings during upstream silence (gevent greenlets; no sockets, so no patching needed)."""
from __future__ import annotations

import gevent
import pytest

from proxy.chat import Ping, Stop, TextDelta
from proxy.keepalive import with_pings


def slow(*steps):
    """Events with gevent sleeps between them: a number is a pause, anything else an event."""
    for step in steps:
        if isinstance(step, (int, float)):
            gevent.sleep(step)
        else:
            yield step


def test_silence_becomes_pings_and_events_keep_their_order():
    events = list(with_pings(slow(TextDelta("a"), 0.25, TextDelta("b"), Stop("end_turn")), interval=0.1))
    assert [e for e in events if not isinstance(e, Ping)] == [TextDelta("a"), TextDelta("b"), Stop("end_turn")]
    assert events.count(Ping()) >= 2
    assert events.index(TextDelta("a")) < events.index(Ping()) < events.index(TextDelta("b"))


def test_an_upstream_error_reaches_the_consumer():
    def broken():
        yield TextDelta("a")
        raise ValueError("upstream broke")

    stream = with_pings(broken(), interval=1)
    assert next(stream) == TextDelta("a")
    with pytest.raises(ValueError, match="upstream broke"):
        next(stream)


def test_closing_early_runs_the_upstreams_cleanup_before_returning():
    cleaned = []

    def upstream():
        try:
            yield TextDelta("a")
            gevent.sleep(10)
            yield TextDelta("never")
        finally:
            cleaned.append(True)

    stream = with_pings(upstream(), interval=5)
    assert next(stream) == TextDelta("a")
    stream.close()
    assert cleaned == [True]  # done by the time close() returns: slots are never freed half-way

"""Keep-alive for streams: a Ping event whenever the upstream has been silent for a while.

Clients (and nginx's proxy_read_timeout) give up on silent connections, and a client that has
left is only noticed on the next write; pings solve both. Needs a gevent-patched process.
"""
from __future__ import annotations

from typing import Iterator

import gevent
from gevent.queue import Empty, Queue

from proxy.chat import Ping, StreamEvent

QUEUE_SIZE = 64  # bounded: a slow client must not make us buffer the whole answer


def with_pings(events: Iterator[StreamEvent], interval: float) -> Iterator[StreamEvent]:
    """Yield Ping when the upstream is silent for `interval` s (a reader greenlet feeds a bounded queue)."""
    queue: Queue = Queue(maxsize=QUEUE_SIZE)
    done = object()

    def pump() -> None:
        try:
            for event in events:
                queue.put(event)
        except Exception as e:  # handed to the consumer, which re-raises it in its own greenlet
            queue.put(e)
            return
        queue.put(done)

    reader = gevent.spawn(pump)
    try:
        while True:
            try:
                item = queue.get(timeout=interval)
            except Empty:
                yield Ping()
                continue
            if item is done:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        # wait for the pump to finish its own clean-up (closing the upstream) before the caller's
        # finally runs, so a stream slot is never released from a half-killed greenlet
        reader.kill(block=True, timeout=5)

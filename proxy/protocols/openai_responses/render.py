"""The Responses adapter: StreamEvents -> SSE bytes (`event:` + `data:` lines) or one Response object."""
from __future__ import annotations

import itertools
import json
from typing import Iterable, Iterator, Optional

from proxy.chat import Ping, Reply, Stop, StreamEvent
from proxy.errors import ProxyError
from proxy.protocols.common import json_string, stream_failure, unfinished
from proxy.protocols.openai_errors import openai_error_body
from proxy.protocols.openai_responses.context import ResponseContext
from proxy.protocols.openai_responses.output import Emitted, OutputBuilder

PING = b": ping\n\n"

# The text deltas, most of a stream's events, skip the dict and its dump: a fixed frame around the
# escaped strings (json_string is what json.dumps escapes with), byte for byte what the general path
# makes of the same fields (test_render.py proves it). Event type -> (field order, part index key, frame).
_DELTA_FRAMES = {
    "response.output_text.delta": (
        ("item_id", "output_index", "content_index", "delta", "logprobs"), "content_index",
        'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":%s,'
        '"output_index":%d,"content_index":0,"delta":%s,"logprobs":[],"sequence_number":%d}\n\n'),
    "response.reasoning_summary_text.delta": (
        ("item_id", "output_index", "summary_index", "delta"), "summary_index",
        'event: response.reasoning_summary_text.delta\ndata: {"type":"response.reasoning_summary_text.delta",'
        '"item_id":%s,"output_index":%d,"summary_index":0,"delta":%s,"sequence_number":%d}\n\n'),
}


def _delta_frame(event_type: str, fields: dict, sequence_number: int) -> Optional[bytes]:
    """The fast frame of a text delta whose fields have exactly the usual shape, else None."""
    fast = _DELTA_FRAMES.get(event_type)
    if fast is None:
        return None
    order, part_key, frame = fast
    if tuple(fields) != order:
        return None
    item_id, index, part, delta = fields["item_id"], fields["output_index"], fields[part_key], fields["delta"]
    logprobs = fields.get("logprobs", [])
    if (type(item_id) is str and type(index) is int and type(part) is int and part == 0 and type(delta) is str
            and type(logprobs) is list and not logprobs and type(sequence_number) is int):
        return (frame % (json_string(item_id), index, json_string(delta), sequence_number)).encode("utf-8")
    return None


def sse_frame(event_type: str, fields: dict, sequence_number: int) -> bytes:
    """One SSE event; `data` carries the type and the stream's sequence number, as the real API does."""
    fast = _delta_frame(event_type, fields, sequence_number)
    if fast is not None:
        return fast
    data = {"type": event_type, **fields, "sequence_number": sequence_number}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event_type}\ndata: {text}\n\n".encode("utf-8")


class ResponsesAdapter:
    """Renders one request's answer; the context says how tool calls map back to client items."""
    stream_mimetype = "text/event-stream"

    def __init__(self, context: Optional[ResponseContext] = None):
        self.context = context or ResponseContext()

    def render_stream(self, events: Iterable[StreamEvent], reply: Reply) -> Iterator[bytes]:
        """SSE bytes: created, in_progress, the items' events, then completed / incomplete / failed."""
        builder = OutputBuilder(reply, self.context)
        numbers = itertools.count()

        def frames(batch: list[Emitted]) -> bytes:
            return b"".join(sse_frame(kind, fields, next(numbers)) for kind, fields in batch)

        yield frames(builder.start())
        try:
            for event in events:
                if isinstance(event, Ping):
                    yield PING
                    continue
                batch = builder.feed(event)
                if batch:
                    yield frames(batch)
                if builder.done:
                    return
        except Exception as e:  # the relay's contract is StreamError, but nothing may cut the stream dead
            yield frames(builder.fail(stream_failure(e, "Responses")))
            return
        # the events ended with neither Stop nor StreamError: fail, so Codex retries instead of waiting
        yield frames(builder.fail(unfinished()))

    def render_message(self, events: list[StreamEvent], reply: Reply) -> dict:
        """The Response object, equal to the one response.completed would carry."""
        builder = OutputBuilder(reply, self.context)
        for event in events:
            builder.feed(event)
        if not builder.done:
            builder.finish(Stop("end_turn"))
        return builder.final or {}

    def render_error(self, err: ProxyError) -> tuple[int, dict]:
        """(status, body) in OpenAI's error shape."""
        return openai_error_body(err)


ADAPTER = ResponsesAdapter()

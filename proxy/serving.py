"""The seam between Flask views and protocol adapters: run a `Chat`, answer in the protocol.

A protocol blueprint parses its JSON into a `Chat` and calls `serve_chat(adapter, chat)`.
Everything that decides the status line (account choice, failover, first upstream event)
happens inside `relay.start` before the response begins; afterwards errors travel as
`StreamError` events and the adapter renders its in-stream error.
"""
from __future__ import annotations

import dataclasses
import json
import math
import secrets
import time
from typing import Any, Iterable, Iterator, Optional, Protocol

from flask import Response, current_app, request, stream_with_context

from proxy.chat import Chat, Reply, Stop, StreamError, StreamEvent
from proxy.errors import ProxyError, bad_request
from proxy.estimate import estimate_tokens
from proxy.pool import derive_session_key
from proxy.protocols.common import as_proxy_error, unfinished
from proxy.security import client_key

# no-cache and no proxy buffering: every event must reach the client as it is made
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Adapter(Protocol):
    """What a protocol module offers the serving layer."""
    stream_mimetype: str

    def render_stream(self, events: Iterable[StreamEvent], reply: Reply) -> Iterator[bytes]:
        """Bytes of the streamed answer; never raises (errors are StreamError events)."""

    def render_message(self, events: list[StreamEvent], reply: Reply) -> dict:
        """The whole answer as one JSON object; `events` hold no StreamError."""

    def render_error(self, err: ProxyError) -> tuple[int, dict]:
        """(HTTP status, body) in the protocol's error shape."""


def new_reply(chat: Chat, raw_estimate: Optional[int] = None) -> Reply:
    """Identity of one answer; adapters add their own id prefix (msg_, chatcmpl-, resp_)."""
    services = current_app.extensions["kiro_proxy"]
    return Reply(id=secrets.token_hex(12), model=chat.model, created=int(time.time()),
                 input_tokens=services.estimate_tokens(chat, raw_estimate))


def error_response(adapter: Adapter, err: ProxyError) -> Response:
    """The protocol's error answer, with Retry-After when the error carries one."""
    status, body = adapter.render_error(err)
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    if err.retry_after is not None:
        resp.headers["Retry-After"] = str(max(1, int(err.retry_after)))
    return resp


# Deeper bodies are refused before any parser sees them: the parsers, the schema walkers and the
# token estimator recurse, and Python's stack must never be what decides the answer. Real client
# requests nest under 20 levels (tool schemas included).
MAX_JSON_DEPTH = 128


def read_json_body() -> Any:
    """The request's JSON body, or a 400 that says what is wrong with it."""
    raw = request.get_data(cache=True)
    if not raw:
        raise bad_request("The request body is empty; expected a JSON object.")
    try:
        body = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError as e:
        raise bad_request(f"The request body is nested too deeply (more than {MAX_JSON_DEPTH} levels).") from e
    except (UnicodeDecodeError, ValueError) as e:
        raise bad_request(f"The request body is not valid JSON: {e}") from e
    if _depth_over(body, MAX_JSON_DEPTH):
        raise bad_request(f"The request body is nested too deeply (more than {MAX_JSON_DEPTH} levels).")
    return body


def _no_constant(name: str) -> Any:
    """NaN and ±Infinity are not JSON; Python's parser would accept them and echo them back unparsable."""
    raise ValueError(f"{name} is not a valid JSON value")


def _finite_float(text: str) -> float:
    """A JSON number; one too large for a float (1e400) is refused rather than read as infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _depth_over(value: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` deep (iterative: the check itself must not recurse)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def with_session_key(chat: Chat) -> Chat:
    """The chat with a conversation key: the client's own, else one derived from its API key
    and first user turn (so a conversation stays on one account without client help)."""
    if chat.session_key:
        return chat
    first = next((m for m in chat.messages if m.role == "user"), None)
    key = derive_session_key(client_key(request), first.text() if first else "")
    return dataclasses.replace(chat, session_key=key) if key else chat


def serve_chat(adapter: Adapter, chat: Chat) -> Response:
    """Run `chat` through the relay and answer streamed or whole, in the adapter's protocol."""
    services = current_app.extensions["kiro_proxy"]
    chat = with_session_key(chat)
    raw = estimate_tokens(chat)  # once: the reply's usage, the history budget and the parser's fallback
    reply = new_reply(chat, raw)
    events = services.relay.start(chat, raw)  # raises ProxyError before any byte is sent
    if chat.stream:
        body = stream_with_context(adapter.render_stream(events, reply))
        resp = Response(body, mimetype=adapter.stream_mimetype, headers=SSE_HEADERS)
        resp.call_on_close(getattr(events, "close", lambda: None))
        return resp
    collected: list[StreamEvent] = []
    try:
        for event in events:
            if isinstance(event, StreamError):
                return error_response(adapter, as_proxy_error(event.error))
            collected.append(event)
    finally:
        getattr(events, "close", lambda: None)()
    if not any(isinstance(event, Stop) for event in collected):
        # what every stream renderer does too: an answer that never finished is not a success
        return error_response(adapter, unfinished())
    return Response(json.dumps(adapter.render_message(collected, reply), ensure_ascii=False),
                    mimetype="application/json")

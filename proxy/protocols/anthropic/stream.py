"""StreamEvents -> Anthropic's server-sent events, byte for byte like the real API.

message_start, then per block content_block_start / _delta* / _stop with a running index,
then message_delta and message_stop. A block closes when a different kind of content begins
and at Stop, and a thinking block always gets a signature_delta just before its stop. The one
exception is a tool call cut off by max_tokens (no ToolCallEnd): its block is left open, so
message_delta arrives inside it. That is how Claude Code recognises a tool call cut at the
output limit (it never runs it, and nudges the model to redo it); a closed block would look like
a finished call it may run. A StreamError becomes `event: error` and ends the stream
with no message_stop, which makes Claude Code retry without streaming.
"""
from __future__ import annotations

from json.encoder import encode_basestring as json_string  # the escaper json.dumps(ensure_ascii=False) uses
from typing import Iterable, Iterator, Optional

from proxy.chat import (Ping, Reply, ServerToolCall, ServerToolResult, Stop, StreamError,
                        StreamEvent, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd,
                        ToolCallStart, Usage)
from proxy.protocols.common import as_proxy_error, stream_failure, unfinished

from .errors import error_body
from .render import PING, message_id, signature, sse, to_json, usage_dict
from .websearch import result_content

# The delta events of text and thinking, one per Kiro frame, are the hot path: a fixed frame around
# the escaped text, byte for byte what `sse()` makes of the same dict (test_stream.py proves it).
_TEXT_DELTA = ('event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
               '"delta":{"type":"text_delta","text":%s}}\n\n')
_THINKING_DELTA = ('event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
                   '"delta":{"type":"thinking_delta","thinking":%s}}\n\n')


def text_delta(index: int, text: str) -> bytes:
    """`sse()` of a text_delta content_block_delta, without building and dumping the dict."""
    return (_TEXT_DELTA % (index, json_string(text))).encode("utf-8")


def thinking_delta(index: int, text: str) -> bytes:
    """`sse()` of a thinking_delta content_block_delta, without building and dumping the dict."""
    return (_THINKING_DELTA % (index, json_string(text))).encode("utf-8")


def render_stream(events: Iterable[StreamEvent], reply: Reply) -> Iterator[bytes]:
    """The whole SSE answer; never raises (failures become an `error` event)."""
    state = _Stream(reply)
    yield state.start()
    try:
        for event in events:
            out = state.feed(event)
            if out:  # one write per event: a block's start and first delta, or the closing events, go together
                yield out[0] if len(out) == 1 else b"".join(out)
            if state.done:
                return
        failure = unfinished()
    except Exception as e:  # the contract: a renderer never raises, the client gets an error event
        failure = stream_failure(e, "Anthropic")
    yield state.error(failure)


class _Stream:
    """The open block and running counters of one streamed answer."""

    def __init__(self, reply: Reply):
        self.reply = reply
        self.index = -1
        self.open: Optional[str] = None  # the open block's type
        self.tool_id: Optional[str] = None
        self.tool_has_input = False
        self.signature = ""
        self.usage: Optional[Usage] = None
        self.searches = 0
        self.done = False

    def start(self) -> bytes:
        """message_start: an empty assistant message with the input estimate."""
        usage = usage_dict(None, self.reply)
        usage["output_tokens"] = 1  # what the real API reports before any output
        return sse({"type": "message_start", "message": {
            "id": message_id(self.reply), "type": "message", "role": "assistant",
            "model": self.reply.model, "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": usage}})

    def error(self, err: Exception) -> bytes:
        """The in-stream error event; the stream ends after it."""
        self.done = True
        return sse({"type": "error", "error": error_body(as_proxy_error(err))})

    def feed(self, event: StreamEvent) -> list[bytes]:
        """The bytes one event produces (often none)."""
        if isinstance(event, Ping):
            return [PING]
        if isinstance(event, TextDelta):
            return self._text(event) if event.text else []
        if isinstance(event, ThinkingDelta):
            return self._thinking(event) if event.text or event.signature else []
        if isinstance(event, ToolCallStart):
            out = self._open("tool_use", {"type": "tool_use", "id": event.id, "name": event.name,
                                          "input": {}})
            self.tool_id, self.tool_has_input = event.id, False  # after _open, which clears them
            return out
        if isinstance(event, ToolCallDelta):
            if self.open != "tool_use" or event.id != self.tool_id or not event.fragment:
                return []
            self.tool_has_input = True
            return [self._delta({"type": "input_json_delta", "partial_json": event.fragment})]
        if isinstance(event, ToolCallEnd):
            return self._tool_end(event)
        if isinstance(event, ServerToolCall):
            self.searches += 1
            out = self._open("server_tool_use", {"type": "server_tool_use", "id": event.id,
                                                 "name": event.name, "input": {}})
            out.append(self._delta({"type": "input_json_delta", "partial_json": to_json(event.input)}))
            return out + self._close()
        if isinstance(event, ServerToolResult):
            out = self._open("web_search_tool_result", {
                "type": "web_search_tool_result", "tool_use_id": event.id,
                "content": result_content(event)})
            return out + self._close()
        if isinstance(event, Usage):
            self.usage = event
            return []
        if isinstance(event, Stop):
            return self._stop(event)
        if isinstance(event, StreamError):
            return [self.error(event.error)]
        return []

    def _text(self, event: TextDelta) -> list[bytes]:
        """A text delta, opening a text block first if needed."""
        out = [] if self.open == "text" else self._open("text", {"type": "text", "text": ""})
        out.append(text_delta(self.index, event.text))
        return out

    def _thinking(self, event: ThinkingDelta) -> list[bytes]:
        """A thinking delta; its signature is held until the block closes."""
        out = [] if self.open == "thinking" else self._open(
            "thinking", {"type": "thinking", "thinking": "", "signature": ""})
        if event.signature:
            self.signature = event.signature
        if event.text:
            out.append(thinking_delta(self.index, event.text))
        return out

    def _tool_end(self, event: ToolCallEnd) -> list[bytes]:
        """Close the tool block; send the arguments whole if no fragment carried them."""
        if self.open != "tool_use" or event.id != self.tool_id:
            return []
        out = []
        if not self.tool_has_input and event.arguments:
            out.append(self._delta({"type": "input_json_delta",
                                    "partial_json": to_json(event.arguments)}))
        return out + self._close()

    def _stop(self, event: Stop) -> list[bytes]:
        """Close any open block (but a cut-off tool call), then message_delta and message_stop."""
        out = [] if self.open == "tool_use" and event.reason == "max_tokens" else self._close()
        out.append(sse({"type": "message_delta",
                        "delta": {"stop_reason": event.reason, "stop_sequence": event.stop_sequence},
                        "usage": usage_dict(self.usage, self.reply, self.searches)}))
        out.append(sse({"type": "message_stop"}))
        self.done = True
        return out

    def _open(self, kind: str, block: dict) -> list[bytes]:
        """Close the open block and start a new one at the next index."""
        out = self._close()
        self.index += 1
        self.open = kind
        out.append(sse({"type": "content_block_start", "index": self.index, "content_block": block}))
        return out

    def _delta(self, delta: dict) -> bytes:
        """A content_block_delta for the open block."""
        return sse({"type": "content_block_delta", "index": self.index, "delta": delta})

    def _close(self) -> list[bytes]:
        """content_block_stop for the open block (after its signature, for thinking)."""
        if self.open is None:
            return []
        out = []
        if self.open == "thinking":
            out.append(self._delta({"type": "signature_delta",
                                    "signature": signature(self.signature, self.reply, self.index)}))
        out.append(sse({"type": "content_block_stop", "index": self.index}))
        self.open, self.tool_id, self.signature = None, None, ""
        return out

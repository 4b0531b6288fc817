"""Decoded Kiro frames -> neutral `StreamEvent`s (docs/kiro-upstream.md §3.2–§3.6).

Sans-IO: `feed` takes one `Frame` at a time, `finish` closes the answer with one `Usage`
and one `Stop`. Exception frames raise `KiroError`, except the output-budget one, which
only turns the stop reason into `max_tokens`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Optional

from proxy.chat import (Stop, StreamEvent, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd,
                        ToolCallStart, Usage)
from proxy.kiro.errors import KiroError, KiroErrorKind, classify_exception_frame
from proxy.kiro.eventstream import Frame

OPEN_TAG = "<thinking>"
CLOSE_TAG = "</thinking>"
AFTER_CLOSE = "\n\n"  # Kiro separates the thinking block from the answer with a blank line
OUTPUT_LIMIT_EXCEPTION = "ContentLengthExceededException"

# metadataEvent.stopReason values that change what the client is told.
_KIRO_STOP = {"MAX_TOKENS": "max_tokens", "MODEL_CONTEXT_WINDOW_EXCEEDED": "max_tokens",
              "CONTENT_FILTERED": "refusal"}


@dataclass
class _ToolCall:
    """One tool call being streamed: its argument text so far and whether `stop` arrived."""
    buffer: str = ""
    done: bool = False
    complete: bool = False  # stopped with arguments that parsed as a JSON object


class KiroEventParser:
    """Turns one Kiro answer's frames into StreamEvents, keeping text, tool and usage state."""

    def __init__(self, *, thinking_tags: bool, context_window: int, input_tokens_estimate: int,
                 tool_names: Optional[dict] = None):
        self._context_window = context_window
        self._input_estimate = input_tokens_estimate
        self._tool_names = tool_names or {}
        # Tag splitting: 'detect' until we know whether the answer opens with <thinking>.
        self._mode = "detect" if thinking_tags else "text"
        self._pending = ""
        self._tools: dict[str, _ToolCall] = {}
        self._current_tool: Optional[str] = None
        self._produced_chars = 0
        self._text_seen = False  # visible, non-blank answer text was emitted
        self._thinking_seen = False
        self._credits: Optional[float] = None
        self._context_tokens: Optional[int] = None
        self._kiro_input: Optional[int] = None
        self._kiro_output: Optional[int] = None
        self._cache_read = 0
        self._kiro_stop: Optional[str] = None
        self._output_limit = False
        self._finished = False

    # ------------------------------------------------------------ public

    def feed(self, frame: Frame) -> list[StreamEvent]:
        """The events one frame produces (often none); raises KiroError for exception frames."""
        kind = frame.message_type
        if kind == "exception":
            if frame.exception_type == OUTPUT_LIMIT_EXCEPTION:
                self._output_limit = True
                return []
            raise classify_exception_frame(frame.exception_type or "", frame.payload)
        if kind == "error":
            code = frame.headers.get(":error-code")
            text = frame.headers.get(":error-message")
            body = text.encode() if isinstance(text, str) and text else frame.payload
            raise classify_exception_frame(code if isinstance(code, str) else "", body)
        if kind not in ("event", None):
            return []
        handler = _HANDLERS.get(frame.event_type or "")
        if handler is None:  # unknown events must be ignored, not fatal (§3.2)
            return []
        return handler(self, _json_object(frame))

    def finish(self) -> list[StreamEvent]:
        """Flush buffered text and close with one Usage and one Stop (empty if already finished)."""
        if self._finished:
            return []
        self._finished = True
        events = self._flush()
        events.append(Usage(input_tokens=self._input_tokens(), output_tokens=self._output_tokens(),
                            cache_read_tokens=self._cache_read, credits=self._credits))
        events.append(Stop(self._stop_reason()))
        return events

    # ------------------------------------------------------------ text and thinking

    def _on_text(self, payload: dict) -> list[StreamEvent]:
        """assistantResponseEvent: a text delta (never deduplicated; Kiro repeats are real)."""
        if "followupPrompt" in payload:
            return []
        content = payload.get("content")
        if not isinstance(content, str) or not content:
            return []
        self._pending += content
        return self._split()

    def _split(self) -> list[StreamEvent]:
        """Move buffered text through the thinking-tag states as far as it can safely go."""
        events: list[StreamEvent] = []
        while self._pending:
            if self._mode == "text":
                events.append(self._text(self._pending))
                self._pending = ""
            elif self._mode == "detect":
                head = self._pending.lstrip()
                if not head or (len(head) < len(OPEN_TAG) and OPEN_TAG.startswith(head)):
                    break  # still could be the opening tag: wait for more
                if head.startswith(OPEN_TAG):
                    self._pending = head[len(OPEN_TAG):]
                    self._mode = "thinking"
                else:
                    self._mode = "text"
            elif self._mode == "thinking":
                end = self._pending.find(CLOSE_TAG)
                if end < 0:
                    keep = _partial_suffix(self._pending, CLOSE_TAG)
                    safe = self._pending[:len(self._pending) - keep]
                    if safe:
                        events.append(self._thinking(safe))
                    self._pending = self._pending[len(safe):]
                    break
                if end:
                    events.append(self._thinking(self._pending[:end]))
                self._pending = self._pending[end + len(CLOSE_TAG):]
                self._mode = "after_close"
            else:  # after_close: drop the blank line that follows the closing tag
                if self._pending.startswith(AFTER_CLOSE):
                    self._pending = self._pending[len(AFTER_CLOSE):]
                elif AFTER_CLOSE.startswith(self._pending):
                    break
                self._mode = "text"
        return events

    def _settle_text(self) -> list[StreamEvent]:
        """Before a tool call: text held back only to look for a tag goes out first, in Kiro's order
        (a tool call ends the answer's opening, so no <thinking> tag can follow any more)."""
        if self._mode == "detect":
            self._mode = "text"
            return self._split()
        if self._mode == "after_close":
            self._pending, self._mode = "", "text"  # a partial blank line after </thinking>
        return []

    def _flush(self) -> list[StreamEvent]:
        """At the end, whatever is still held back is emitted as what it most likely was."""
        pending, self._pending = self._pending, ""
        if not pending or self._mode == "after_close":
            return []
        if self._mode == "thinking":
            return [self._thinking(pending)]
        return [self._text(pending)]

    def _text(self, text: str) -> TextDelta:
        """A TextDelta, counted for usage and stop-reason decisions."""
        self._produced_chars += len(text)
        self._text_seen = self._text_seen or bool(text.strip())
        return TextDelta(text)

    def _thinking(self, text: str = "", signature: str = "") -> ThinkingDelta:
        """A ThinkingDelta, counted for usage and stop-reason decisions."""
        self._produced_chars += len(text)
        self._thinking_seen = True
        return ThinkingDelta(text=text, signature=signature)

    def _on_reasoning(self, payload: dict) -> list[StreamEvent]:
        """reasoningContentEvent: native reasoning text or its signature; redacted parts are dropped."""
        text = payload.get("text")
        signature = payload.get("signature")
        text = text if isinstance(text, str) else ""
        signature = signature if isinstance(signature, str) else ""
        return [self._thinking(text, signature)] if text or signature else []

    # ------------------------------------------------------------ tool calls

    def _on_tool(self, payload: dict) -> list[StreamEvent]:
        """toolUseEvent: start, argument fragments and stop of a client tool call (§3.3)."""
        events = self._settle_text()
        tool_id = payload.get("toolUseId")
        # Bare {"input":…} / {"stop":true} frames belong to the call in progress.
        tool_id = tool_id if isinstance(tool_id, str) and tool_id else self._current_tool
        if tool_id is None:
            return events
        call = self._tools.get(tool_id)
        if call is None:
            name = payload.get("name")
            name = name if isinstance(name, str) else ""
            call = self._tools[tool_id] = _ToolCall()
            events.append(ToolCallStart(tool_id, self._tool_names.get(name, name)))
        if call.done:
            return events
        self._current_tool = tool_id
        piece = payload.get("input")
        if isinstance(piece, dict):
            # An object is the whole input so far, not a fragment: replace, never concatenate.
            was_empty = not call.buffer
            call.buffer = json.dumps(piece, ensure_ascii=False) if piece else ""
            if was_empty and call.buffer:
                events.append(ToolCallDelta(tool_id, call.buffer))
        elif isinstance(piece, str) and piece:
            call.buffer += piece
            events.append(ToolCallDelta(tool_id, piece))
        if payload.get("stop") is True:
            call.done = True
            self._current_tool = None
            arguments = _parse_arguments(call.buffer)
            if arguments is not None:  # unparseable arguments = truncated call: never end it
                call.complete = True
                events.append(ToolCallEnd(tool_id, arguments))
        return events

    # ------------------------------------------------------------ usage and stop

    def _on_metering(self, payload: dict) -> list[StreamEvent]:
        """meteringEvent: credits charged for this call."""
        usage = payload.get("usage")
        if isinstance(usage, (int, float)) and not isinstance(usage, bool):
            self._credits = (self._credits or 0.0) + float(usage)
        return []

    def _on_context_usage(self, payload: dict) -> list[StreamEvent]:
        """contextUsageEvent: the request's share of the context window, in percent."""
        pct = payload.get("contextUsagePercentage")
        if isinstance(pct, (int, float)) and not isinstance(pct, bool):
            self._context_tokens = round(pct * self._context_window / 100)
        return []

    def _on_metadata(self, payload: dict) -> list[StreamEvent]:
        """metadataEvent / messageMetadataEvent: real token counts and Kiro's stop reason."""
        usage = payload.get("tokenUsage")
        if isinstance(usage, dict):
            uncached = _int(usage.get("uncachedInputTokens"))
            cache_read = _int(usage.get("cacheReadInputTokens"))
            cache_write = _int(usage.get("cacheWriteInputTokens"))
            if uncached is not None or cache_read is not None:
                self._kiro_input = (uncached or 0) + (cache_read or 0) + (cache_write or 0)
                self._cache_read = cache_read or 0
            output = _int(usage.get("outputTokens"))
            if output is not None:
                self._kiro_output = output
        stop = payload.get("stopReason", payload.get("stop_reason"))
        if isinstance(stop, str):
            self._kiro_stop = stop.upper()
        return []

    def _on_invalid_state(self, payload: dict) -> list[StreamEvent]:
        """invalidStateEvent: Kiro gave up on the request inside a 200 stream."""
        message = payload.get("message")
        reason = payload.get("reason")
        raise KiroError(KiroErrorKind.SERVER_ERROR, 500,
                        message if isinstance(message, str) and message else "Kiro reported an invalid state",
                        reason=reason if isinstance(reason, str) else None, error_type="invalidStateEvent")

    def _input_tokens(self) -> int:
        """Kiro's own input figure if it sent one, else the caller's estimate."""
        for figure in (self._kiro_input, self._context_tokens):
            if figure is not None:
                return figure
        return self._input_estimate

    def _output_tokens(self) -> int:
        """Kiro's output figure, else about four characters per token of everything produced."""
        if self._kiro_output is not None:
            return self._kiro_output
        chars = self._produced_chars + sum(len(call.buffer) for call in self._tools.values())
        return math.ceil(chars / 4)

    def _stop_reason(self) -> str:
        """Why the answer ended, judged from what actually arrived (§3.4, §3.6)."""
        if self._output_limit or any(not call.complete for call in self._tools.values()):
            return "max_tokens"  # a tool call without a good stop was cut off: never run it
        if self._tools:
            return "tool_use"
        if self._kiro_stop in _KIRO_STOP:
            return _KIRO_STOP[self._kiro_stop]
        if self._thinking_seen and not self._text_seen:
            return "max_tokens"
        return "end_turn"


_HANDLERS = {
    "assistantResponseEvent": KiroEventParser._on_text,
    "reasoningContentEvent": KiroEventParser._on_reasoning,
    "toolUseEvent": KiroEventParser._on_tool,
    "meteringEvent": KiroEventParser._on_metering,
    "contextUsageEvent": KiroEventParser._on_context_usage,
    "metadataEvent": KiroEventParser._on_metadata,
    "messageMetadataEvent": KiroEventParser._on_metadata,
    "invalidStateEvent": KiroEventParser._on_invalid_state,
}


_SCAN = json.JSONDecoder().scan_once  # what json.loads runs once it has a str and skipped whitespace


def _json_object(frame: Frame) -> dict:
    """A known event's JSON payload; anything but an object is a broken upstream."""
    # Kiro's payloads are compact UTF-8 objects: scan them straight from the decoded text. Anything
    # else (whitespace, BOMs, UTF-16/32, errors) takes json.loads below, which decides as before.
    try:
        text = frame.payload.decode("utf-8")
        if text[:1] == "{":
            data, end = _SCAN(text, 0)
            if end == len(text) and isinstance(data, dict):
                return data
    except (ValueError, StopIteration, RecursionError):
        pass
    try:
        data = json.loads(frame.payload)
    except ValueError as e:
        raise KiroError(KiroErrorKind.SERVER_ERROR, 500,
                        f"Kiro sent an unreadable {frame.event_type} payload") from e
    if not isinstance(data, dict):
        raise KiroError(KiroErrorKind.SERVER_ERROR, 500, f"Kiro sent a non-object {frame.event_type} payload")
    return data


def _parse_arguments(buffer: str) -> Optional[dict]:
    """The tool arguments as an object ({} when empty); None when they do not parse."""
    if not buffer.strip():
        return {}
    try:
        value = json.loads(buffer)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that could be the start of `tag`."""
    for size in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


def _int(value: object) -> Optional[int]:
    """An integer count, or None for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None

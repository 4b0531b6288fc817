"""StreamEvents to Gemini `GenerateContentResponse` chunks: SSE, a streamed JSON array, or one object.

Every chunk is `{"candidates":[{"content":{"parts":[…],"role":"model"},…,"index":0}],
"usageMetadata":…,"modelVersion":…,"responseId":…}`. The latest content chunk is held back until
the next event arrives, so that the finish reason rides on the last content chunk the way
the real API sends it; Gemini CLI retries (and prints the text again) when no chunk carries one.
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator, Optional

from proxy.chat import (Ping, Reply, ServerToolCall, ServerToolResult, Stop, StreamError,
                        StreamEvent, TextDelta, ThinkingDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.protocols.common import TEXT_SLOT, json_string, stream_failure, text_slot, unfinished
from proxy.protocols.gemini.errors import google_error

FINISH_REASONS = {"end_turn": "STOP", "tool_use": "STOP", "stop_sequence": "STOP",
                  "max_tokens": "MAX_TOKENS", "refusal": "SAFETY"}


def dumps(obj: object) -> str:
    """Compact JSON on one line. U+2028/U+2029 are escaped: JavaScript's `.` stops at them, and
    the Gemini SDK finds each SSE event with /^\\s*data: (.*)\\r\\n\\r\\n/."""
    return _line_safe(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def _line_safe(text: str) -> str:
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class _Answer:
    """What the events said so far, and how each becomes response parts."""

    def __init__(self, reply: Reply, include_thoughts: bool):
        self.reply = reply
        self.include_thoughts = include_thoughts
        self.usage: Optional[Usage] = None
        self.tool_names: dict[str, str] = {}
        self.queries: list[str] = []
        self.sources: list[dict] = []
        self._text_slot: Optional[tuple[int, Optional[tuple[str, str]]]] = None  # (prompt count, slot)

    def parts(self, event: StreamEvent) -> list[dict]:
        """The parts `event` adds to the answer (often none)."""
        if isinstance(event, TextDelta):
            return [{"text": event.text}] if event.text else []
        if isinstance(event, ThinkingDelta):
            if not self.include_thoughts or not (event.text or event.signature):
                return []
            part: dict = {"text": event.text, "thought": True}
            if event.signature:
                part["thoughtSignature"] = event.signature
            return [part]
        if isinstance(event, ToolCallStart):
            self.tool_names[event.id] = event.name
        elif isinstance(event, ToolCallEnd):
            # Gemini never streams arguments: the call goes out whole once complete
            call = {"id": event.id, "name": self.tool_names.get(event.id, ""),
                    "args": event.arguments}
            return [{"functionCall": call}]
        elif isinstance(event, ServerToolCall):
            query = event.input.get("query") if isinstance(event.input, dict) else None
            if isinstance(query, str) and query:
                self.queries.append(query)
        elif isinstance(event, ServerToolResult) and event.error is None:
            for result in event.results:
                if isinstance(result, dict) and result.get("url"):
                    self.sources.append({"web": {"uri": result["url"],
                                                 "title": result.get("title") or result["url"]}})
        elif isinstance(event, Usage):
            self.usage = event
        return []

    def chunk(self, parts: list[dict], finish: Optional[str] = None) -> dict:
        """One GenerateContentResponse; the finishing one also carries grounding and full usage."""
        candidate: dict = {"content": {"parts": parts, "role": "model"}}
        if finish is not None:
            candidate["finishReason"] = finish
            grounding = self._grounding()
            if grounding:
                candidate["groundingMetadata"] = grounding
        candidate["index"] = 0
        return {"candidates": [candidate], "usageMetadata": self._usage(finish is not None),
                "modelVersion": self.reply.model, "responseId": self.reply.id}

    def chunk_json(self, parts: list[dict]) -> str:
        """`dumps(self.chunk(parts))`. A lone text part, most of an answer's chunks, is put into a dump of
        the chunk kept while the prompt count it carries stays the same (common.text_slot)."""
        text = parts[0].get("text") if len(parts) == 1 and len(parts[0]) == 1 else None
        if not isinstance(text, str):
            return dumps(self.chunk(parts))
        prompt = self._prompt_tokens()
        if self._text_slot is None or self._text_slot[0] != prompt:
            self._text_slot = (prompt, text_slot(dumps(self.chunk([{"text": TEXT_SLOT}]))))
        slot = self._text_slot[1]
        if slot is None:
            return dumps(self.chunk(parts))
        return slot[0] + _line_safe(json_string(text)) + slot[1]

    def _prompt_tokens(self) -> int:
        # both count the whole prompt, cached part included
        return self.reply.input_tokens if self.usage is None else self.usage.input_tokens

    def _usage(self, final: bool) -> dict:
        """Token counts: the prompt on every chunk (Gemini CLI sizes its history by it), the
        answer on the last."""
        usage = self.usage
        prompt = self._prompt_tokens()
        if not final:
            return {"promptTokenCount": prompt, "totalTokenCount": prompt}
        output = usage.output_tokens if usage else 0
        meta = {"promptTokenCount": prompt, "candidatesTokenCount": output,
                "totalTokenCount": prompt + output}
        if usage and usage.cache_read_tokens:
            meta["cachedContentTokenCount"] = usage.cache_read_tokens
        return meta

    def _grounding(self) -> dict:
        """Web search results as Gemini's groundingMetadata (what Gemini CLI's web search reads)."""
        grounding: dict = {}
        if self.queries:
            grounding["webSearchQueries"] = self.queries
        if self.sources:
            grounding["groundingChunks"] = self.sources
        return grounding


class _SseFramer:
    """`data: <json>\\r\\n\\r\\n` per chunk, like the real API with alt=sse."""
    keepalive = b"\r\n"  # an SSE comment (": ping") breaks both Gemini SDKs' parsers; a blank line does not

    def frame(self, obj: dict) -> bytes:
        """One event."""
        return self.frame_json(dumps(obj))

    @staticmethod
    def frame_json(text: str) -> bytes:
        """One event, its object already dumped."""
        return b"data: " + text.encode() + b"\r\n\r\n"

    def close(self) -> bytes:
        """Nothing closes an SSE stream but its end."""
        return b""


class _ArrayFramer:
    """A JSON array streamed one element at a time: `[` chunk `,\\r\\n` chunk … `]`."""
    keepalive = b"\r\n"  # whitespace between array elements is still valid JSON

    def __init__(self) -> None:
        self.started = False

    def frame(self, obj: dict) -> bytes:
        """One array element, with the bracket or comma before it."""
        return self.frame_json(dumps(obj))

    def frame_json(self, text: str) -> bytes:
        """One array element already dumped, with the bracket or comma before it."""
        lead = b",\r\n" if self.started else b"["
        self.started = True
        return lead + text.encode()

    def close(self) -> bytes:
        """The closing bracket (an empty array if nothing came)."""
        return b"]" if self.started else b"[]"


def render_stream(events: Iterable[StreamEvent], reply: Reply, *, sse: bool = True,
                  include_thoughts: bool = False) -> Iterator[bytes]:
    """The streamed answer; a failure after the start becomes a final `{"error":…}` chunk."""
    framer = _SseFramer() if sse else _ArrayFramer()
    answer = _Answer(reply, include_thoughts)
    held: Optional[list[dict]] = None
    error: Optional[BaseException] = None
    try:
        for event in events:
            if isinstance(event, Stop):
                yield framer.frame(answer.chunk(held or [], FINISH_REASONS.get(event.reason, "STOP")))
                yield framer.close()
                return
            if isinstance(event, StreamError):
                error = event.error
                break
            if isinstance(event, Usage):
                answer.parts(event)
                continue
            if _signs(held, event):  # the signature closes the reasoning just held back
                held[0]["thoughtSignature"] = event.signature
                continue
            # any other event means the held chunk is not the last one: send it now
            if held is not None:
                yield framer.frame_json(answer.chunk_json(held))
                held = None
            elif isinstance(event, Ping):
                yield framer.keepalive
            if not isinstance(event, Ping):
                held = answer.parts(event) or None
    except Exception as e:  # the relay should send StreamError, but the stream must end cleanly
        error = stream_failure(e, "Gemini")
    if error is None:
        error = unfinished()
    if held is not None:
        yield framer.frame_json(answer.chunk_json(held))
    yield framer.frame(google_error(error)[1])
    yield framer.close()


def render_message(events: list[StreamEvent], reply: Reply, *,
                   include_thoughts: bool = False) -> dict:
    """The whole answer as one GenerateContentResponse, consecutive text (or thought) parts merged."""
    answer = _Answer(reply, include_thoughts)
    parts: list[dict] = []
    finish = "OTHER"
    for event in events:
        if isinstance(event, Stop):
            finish = FINISH_REASONS.get(event.reason, "STOP")
            continue
        for part in answer.parts(event):
            last = parts[-1] if parts else None
            if last is not None and _mergeable(last, part):
                last["text"] += part["text"]
                if part.get("thoughtSignature"):
                    last["thoughtSignature"] = part["thoughtSignature"]
            else:
                parts.append(dict(part))
    return answer.chunk(parts, finish)


def _signs(held: Optional[list[dict]], event: StreamEvent) -> bool:
    """Whether `event` is a bare signature for the held (shown, unsigned) thought part."""
    return (isinstance(event, ThinkingDelta) and not event.text and bool(event.signature)
            and held is not None and len(held) == 1 and held[0].get("thought") is True
            and "thoughtSignature" not in held[0])


def _mergeable(last: dict, part: dict) -> bool:
    """Two text parts of the same kind (answer or thought), neither yet closed by a signature."""
    return ("text" in last and "text" in part and last.get("thought") == part.get("thought")
            and "thoughtSignature" not in last)

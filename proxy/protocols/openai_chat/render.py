"""StreamEvents -> Chat Completions answers: `chat.completion.chunk` SSE bytes or one
`chat.completion` object; pure.

Reasoning goes out as `reasoning_content`, the de-facto field OpenAI-compatible clients read.
Chat Completions has no server-side tools, so ServerToolCall / ServerToolResult are not shown; the
text of the rounds before and after a web search is one message, so a blank line keeps them apart.
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator, Optional

from proxy.chat import (Ping, Reply, ServerToolResult, Stop, StreamError, StreamEvent, TextDelta, ThinkingDelta,
                        ToolCallDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.protocols.common import TEXT_SLOT, as_proxy_error, json_string, stream_failure, text_slot, unfinished
from proxy.protocols.openai_errors import openai_error_body

DONE = b"data: [DONE]\n\n"
PING = b": ping\n\n"  # an SSE comment: keeps the connection alive, ignored by every SSE parser
FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls",
                  "max_tokens": "length", "refusal": "content_filter"}


def completion_id(reply: Reply) -> str:
    """The OpenAI-style id of this answer."""
    return f"chatcmpl-{reply.id}"


def _dumps(obj: object) -> str:
    """Compact JSON, as OpenAI sends it."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _sse(obj: object) -> bytes:
    """One `data:` event."""
    return f"data: {_dumps(obj)}\n\n".encode()


def finish_reason(stop: Optional[Stop], saw_tool_calls: bool) -> str:
    """OpenAI's finish_reason; a tool call ends the turn as `tool_calls` even if the upstream said end_turn,
    because clients run their tool loop only on that value."""
    reason = FINISH_REASONS[stop.reason] if stop is not None else "stop"
    return "tool_calls" if saw_tool_calls and reason == "stop" else reason


def usage_body(usage: Optional[Usage], reply: Reply) -> dict:
    """OpenAI usage: prompt_tokens is the whole input (Usage.input_tokens already counts cache reads)."""
    if usage is None:  # the upstream never said: fall back to the estimate
        usage = Usage(input_tokens=reply.input_tokens, output_tokens=0)
    prompt = usage.input_tokens
    return {"prompt_tokens": prompt, "completion_tokens": usage.output_tokens,
            "total_tokens": prompt + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
            "completion_tokens_details": {"reasoning_tokens": 0}}


ROUND_SEPARATOR = "\n\n"


class _Text:
    """The answer's visible text across server-tool rounds: a new round's text starts on its own paragraph."""

    def __init__(self) -> None:
        self.sent = False
        self.new_round = False

    def piece(self, text: str) -> str:
        """`text` as it goes out, with the round separator before the first piece of a later round."""
        if self.new_round and self.sent:
            text = ROUND_SEPARATOR + text
        self.sent, self.new_round = True, False
        return text


def _error_body(err: BaseException) -> dict:
    """The OpenAI `{error: {...}}` chunk body for an in-stream failure."""
    return openai_error_body(as_proxy_error(err))[1]


class _Chunks:
    """Builds the chunks of one streamed answer, all sharing id, created and model."""

    def __init__(self, reply: Reply):
        self.head = {"id": completion_id(reply), "object": "chat.completion.chunk", "created": reply.created,
                     "model": reply.model, "system_fingerprint": None}
        # the chunks around answer and reasoning text, dumped once (see proxy.protocols.common.text_slot)
        self._slots = {key: text_slot(_dumps(self._delta_chunk({key: TEXT_SLOT})))
                       for key in ("content", "reasoning_content")}

    def _delta_chunk(self, delta: dict, finish: Optional[str] = None) -> dict:
        return {**self.head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    def text(self, key: str, text: str) -> bytes:
        """`delta({key: text})` for "content" or "reasoning_content", without dumping a chunk per piece."""
        slot = self._slots[key]
        if slot is None:
            return self.delta({key: text})
        return f"data: {slot[0]}{json_string(text)}{slot[1]}\n\n".encode()

    def delta(self, delta: dict, finish: Optional[str] = None) -> bytes:
        """A chunk carrying one choice delta (and a finish_reason on the last one)."""
        return _sse(self._delta_chunk(delta, finish))

    def usage(self, usage: dict) -> bytes:
        """The trailing usage chunk, which has no choices."""
        return _sse({**self.head, "choices": [], "usage": usage})


def render_stream(events: Iterable[StreamEvent], reply: Reply, *, include_usage: bool = False) -> Iterator[bytes]:
    """The SSE bytes of a streamed answer; a StreamError becomes an `error` chunk, then [DONE]."""
    chunks = _Chunks(reply)
    yield chunks.delta({"role": "assistant", "content": ""})
    calls: dict[str, int] = {}  # tool call id -> its index in the answer
    streamed: set[str] = set()  # ids of calls whose arguments have been sent
    usage: Optional[Usage] = None
    stop: Optional[Stop] = None
    text = _Text()
    try:
        for event in events:
            if isinstance(event, StreamError):
                yield _sse(_error_body(event.error))
                yield DONE
                return
            if isinstance(event, TextDelta) and event.text:
                yield chunks.text("content", text.piece(event.text))
            elif isinstance(event, ServerToolResult):
                text.new_round = True
            elif isinstance(event, ThinkingDelta) and event.text:
                yield chunks.text("reasoning_content", event.text)
            elif isinstance(event, ToolCallStart):
                calls[event.id] = len(calls)
                yield chunks.delta({"tool_calls": [{"index": calls[event.id], "id": event.id, "type": "function",
                                                    "function": {"name": event.name, "arguments": ""}}]})
            elif isinstance(event, ToolCallDelta) and event.fragment and event.id in calls:
                streamed.add(event.id)
                yield chunks.delta({"tool_calls": [{"index": calls[event.id],
                                                    "function": {"arguments": event.fragment}}]})
            elif isinstance(event, ToolCallEnd) and event.id in calls and event.id not in streamed:
                # nothing was streamed: send the whole object, so clients never parse "" as JSON
                yield chunks.delta({"tool_calls": [{"index": calls[event.id],
                                                    "function": {"arguments": _dumps(event.arguments)}}]})
            elif isinstance(event, Usage):
                usage = event
            elif isinstance(event, Stop) and stop is None:
                stop = event
                yield chunks.delta({}, finish_reason(stop, bool(calls)))
            elif isinstance(event, Ping):
                yield PING
    except Exception as e:  # the contract says StreamError, but a raising relay must not cut the stream dead
        yield _sse(_error_body(stream_failure(e, "Chat Completions")))
        yield DONE
        return
    if stop is None:
        yield _sse(_error_body(unfinished()))
    elif include_usage:
        yield chunks.usage(usage_body(usage, reply))
    yield DONE


def render_message(events: list[StreamEvent], reply: Reply) -> dict:
    """The `chat.completion` object of a whole answer; `events` hold no StreamError."""
    text: list[str] = []
    rounds = _Text()
    reasoning: list[str] = []
    calls: dict[str, dict] = {}  # id -> {"name", "fragments", "arguments"}
    usage: Optional[Usage] = None
    stop: Optional[Stop] = None
    for event in events:
        if isinstance(event, TextDelta):
            if event.text:
                text.append(rounds.piece(event.text))
        elif isinstance(event, ServerToolResult):
            rounds.new_round = True
        elif isinstance(event, ThinkingDelta):
            reasoning.append(event.text)
        elif isinstance(event, ToolCallStart):
            calls[event.id] = {"name": event.name, "fragments": [], "arguments": None}
        elif isinstance(event, ToolCallDelta) and event.id in calls:
            calls[event.id]["fragments"].append(event.fragment)
        elif isinstance(event, ToolCallEnd) and event.id in calls:
            calls[event.id]["arguments"] = event.arguments
        elif isinstance(event, Usage):
            usage = event
        elif isinstance(event, Stop) and stop is None:
            stop = event
    content = "".join(text)
    message: dict = {"role": "assistant", "content": content if content or not calls else None}
    if "".join(reasoning):
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = [{"id": call_id, "type": "function",
                                  "function": {"name": call["name"], "arguments": _call_arguments(call)}}
                                 for call_id, call in calls.items()]
    message["refusal"] = None
    return {"id": completion_id(reply), "object": "chat.completion", "created": reply.created,
            "model": reply.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish_reason(stop, bool(calls))}],
            "usage": usage_body(usage, reply), "system_fingerprint": None}


def _call_arguments(call: dict) -> str:
    """The arguments string, exactly what the stream would have carried: the fragments as streamed,
    else (a call that ended with nothing streamed) the parsed object.

    A call that never ended was cut off at max_tokens: it keeps its partial JSON, or "" when
    nothing came, never a runnable "{}" (the stream sends "" then too)."""
    streamed = "".join(call["fragments"])
    if streamed or call["arguments"] is None:
        return streamed  # may be partial JSON when the answer was cut at max_tokens, as at OpenAI
    return _dumps(call["arguments"])

"""The four adapters side by side: every event script, streamed and whole, checked against the
official SDKs' own types, and the decisions all of them must make the same way.

The scripts include the edges of the event grammar (proxy/chat.py): a StreamError right after
the first event, a Ping before anything, a tool call cut off by max_tokens (ToolCallStart with no
ToolCallEnd), events that end with no Stop, and an event source that raises.
"""
from __future__ import annotations

import json

import pydantic
import pytest
from anthropic import types as anthropic_types
from google.genai import types as genai_types
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

from proxy.chat import (Ping, Reply, ServerToolCall, ServerToolResult, Stop, StreamError, TextDelta, ThinkingDelta,
                        ToolCallDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.anthropic import ADAPTER as ANTHROPIC
from proxy.protocols.common import UNFINISHED
from proxy.protocols.gemini.adapter import GeminiAdapter
from proxy.protocols.openai_chat.adapter import ChatCompletionsAdapter
from proxy.protocols.openai_responses.context import ClientTool, ResponseContext
from proxy.protocols.openai_responses.render import ResponsesAdapter

REPLY = Reply(id="r1", model="m", created=1700000000, input_tokens=10)
BOOM = ProxyError(ErrorKind.UPSTREAM, "boom")
SCRIPTS = {
    "text": [TextDelta("hi"), Usage(10, 2, cache_read_tokens=4), Stop("end_turn")],
    "thinking": [ThinkingDelta("hmm"), ThinkingDelta(signature="sig"), TextDelta("hi"), Usage(10, 2),
                 Stop("end_turn")],
    "tool call": [TextDelta("x"), ToolCallStart("c1", "f"), ToolCallDelta("c1", '{"a":'), ToolCallDelta("c1", "1}"),
                  ToolCallEnd("c1", {"a": 1}), Usage(10, 2), Stop("tool_use")],
    "whole tool calls": [ToolCallStart("c1", "f"), ToolCallEnd("c1", {"a": 1}), ToolCallStart("c2", "g"),
                         ToolCallEnd("c2", {}), Stop("tool_use")],
    "error after the first event": [TextDelta("hi"), StreamError(BOOM)],
    "error first": [StreamError(BOOM)],
    "ping first": [Ping(), TextDelta("hi"), Ping(), Stop("end_turn")],
    "call cut by max_tokens": [ToolCallStart("c1", "f"), ToolCallDelta("c1", '{"a":'), Usage(10, 5),
                               Stop("max_tokens")],
    "call cut before any argument": [TextDelta("x"), ToolCallStart("c1", "f"), Stop("max_tokens")],
    "web search": [ServerToolCall("s1", "web_search", {"query": "q"}),
                   ServerToolResult("s1", "web_search", [{"title": "t", "url": "https://u.test", "snippet": "s"}]),
                   TextDelta("answer"), Stop("end_turn")],
    "failed web search": [ServerToolCall("s1", "web_search", {"query": "q"}),
                          ServerToolResult("s1", "web_search", [], error="unavailable"), TextDelta("a"),
                          Stop("end_turn")],
    "no stop": [TextDelta("hi")],
    "nothing": [],
    "stop sequence": [TextDelta("hi"), Stop("stop_sequence", "X")],
    "refusal": [Stop("refusal")],
    "rate limited mid-stream": [TextDelta("a"), StreamError(ProxyError(ErrorKind.RATE_LIMITED, "slow",
                                                                        retry_after=3))],
}
CONTEXT = ResponseContext(tools={"f": ClientTool("function", "f"), "g": ClientTool("custom", "g")})
ADAPTERS = {
    "anthropic": ANTHROPIC,
    "chat": ChatCompletionsAdapter(include_usage=True),
    "responses": ResponsesAdapter(CONTEXT),
    "gemini sse": GeminiAdapter(sse=True, include_thoughts=True),
    "gemini array": GeminiAdapter(sse=False, include_thoughts=True),
}
ANTHROPIC_EVENT = pydantic.TypeAdapter(anthropic_types.RawMessageStreamEvent)
RESPONSES_EVENT = pydantic.TypeAdapter(ResponseStreamEvent)


def sse_events(raw: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) of each SSE event; comments and blank keep-alives skipped."""
    out = []
    for block in raw.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        names = [line[7:] for line in lines if line.startswith("event: ")]
        (data,) = [line[6:] for line in lines if line.startswith("data: ")]
        out.append((names[0] if names else None, data))
    return out


def stream_objects(name: str, raw: bytes) -> list[dict]:
    """The JSON objects of a streamed answer, each checked against its SDK type; errors are kept as dicts."""
    if name == "gemini array":
        objects = json.loads(raw)
    else:
        events = sse_events(raw)
        if name == "chat":
            assert events[-1] == (None, "[DONE]")
            events = events[:-1]
        objects = []
        for event, data in events:
            obj = json.loads(data)
            if event is not None:
                assert event == obj["type"]  # the event line names the payload's type
            objects.append(obj)
    for obj in objects:
        if "error" in obj and obj.get("type") in (None, "error"):
            continue
        if name == "anthropic":
            if obj["type"] != "ping":
                ANTHROPIC_EVENT.validate_python(obj)
        elif name == "chat":
            ChatCompletionChunk.model_validate(obj)
        elif name == "responses":
            RESPONSES_EVENT.validate_python(obj)
        else:
            genai_types.GenerateContentResponse.model_validate(obj)
    return objects


def whole_object(name: str, events: list) -> dict:
    """The non-streamed answer for `events` (which serving never passes a StreamError), SDK-checked."""
    body = ADAPTERS[name].render_message([e for e in events if not isinstance(e, StreamError)], REPLY)
    model = {"anthropic": anthropic_types.Message, "chat": ChatCompletion, "responses": Response}.get(
        name, genai_types.GenerateContentResponse)
    model.model_validate(body)
    return body


def last_error(name: str, objects: list[dict]) -> str | None:
    """The message of the stream's closing in-stream error, or None when it ended normally."""
    last = objects[-1]
    if name == "responses":
        return last["response"]["error"]["message"] if last["type"] == "response.failed" else None
    return last["error"]["message"] if "error" in last and last.get("type") in (None, "error") else None


def raising(first, exc):
    """An event source that yields `first`, then raises `exc`."""
    yield first
    raise exc


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_renders_what_the_sdk_types_accept(name, script):
    events = SCRIPTS[script]
    objects = stream_objects(name, b"".join(ADAPTERS[name].render_stream(iter(events), REPLY)))
    ended = any(isinstance(e, Stop) for e in events) and not any(isinstance(e, StreamError) for e in events)
    assert (last_error(name, objects) is None) == ended
    whole_object(name, events)


@pytest.mark.parametrize("name", ADAPTERS)
def test_an_answer_without_stop_ends_with_the_same_error_everywhere(name):
    objects = stream_objects(name, b"".join(ADAPTERS[name].render_stream(iter([TextDelta("a")]), REPLY)))
    assert last_error(name, objects) == UNFINISHED


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize("exc, message", [(ProxyError(ErrorKind.TIMEOUT, "Kiro went quiet."), "Kiro went quiet."),
                                          (KeyError("x"), "The proxy failed while streaming the answer.")])
def test_an_event_source_that_raises_ends_with_an_in_stream_error_everywhere(name, exc, message):
    # regression: only the Anthropic renderer caught non-ProxyError exceptions; the others let
    # them cut the response dead after the status line had been sent
    raw = b"".join(ADAPTERS[name].render_stream(raising(TextDelta("a"), exc), REPLY))
    assert last_error(name, stream_objects(name, raw)) == message


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_stream_error_right_after_the_first_event_keeps_that_event_and_ends_in_error(name):
    raw = b"".join(ADAPTERS[name].render_stream(iter(SCRIPTS["error after the first event"]), REPLY))
    objects = stream_objects(name, raw)
    assert last_error(name, objects) == "boom"
    assert "hi" in raw.decode()


@pytest.mark.parametrize("name", ADAPTERS)
@pytest.mark.parametrize("script", ["call cut by max_tokens", "call cut before any argument"])
def test_a_call_cut_by_max_tokens_is_never_a_finished_call(name, script):
    """The grammar's truncated call (ToolCallStart, no ToolCallEnd, Stop max_tokens): every client
    is told the answer hit the limit, and none is handed the call as one it may run."""
    events = SCRIPTS[script]
    objects = stream_objects(name, b"".join(ADAPTERS[name].render_stream(iter(events), REPLY)))
    whole = whole_object(name, events)
    if name == "anthropic":  # the block stays open: message_delta arrives inside it
        kinds = [o["type"] for o in objects]
        assert kinds[-3:] == [kinds[-3], "message_delta", "message_stop"] and kinds[-3] != "content_block_stop"
        assert "c1" not in json.dumps(whole) and whole["stop_reason"] == "max_tokens"
    elif name == "responses":  # Codex runs every function_call `.done`, whatever its status
        assert not [o for o in objects if o["type"] == "response.output_item.done" and o["item"].get("call_id")]
        assert "c1" not in json.dumps(whole) and whole["incomplete_details"] == {"reason": "max_output_tokens"}
    elif name == "chat":  # as at OpenAI: the partial arguments as streamed, finish_reason "length"
        (call,) = whole["choices"][0]["message"]["tool_calls"]
        assert call["function"]["arguments"] == "".join(e.fragment for e in events if isinstance(e, ToolCallDelta))
        assert whole["choices"][0]["finish_reason"] == "length"
    else:  # Gemini sends a call only once it is complete
        assert "functionCall" not in json.dumps(objects) + json.dumps(whole)
        assert whole["candidates"][0]["finishReason"] == "MAX_TOKENS"

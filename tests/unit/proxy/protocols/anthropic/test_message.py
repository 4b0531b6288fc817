"""Exact Message JSON of the non-streaming renderer, and agreement with the streamed answer."""
import base64
import json

import anthropic
import pytest
from anthropic.lib.streaming._messages import accumulate_event

from proxy.chat import (Ping, Reply, ServerToolCall, ServerToolResult, Stop, TextDelta, ThinkingDelta,
                        ToolCallDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.protocols.anthropic.message import render_message
from proxy.protocols.anthropic.stream import render_stream
from proxy.protocols.anthropic.websearch import encode_snippet

USAGE = {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 9}


def reply(**overrides) -> Reply:
    """A Reply with fixed identity; keyword arguments override fields."""
    return Reply(**{"id": "abc", "model": "claude-x", "created": 1700000000, "input_tokens": 12, **overrides})


def message(content, stop_reason="end_turn", stop_sequence=None, usage=None) -> dict:
    """The expected Message object around `content`."""
    return {"id": "msg_abc", "type": "message", "role": "assistant", "model": "claude-x", "content": content,
            "stop_reason": stop_reason, "stop_sequence": stop_sequence, "usage": usage or USAGE}


def test_text_answer():
    events = [Ping(), TextDelta("Hello"), TextDelta(" there"), Usage(12, 9), Stop("end_turn")]
    assert render_message(events, reply()) == message([{"type": "text", "text": "Hello there"}])


def test_thinking_text_and_tool_use():
    events = [ThinkingDelta("Plan"), ThinkingDelta(signature="sig"), TextDelta("Running."),
              ToolCallStart("toolu_1", "Bash"), ToolCallDelta("toolu_1", '{"command":"ls"}'),
              ToolCallEnd("toolu_1", {"command": "ls"}), Usage(12, 9), Stop("tool_use")]
    assert render_message(events, reply()) == message([
        {"type": "thinking", "thinking": "Plan", "signature": "sig"},
        {"type": "text", "text": "Running."},
        {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
    ], stop_reason="tool_use")


def test_thinking_without_signature_gets_the_stand_in_for_its_index():
    events = [TextDelta("a"), ThinkingDelta("b"), Usage(12, 9), Stop("end_turn")]
    content = render_message(events, reply())["content"]
    assert content[1] == {"type": "thinking", "thinking": "b",
                          "signature": base64.b64encode(b"kiro-proxy:abc:1").decode()}


def test_web_search_answer():
    events = [ServerToolCall("srvtoolu_1", "web_search", {"query": "kiro"}),
              ServerToolResult("srvtoolu_1", "web_search", [{"title": "Kiro", "url": "https://kiro.dev",
                                                            "snippet": "An IDE.", "page_age": "3 days ago"}]),
              TextDelta("Kiro is an IDE."), Usage(12, 9), Stop("end_turn")]
    assert render_message(events, reply()) == message([
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "kiro"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
            {"type": "web_search_result", "title": "Kiro", "url": "https://kiro.dev",
             "encrypted_content": encode_snippet("An IDE."), "page_age": "3 days ago"}]},
        {"type": "text", "text": "Kiro is an IDE."},
    ], usage={**USAGE, "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0}})


@pytest.mark.parametrize("fragments", [['{"content":"ab'], ['{"path":"a"', "}"]])
def test_a_tool_call_cut_by_max_tokens_is_left_out(fragments):
    # regression: it was a tool_use block with the partial input (or {}), which a client could run;
    # even fragments that happen to parse are a call Kiro never finished
    events = [TextDelta("Writing."), ToolCallStart("t1", "Write")] + [ToolCallDelta("t1", f) for f in fragments] + [
        Usage(12, 9), Stop("max_tokens")]
    assert render_message(events, reply()) == message([{"type": "text", "text": "Writing."}],
                                                      stop_reason="max_tokens")


def test_stop_sequence_and_missing_usage():
    got = render_message([TextDelta("x"), Stop("stop_sequence", "END")], reply(input_tokens=40))
    assert got == message([{"type": "text", "text": "x"}], stop_reason="stop_sequence", stop_sequence="END",
                          usage={**USAGE, "input_tokens": 40, "output_tokens": 0})


def test_missing_stop_is_inferred():
    assert render_message([ToolCallStart("t", "n"), ToolCallEnd("t", {})], reply())["stop_reason"] == "tool_use"
    assert render_message([TextDelta("x")], reply())["stop_reason"] == "end_turn"


SCRIPTS = {
    "text": [TextDelta("Hello"), TextDelta(" there"), Usage(12, 9), Stop("end_turn")],
    "thinking+tool": [ThinkingDelta("Plan"), TextDelta("Run."), ToolCallStart("toolu_1", "Bash"),
                      ToolCallDelta("toolu_1", '{"command":'), ToolCallDelta("toolu_1", '"ls"}'),
                      ToolCallEnd("toolu_1", {"command": "ls"}), Usage(30, 9), Stop("tool_use")],
    "web search": [ServerToolCall("s1", "web_search", {"query": "q"}),
                   ServerToolResult("s1", "web_search", [{"title": "T", "url": "https://t", "snippet": "S"}]),
                   TextDelta("Found."), Usage(12, 4, cache_read_tokens=2), Stop("end_turn")],
}


@pytest.mark.parametrize("events", SCRIPTS.values(), ids=SCRIPTS.keys())
def test_sdk_accumulated_stream_equals_the_message(events):
    """The SDK's own stream accumulation of our bytes must give the non-streaming answer."""
    snapshot, buffers = None, {}
    for block in b"".join(render_stream(iter(events), reply())).decode().split("\n\n")[:-1]:
        name, data = block.split("\n")  # a write may carry several events
        if name == "event: ping":
            continue
        snapshot = accumulate_event(event=json.loads(data[len("data: "):]), current_snapshot=snapshot,
                                    json_bufs=buffers)
    whole = render_message(events, reply())
    assert snapshot.to_dict(exclude_none=True) == anthropic.types.Message.model_validate(whole).to_dict(
        exclude_none=True)

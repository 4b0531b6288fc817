"""Tests for tests/fake_kiro/render.py: deltas, fragments, tool frames, usage tail."""
import json
import re

from tests.fake_kiro.eventstream import decode_events
from tests.fake_kiro.render import (context_percentage, render, split_arguments, split_text, tool_frames,
                                    tool_use_id, truncated_plan)
from tests.fake_kiro.script import ReplyPlan, ToolCall


def stream(parts):
    """Decode a StreamParts' complete frames."""
    return decode_events(b"".join(parts.all()))


def rendered(plan, **kw):
    """render() with test defaults."""
    args = dict(input_tokens=1000, window=200_000, credits=0.25, text_chunk=4, fragment_chars=7,
                emit_metadata=False)
    args.update(kw)
    return render(plan, **args)


def test_split_text_has_a_legitimate_repeat_and_reassembles():
    chunks = split_text("Hello! This is the fake Kiro.", 4)
    assert "".join(chunks) == "Hello! This is the fake Kiro."
    assert chunks[:4] == ["He", "l", "l", "o! T"]
    assert all(len(c) <= 4 for c in chunks)


def test_split_text_without_doubles_is_plain_chunks():
    assert split_text("abcdefg", 3) == ["abc", "def", "g"]


def test_split_arguments_cuts_inside_an_escape_and_reassembles():
    arguments = json.dumps({"input": "*** Begin Patch\n+x\n"})
    fragments = split_arguments(arguments, 5, "seed")
    assert "".join(fragments) == arguments
    assert any(f.endswith("\\") for f in fragments)
    assert len(fragments) > 3 and all(fragments)


def test_tool_use_id_shape():
    assert re.fullmatch(r"tooluse_[A-Za-z0-9]{22}", tool_use_id())


def test_tool_frames_start_fragments_stop_with_alphabetical_keys():
    evts = decode_events(b"".join(tool_frames(ToolCall("get_weather", {"city": "Lyon"}), "tooluse_X", 3)))
    payloads = [p for _, p in evts]
    assert payloads[0] == {"name": "get_weather", "toolUseId": "tooluse_X"}
    assert payloads[1] == {"input": "", "name": "get_weather", "toolUseId": "tooluse_X"}
    assert payloads[-1] == {"name": "get_weather", "stop": True, "toolUseId": "tooluse_X"}
    assert all(list(p) == sorted(p) for p in payloads)
    assert json.loads("".join(p.get("input", "") for p in payloads)) == {"city": "Lyon"}


def test_render_text_then_metering_then_context_usage():
    evts = stream(rendered(ReplyPlan("Hi there")))
    assert [t for t, _ in evts] == ["assistantResponseEvent"] * 2 + ["meteringEvent", "contextUsageEvent"]
    assert evts[-2][1] == {"unit": "credit", "unitPlural": "credits", "usage": 0.25}
    assert evts[-1][1] == {"contextUsagePercentage": 0.5}


def test_render_reasoning_first_with_signature():
    evts = stream(rendered(ReplyPlan("Hi", reasoning="Think")))
    reasoning = [p for t, p in evts if t == "reasoningContentEvent"]
    assert "".join(p.get("text", "") for p in reasoning) == "Think"
    assert "signature" in reasoning[-1] and evts[0][0] == "reasoningContentEvent"


def test_render_metadata_event_when_asked():
    evts = stream(rendered(ReplyPlan("Hi", [ToolCall("Bash", {"command": "ls"})]), emit_metadata=True))
    kind, payload = evts[-1]
    assert kind == "metadataEvent" and payload["stopReason"] == "TOOL_USE"
    assert payload["tokenUsage"]["uncachedInputTokens"] == 1000
    assert payload["tokenUsage"]["totalTokens"] == 1000 + payload["tokenUsage"]["outputTokens"]


def test_truncated_render_has_no_stop_and_no_tail():
    parts = rendered(truncated_plan(ReplyPlan("Hi")), truncate_tools=True)
    evts = stream(parts)
    assert parts.tail == [] and not any(p.get("stop") for _, p in evts)
    assert {t for t, _ in evts} == {"assistantResponseEvent", "toolUseEvent"}


def test_context_percentage():
    assert context_percentage(123_000, 200_000) == 61.5
    assert context_percentage(1, 1_000_000) == 0.0001

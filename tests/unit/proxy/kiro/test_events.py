"""Tests for turning Kiro frames into StreamEvents, with exact event sequences."""
import json

import pytest

from proxy.chat import Stop, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart, Usage
from proxy.kiro.errors import KiroError, KiroErrorKind
from proxy.kiro.events import KiroEventParser, _json_object
from proxy.kiro.eventstream import Frame
from tests.support import same_outcome

TOOL_ID = "tooluse_8ZQe3rVt1kLm5nPo2XyWcA"


def make_parser(**overrides) -> KiroEventParser:
    """A parser with small, round defaults."""
    options = dict(thinking_tags=False, context_window=200_000, input_tokens_estimate=100)
    options.update(overrides)
    return KiroEventParser(**options)


def ev(event_type: str, payload) -> Frame:
    """An `event` frame carrying `payload` (a dict is JSON-encoded as Kiro does)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return Frame(headers={":event-type": event_type, ":content-type": "application/json",
                          ":message-type": "event"}, payload=body)


def text(content: str) -> Frame:
    """An assistantResponseEvent frame."""
    return ev("assistantResponseEvent", {"content": content})


def exception(name: str, message: str = "boom") -> Frame:
    """An in-stream exception frame."""
    return Frame(headers={":exception-type": name, ":content-type": "application/json",
                          ":message-type": "exception"}, payload=json.dumps({"message": message}).encode())


def run(parser: KiroEventParser, frames) -> list:
    """Feed every frame, then finish; return all events."""
    events = []
    for frame in frames:
        events += parser.feed(frame)
    return events + parser.finish()


def body(events) -> list:
    """The events without the closing Usage and Stop."""
    return [e for e in events if not isinstance(e, (Usage, Stop))]


def stop_of(events) -> str:
    """The reason of the single Stop."""
    [stop] = [e for e in events if isinstance(e, Stop)]
    return stop.reason


def usage_of(events) -> Usage:
    """The single Usage."""
    [usage] = [e for e in events if isinstance(e, Usage)]
    return usage


# ---------------------------------------------------------------- text

def test_section_8_text_answer():
    events = run(make_parser(), [
        text("It's"), text(" 18°C and cloudy"), text(" in Paris."),
        ev("meteringEvent", {"unit": "credit", "unitPlural": "credits", "usage": 0.0421}),
        ev("contextUsageEvent", {"contextUsagePercentage": 0.52}),
    ])
    assert events == [
        TextDelta("It's"), TextDelta(" 18°C and cloudy"), TextDelta(" in Paris."),
        Usage(input_tokens=1040, output_tokens=8, cache_read_tokens=0, credits=0.0421),
        Stop("end_turn"),
    ]


def test_repeated_chunks_are_not_deduplicated():
    events = run(make_parser(), [text("66"), text("66"), text("66")])
    assert body(events) == [TextDelta("66")] * 3


def test_followup_prompt_payloads_are_skipped():
    events = run(make_parser(), [
        text("Hi"),
        ev("assistantResponseEvent", {"content": "Explain?", "followupPrompt": {"content": "Explain?",
                                                                                 "userIntent": "EXPLAIN"}}),
    ])
    assert body(events) == [TextDelta("Hi")]


def test_empty_and_non_string_content_is_ignored():
    events = run(make_parser(), [text(""), ev("assistantResponseEvent", {"content": None})])
    assert body(events) == []
    assert stop_of(events) == "end_turn"


def test_unknown_events_are_ignored():
    events = run(make_parser(), [
        ev("codeReferenceEvent", {"references": []}), text("ok"), ev("brandNewEvent", b"not json at all"),
        ev("followupPromptEvent", {"followupPrompt": {"content": "x"}}),
        Frame(headers={":message-type": "surprise"}, payload=b""),
    ])
    assert body(events) == [TextDelta("ok")]


def test_thinking_tags_are_plain_text_when_disabled():
    events = run(make_parser(), [text("<thinking>hm</thinking>\n\nHi")])
    assert body(events) == [TextDelta("<thinking>hm</thinking>\n\nHi")]


# ---------------------------------------------------------------- thinking tags

def test_thinking_block_is_split_out():
    events = run(make_parser(thinking_tags=True), [text("<thinking>Let me think.</thinking>\n\nAnswer.")])
    assert body(events) == [ThinkingDelta("Let me think."), TextDelta("Answer.")]
    assert stop_of(events) == "end_turn"


def test_split_open_tag():
    events = run(make_parser(thinking_tags=True), [text("<thin"), text("king>abc"), text("</thinking>\n\nX")])
    assert body(events) == [ThinkingDelta("abc"), TextDelta("X")]


def test_tag_split_at_every_position_gives_the_same_content():
    whole = "  <thinking>plan A</thinking>\n\nDone."
    for cut in range(1, len(whole)):
        events = body(run(make_parser(thinking_tags=True), [text(whole[:cut]), text(whole[cut:])]))
        thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
        answer = "".join(e.text for e in events if isinstance(e, TextDelta))
        assert (thinking, answer) == ("plan A", "Done."), cut


def test_character_by_character_stream():
    whole = "<thinking>a<b</thinking>\n\nc</thinking>d"
    events = body(run(make_parser(thinking_tags=True), [text(ch) for ch in whole]))
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "a<b"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "c</thinking>d"


def test_thinking_streams_while_close_tag_prefix_is_held_back():
    parser = make_parser(thinking_tags=True)
    assert parser.feed(text("<thinking>step one</thi")) == [ThinkingDelta("step one")]
    assert parser.feed(text("nk more")) == [ThinkingDelta("</think more")]


def test_text_not_starting_with_tag_is_plain():
    events = run(make_parser(thinking_tags=True), [text("Hello <thinking>x</thinking>")])
    assert body(events) == [TextDelta("Hello <thinking>x</thinking>")]


def test_short_non_tag_start_waits_then_flows():
    parser = make_parser(thinking_tags=True)
    assert parser.feed(text("<")) == []
    assert parser.feed(text("b>bold")) == [TextDelta("<b>bold")]
    assert parser.feed(text(" more")) == [TextDelta(" more")]


def test_leading_whitespace_before_tag_is_dropped():
    events = run(make_parser(thinking_tags=True), [text("\n "), text("<thinking>t</thinking>\n\nA")])
    assert body(events) == [ThinkingDelta("t"), TextDelta("A")]


def test_single_newline_after_close_tag_is_kept():
    events = run(make_parser(thinking_tags=True), [text("<thinking>t</thinking>\nA")])
    assert body(events) == [ThinkingDelta("t"), TextDelta("\nA")]


def test_only_thinking_is_max_tokens():
    events = run(make_parser(thinking_tags=True), [text("<thinking>long thought"), text(" still going")])
    assert body(events) == [ThinkingDelta("long thought"), ThinkingDelta(" still going")]
    assert stop_of(events) == "max_tokens"


def test_unfinished_close_tag_is_flushed_as_thinking():
    events = run(make_parser(thinking_tags=True), [text("<thinking>abc</thin")])
    assert body(events) == [ThinkingDelta("abc"), ThinkingDelta("</thin")]


def test_stream_ending_during_detection_flushes_as_text():
    events = run(make_parser(thinking_tags=True), [text("<thi")])
    assert body(events) == [TextDelta("<thi")]
    assert stop_of(events) == "end_turn"


def test_thinking_then_blank_answer_is_max_tokens():
    events = run(make_parser(thinking_tags=True), [text("<thinking>t</thinking>\n\n")])
    assert body(events) == [ThinkingDelta("t")]
    assert stop_of(events) == "max_tokens"


# ---------------------------------------------------------------- native reasoning

def test_reasoning_content_events():
    events = run(make_parser(), [
        ev("reasoningContentEvent", {"text": "Let me check…"}),
        ev("reasoningContentEvent", {"signature": "sig=="}),
        ev("reasoningContentEvent", {"redactedContent": "QUJD"}),
        text("Answer"),
    ])
    assert body(events) == [ThinkingDelta("Let me check…"), ThinkingDelta(signature="sig=="), TextDelta("Answer")]


# ---------------------------------------------------------------- tool calls

SECTION_8_TOOL = [
    ev("toolUseEvent", {"name": "get_weather", "toolUseId": TOOL_ID, "input": ""}),
    ev("toolUseEvent", {"name": "get_weather", "toolUseId": TOOL_ID, "input": "{\"ci"}),
    ev("toolUseEvent", {"name": "get_weather", "toolUseId": TOOL_ID, "input": "ty\": \"Lyon\"}"}),
    ev("toolUseEvent", {"name": "get_weather", "toolUseId": TOOL_ID, "stop": True}),
]


def test_section_8_tool_call():
    events = run(make_parser(), [text("Let me check."), *SECTION_8_TOOL,
                                 ev("meteringEvent", {"unit": "credit", "usage": 0.1}),
                                 ev("contextUsageEvent", {"contextUsagePercentage": 1})])
    assert events == [
        TextDelta("Let me check."),
        ToolCallStart(TOOL_ID, "get_weather"),
        ToolCallDelta(TOOL_ID, "{\"ci"),
        ToolCallDelta(TOOL_ID, "ty\": \"Lyon\"}"),
        ToolCallEnd(TOOL_ID, {"city": "Lyon"}),
        Usage(input_tokens=2000, output_tokens=8, cache_read_tokens=0, credits=0.1),
        Stop("tool_use"),
    ]


def test_tool_name_is_restored_for_the_client():
    events = run(make_parser(tool_names={"get_weather": "mcp__weather__get_current_weather"}), SECTION_8_TOOL)
    assert events[0] == ToolCallStart(TOOL_ID, "mcp__weather__get_current_weather")


def test_truncated_tool_call_has_no_end_and_stops_for_max_tokens():
    events = run(make_parser(), SECTION_8_TOOL[:3])
    assert body(events) == [ToolCallStart(TOOL_ID, "get_weather"), ToolCallDelta(TOOL_ID, "{\"ci"),
                            ToolCallDelta(TOOL_ID, "ty\": \"Lyon\"}")]
    assert stop_of(events) == "max_tokens"


def test_truncated_call_after_a_complete_one_still_stops_for_max_tokens():
    second = "tooluse_second"
    events = run(make_parser(), [*SECTION_8_TOOL,
                                 ev("toolUseEvent", {"name": "write", "toolUseId": second, "input": "{\"a\":"})])
    assert ToolCallEnd(TOOL_ID, {"city": "Lyon"}) in events
    assert not any(isinstance(e, ToolCallEnd) and e.id == second for e in events)
    assert stop_of(events) == "max_tokens"


def test_unparseable_arguments_at_stop_count_as_truncated():
    events = run(make_parser(), [
        ev("toolUseEvent", {"name": "w", "toolUseId": TOOL_ID, "input": "{\"path\": \"a"}),
        ev("toolUseEvent", {"name": "w", "toolUseId": TOOL_ID, "stop": True}),
    ])
    assert not any(isinstance(e, ToolCallEnd) for e in events)
    assert stop_of(events) == "max_tokens"


def test_empty_input_is_an_empty_object():
    events = run(make_parser(), [
        ev("toolUseEvent", {"name": "now", "toolUseId": TOOL_ID}),
        ev("toolUseEvent", {"name": "now", "toolUseId": TOOL_ID, "stop": True}),
    ])
    assert body(events) == [ToolCallStart(TOOL_ID, "now"), ToolCallEnd(TOOL_ID, {})]
    assert stop_of(events) == "tool_use"


def test_object_input_replaces_instead_of_concatenating():
    events = run(make_parser(), [
        ev("toolUseEvent", {"input": {}, "name": "read", "toolUseId": TOOL_ID}),
        ev("toolUseEvent", {"input": "{\"path\": \"a.txt\"}"}),  # bare frames: the call in progress
        ev("toolUseEvent", {"stop": True}),
    ])
    assert body(events) == [ToolCallStart(TOOL_ID, "read"), ToolCallDelta(TOOL_ID, "{\"path\": \"a.txt\"}"),
                            ToolCallEnd(TOOL_ID, {"path": "a.txt"})]


def test_whole_object_input_is_streamed_as_one_fragment():
    events = run(make_parser(), [
        ev("toolUseEvent", {"input": {"city": "Paris"}, "name": "get_weather", "toolUseId": TOOL_ID}),
        ev("toolUseEvent", {"name": "get_weather", "stop": True, "toolUseId": TOOL_ID}),
    ])
    assert body(events) == [ToolCallStart(TOOL_ID, "get_weather"), ToolCallDelta(TOOL_ID, '{"city": "Paris"}'),
                            ToolCallEnd(TOOL_ID, {"city": "Paris"})]


def test_frames_after_stop_are_ignored():
    events = run(make_parser(), [*SECTION_8_TOOL, SECTION_8_TOOL[-1],
                                 ev("toolUseEvent", {"toolUseId": TOOL_ID, "input": "junk"})])
    assert [type(e) for e in body(events)].count(ToolCallEnd) == 1
    assert ToolCallDelta(TOOL_ID, "junk") not in events


def test_tool_frame_without_any_id_is_ignored():
    assert make_parser().feed(ev("toolUseEvent", {"input": "x"})) == []


# ---------------------------------------------------------------- usage

def test_metadata_usage_wins_over_estimates():
    events = run(make_parser(), [
        text("Hello"),
        ev("contextUsageEvent", {"contextUsagePercentage": 61.49}),
        ev("metadataEvent", {"tokenUsage": {"uncachedInputTokens": 1200, "outputTokens": 85, "totalTokens": 41285,
                                            "cacheReadInputTokens": 40000, "cacheWriteInputTokens": 0},
                             "stopReason": "END_TURN"}),
    ])
    assert usage_of(events) == Usage(input_tokens=41200, output_tokens=85, cache_read_tokens=40000)


def test_context_usage_percentage_gives_input_tokens():
    events = run(make_parser(context_window=1_000_000), [ev("contextUsageEvent", {"contextUsagePercentage": 61.49})])
    assert usage_of(events).input_tokens == 614900


def test_estimates_when_kiro_says_nothing():
    events = run(make_parser(input_tokens_estimate=321), [text("abcde")])
    assert usage_of(events) == Usage(input_tokens=321, output_tokens=2)


def test_nothing_produced_is_zero_output():
    events = run(make_parser(), [])
    assert events == [Usage(input_tokens=100, output_tokens=0), Stop("end_turn")]


def test_output_estimate_counts_thinking_and_tool_arguments():
    events = run(make_parser(), [ev("reasoningContentEvent", {"text": "abcd"}), *SECTION_8_TOOL])
    assert usage_of(events).output_tokens == 5  # 4 + 16 chars


def test_message_metadata_stop_reason_max_tokens():
    events = run(make_parser(), [text("partial"), ev("messageMetadataEvent", {"stopReason": "MAX_TOKENS"})])
    assert stop_of(events) == "max_tokens"


def test_official_message_metadata_without_usage_is_harmless():
    events = run(make_parser(), [ev("messageMetadataEvent", {"conversationId": "c", "utteranceId": "u"}), text("x")])
    assert usage_of(events) == Usage(input_tokens=100, output_tokens=1)
    assert stop_of(events) == "end_turn"


# ---------------------------------------------------------------- exceptions and state

def test_output_limit_exception_means_max_tokens():
    parser = make_parser()
    events = run(parser, [text("long answer"), exception("ContentLengthExceededException", "too long")])
    assert body(events) == [TextDelta("long answer")]
    assert stop_of(events) == "max_tokens"


@pytest.mark.parametrize("name,kind", [
    ("ThrottlingException", KiroErrorKind.RATE_LIMITED),
    ("InternalServerException", KiroErrorKind.SERVER_ERROR),
    ("ValidationException", KiroErrorKind.MALFORMED_REQUEST),
])
def test_other_exception_frames_raise(name, kind):
    parser = make_parser()
    parser.feed(text("partial"))
    with pytest.raises(KiroError) as info:
        parser.feed(exception(name))
    assert info.value.kind is kind


def test_capacity_exception_frame():
    with pytest.raises(KiroError) as info:
        make_parser().feed(exception("ThrottlingException", "I am experiencing high traffic, please try again shortly."))
    assert info.value.kind is KiroErrorKind.CAPACITY


def test_error_frame_raises():
    frame = Frame(headers={":message-type": "error", ":error-code": "InternalServerException",
                           ":error-message": "it broke"}, payload=b"")
    with pytest.raises(KiroError, match="it broke"):
        make_parser().feed(frame)


def test_invalid_state_event_raises():
    with pytest.raises(KiroError, match="bad plan"):
        make_parser().feed(ev("invalidStateEvent", {"reason": "INVALID_TASK_ASSIST_PLAN", "message": "bad plan"}))


def test_broken_known_payload_raises():
    with pytest.raises(KiroError, match="unreadable"):
        make_parser().feed(ev("assistantResponseEvent", b"{not json"))


def test_finish_is_idempotent():
    parser = make_parser()
    assert parser.finish()[-1] == Stop("end_turn")
    assert parser.finish() == []


def test_text_held_for_tag_detection_goes_out_before_a_following_tool_call():
    """The grammar promises content in Kiro's order: a newline held back while looking for
    <thinking> must not surface after the tool call (nor a later <thinking> be read as one)."""
    parser = make_parser(thinking_tags=True)
    out = parser.feed(text("\n"))
    out += parser.feed(ev("toolUseEvent", {"name": "x", "toolUseId": "t1", "input": "{}"}))
    out += parser.feed(ev("toolUseEvent", {"name": "x", "toolUseId": "t1", "stop": True}))
    out += parser.feed(text("<thinking>not a tag here"))
    out += parser.finish()
    assert out[:4] == [TextDelta("\n"), ToolCallStart("t1", "x"), ToolCallDelta("t1", "{}"), ToolCallEnd("t1", {})]
    assert out[4] == TextDelta("<thinking>not a tag here")


def _loads_object(payload: bytes) -> dict:
    """What the parser did before its fast path: json.loads on the bytes, objects only."""
    try:
        data = json.loads(payload)
    except ValueError as e:
        raise KiroError(KiroErrorKind.SERVER_ERROR, 500, "unreadable") from e
    if not isinstance(data, dict):
        raise KiroError(KiroErrorKind.SERVER_ERROR, 500, "non-object")
    return data


@pytest.mark.parametrize("payload", [
    b'{"content":"Hi"}', '{"content":"中文 😀 \\u2028"}'.encode(), b'{"a":{"b":[1,2.5,null,true]},"c":"\\ud83d\\ude00"}',
    b' {"content":"padded"} ', b'{"content":"x"}\n', b'\xef\xbb\xbf{"content":"bom"}',
    '{"content":"utf-16"}'.encode("utf-16-le"), '{"content":"utf-16 bom"}'.encode("utf-16"),
    '{"content":"utf-32"}'.encode("utf-32-le"), b'{"content":"\xed\xa0\x80 encoded surrogate"}',
    b'{"content":"\xff bad utf-8"}', b'["not", "an", "object"]', b'"text"', b'{"a":1} trailing', b'{"a":1}{"b":2}',
    b'{"a":', b"", b"{", b'{"a":NaN}', b'{"a":1,}', b"[" * 100_000, b'{"a":' * 100_000,
])
def test_payload_fast_path_decides_like_json_loads(payload):
    """Every payload gets what json.loads(bytes) gave it: the same object, or an error for both."""
    frame = Frame({":message-type": "event", ":event-type": "assistantResponseEvent"}, payload)
    assert same_outcome(lambda: _json_object(frame), lambda: _loads_object(payload))

"""Tests for the Chat Completions renderers: exact SSE bytes and exact chat.completion objects."""
import json

import pytest

from proxy.chat import (Ping, Reply, ServerToolCall, ServerToolResult, Stop, StreamError, TextDelta, ThinkingDelta,
                        ToolCallDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.common import TEXT_SLOT
from proxy.protocols.openai_chat.render import _Chunks, render_message, render_stream
from tests.support import TRICKY_TEXTS, same_outcome

HEAD = ('data: {"id":"chatcmpl-abc123","object":"chat.completion.chunk","created":1700000000,"model":"gpt-x",'
        '"system_fingerprint":null,"choices":')
ROLE = HEAD + '[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n'
DONE = "data: [DONE]\n\n"
USAGE_10_2 = (HEAD + '[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,'
              '"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}\n\n')


def make_reply(**overrides) -> Reply:
    """A Reply with fixed identity, so rendered bytes are predictable."""
    fields = {"id": "abc123", "model": "gpt-x", "created": 1700000000, "input_tokens": 7}
    fields.update(overrides)
    return Reply(**fields)


def delta(body: str, finish: str = "null") -> str:
    """The exact text of one choice chunk whose delta JSON is `body`."""
    return HEAD + '[{"index":0,"delta":' + body + ',"logprobs":null,"finish_reason":' + finish + '}]}\n\n'


def stream(events, include_usage=False) -> str:
    """The whole rendered stream as text."""
    return b"".join(render_stream(events, make_reply(), include_usage=include_usage)).decode()


TEXT_EVENTS = [TextDelta("Hel"), TextDelta(""), TextDelta("lo ✓"), Usage(10, 2), Stop("end_turn")]


def test_text_stream_without_usage():
    assert stream(TEXT_EVENTS) == (ROLE + delta('{"content":"Hel"}') + delta('{"content":"lo ✓"}')
                                   + delta("{}", '"stop"') + DONE)


def test_text_stream_with_usage_chunk():
    assert stream(TEXT_EVENTS, include_usage=True) == (ROLE + delta('{"content":"Hel"}') + delta('{"content":"lo ✓"}')
                                                       + delta("{}", '"stop"') + USAGE_10_2 + DONE)


def test_two_tool_calls_with_fragments():
    events = [
        TextDelta("Checking."),
        ToolCallStart("tooluse_A", "weather"), ToolCallDelta("tooluse_A", '{"city": "Pa'),
        ToolCallDelta("tooluse_A", 'ris"}'), ToolCallEnd("tooluse_A", {"city": "Paris"}),
        ToolCallStart("tooluse_B", "weather"), ToolCallDelta("tooluse_B", '{"city": "Lyon"}'),
        ToolCallEnd("tooluse_B", {"city": "Lyon"}),
        Usage(10, 2), Stop("tool_use"),
    ]
    assert stream(events, include_usage=True) == (
        ROLE + delta('{"content":"Checking."}')
        + delta('{"tool_calls":[{"index":0,"id":"tooluse_A","type":"function","function":{"name":"weather",'
                '"arguments":""}}]}')
        + delta('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\": \\"Pa"}}]}')
        + delta('{"tool_calls":[{"index":0,"function":{"arguments":"ris\\"}"}}]}')
        + delta('{"tool_calls":[{"index":1,"id":"tooluse_B","type":"function","function":{"name":"weather",'
                '"arguments":""}}]}')
        + delta('{"tool_calls":[{"index":1,"function":{"arguments":"{\\"city\\": \\"Lyon\\"}"}}]}')
        + delta("{}", '"tool_calls"') + USAGE_10_2 + DONE)


def test_tool_call_without_fragments_sends_the_whole_object_at_its_end():
    events = [ToolCallStart("t1", "now"), ToolCallEnd("t1", {}), ToolCallStart("t2", "f"),
              ToolCallEnd("t2", {"a": [1, "é"]}), Stop("tool_use")]
    assert stream(events) == (
        ROLE + delta('{"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"now",'
                     '"arguments":""}}]}')
        + delta('{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}')
        + delta('{"tool_calls":[{"index":1,"id":"t2","type":"function","function":{"name":"f","arguments":""}}]}')
        + delta('{"tool_calls":[{"index":1,"function":{"arguments":"{\\"a\\":[1,\\"é\\"]}"}}]}')
        + delta("{}", '"tool_calls"') + DONE)


def test_truncated_tool_call_finishes_with_length():
    events = [ToolCallStart("t1", "write"), ToolCallDelta("t1", '{"text": "lo'), Usage(10, 2), Stop("max_tokens")]
    assert stream(events) == (
        ROLE + delta('{"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"write",'
                     '"arguments":""}}]}')
        + delta('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"text\\": \\"lo"}}]}')
        + delta("{}", '"length"') + DONE)


@pytest.mark.parametrize("stop, finish", [
    (Stop("end_turn"), "stop"), (Stop("stop_sequence", "END"), "stop"), (Stop("max_tokens"), "length"),
    (Stop("refusal"), "content_filter"), (Stop("tool_use"), "tool_calls"),
])
def test_finish_reasons(stop, finish):
    assert stream([stop]) == ROLE + delta("{}", f'"{finish}"') + DONE


def test_end_turn_after_a_tool_call_finishes_with_tool_calls():
    events = [ToolCallStart("t1", "f"), ToolCallDelta("t1", "{}"), ToolCallEnd("t1", {}), Stop("end_turn")]
    assert stream(events).endswith(delta("{}", '"tool_calls"') + DONE)


def test_reasoning_goes_out_as_reasoning_content():
    events = [ThinkingDelta("Let me think."), ThinkingDelta(signature="sig"), TextDelta("42"), Stop("end_turn")]
    assert stream(events) == (ROLE + delta('{"reasoning_content":"Let me think."}') + delta('{"content":"42"}')
                              + delta("{}", '"stop"') + DONE)


def test_pings_are_sse_comments():
    events = [Ping(), TextDelta("a"), Ping(), Stop("end_turn"), Usage(10, 2)]
    assert stream(events, include_usage=True) == (ROLE + ": ping\n\n" + delta('{"content":"a"}') + ": ping\n\n"
                                                  + delta("{}", '"stop"') + USAGE_10_2 + DONE)


def test_server_tool_events_are_not_shown():
    events = [ServerToolCall("s1", "web_search", {"query": "q"}),
              ServerToolResult("s1", "web_search", [{"title": "t", "url": "u", "snippet": "s"}]),
              TextDelta("found"), Stop("end_turn")]
    assert stream(events) == ROLE + delta('{"content":"found"}') + delta("{}", '"stop"') + DONE


def test_text_after_a_web_search_starts_a_new_paragraph():
    events = [TextDelta("Searching."), ServerToolCall("s1", "web_search", {"query": "q"}),
              ServerToolResult("s1", "web_search", []), TextDelta("Found"), TextDelta(" it."), Stop("end_turn")]
    assert stream(events) == (ROLE + delta('{"content":"Searching."}') + delta('{"content":"\\n\\nFound"}')
                              + delta('{"content":" it."}') + delta("{}", '"stop"') + DONE)
    message = render_message(events, make_reply())["choices"][0]["message"]
    assert message["content"] == "Searching.\n\nFound it."


ERROR_502 = 'data: {"error":{"message":"boom","type":"server_error","param":null,"code":"server_error"}}\n\n'


def test_mid_stream_error_ends_with_an_error_chunk_and_done():
    events = [TextDelta("par"), StreamError(ProxyError(ErrorKind.UPSTREAM, "boom")), TextDelta("never")]
    assert stream(events, include_usage=True) == ROLE + delta('{"content":"par"}') + ERROR_502 + DONE


def test_mid_stream_error_that_is_not_a_proxy_error():
    assert stream([StreamError(ConnectionResetError("boom"))]) == ROLE + ERROR_502 + DONE


def test_rate_limit_error_in_stream_keeps_the_openai_code():
    err = ProxyError(ErrorKind.RATE_LIMITED, "slow down", retry_after=3)
    assert stream([StreamError(err)]) == ROLE + (
        'data: {"error":{"message":"slow down","type":"rate_limit_error","param":null,'
        '"code":"rate_limit_exceeded"}}\n\n') + DONE


def test_a_raising_event_source_still_ends_cleanly():
    def events():
        """Yields one delta, then fails the way a buggy relay might."""
        yield TextDelta("a")
        raise ProxyError(ErrorKind.UPSTREAM, "boom")
    assert stream(events()) == ROLE + delta('{"content":"a"}') + ERROR_502 + DONE


def test_a_bug_in_the_event_source_still_ends_with_an_error_chunk_and_done():
    def events():
        """Yields one delta, then fails with something that is not a ProxyError."""
        yield TextDelta("a")
        raise KeyError("x")
    assert stream(events()) == ROLE + delta('{"content":"a"}') + (
        'data: {"error":{"message":"The proxy failed while streaming the answer.","type":"server_error",'
        '"param":null,"code":"server_error"}}\n\n') + DONE


def test_a_stream_without_stop_reports_the_cut():
    assert stream([TextDelta("a")], include_usage=True) == ROLE + delta('{"content":"a"}') + (
        'data: {"error":{"message":"The upstream ended the answer before it was complete.","type":"server_error",'
        '"param":null,"code":"server_error"}}\n\n') + DONE


def test_usage_reports_the_whole_input_with_its_cached_part_and_falls_back_to_the_estimate():
    cached = stream([Usage(40, 2, cache_read_tokens=30), Stop("end_turn")], include_usage=True)
    assert ('"usage":{"prompt_tokens":40,"completion_tokens":2,"total_tokens":42,'
            '"prompt_tokens_details":{"cached_tokens":30}') in cached
    estimated = stream([Stop("end_turn")], include_usage=True)
    assert '"usage":{"prompt_tokens":7,"completion_tokens":0,"total_tokens":7,' in estimated


def test_every_stream_chunk_is_valid_json_with_the_same_id():
    events = [ThinkingDelta("t"), TextDelta('quote " and \n newline'), Ping(), Usage(1, 1), Stop("end_turn")]
    datas = [line[6:] for line in stream(events, include_usage=True).split("\n\n")
             if line.startswith("data: ") and line != "data: [DONE]"]
    assert {json.loads(d)["id"] for d in datas} == {"chatcmpl-abc123"}
    assert json.loads(datas[2])["choices"][0]["delta"] == {"content": 'quote " and \n newline'}


# ------------------------------------------------------------------ non-stream


def completion(message: dict, finish: str, usage: dict) -> dict:
    """The exact chat.completion object expected for `message`."""
    return {"id": "chatcmpl-abc123", "object": "chat.completion", "created": 1700000000, "model": "gpt-x",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": usage, "system_fingerprint": None}


USAGE_DICT = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
              "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}


def test_message_with_text_matches_the_sdk_capture_shape():
    result = render_message([Ping(), TextDelta("Hello! "), TextDelta("This is the stub server."), Usage(10, 2),
                             Stop("end_turn")], make_reply())
    assert result == completion({"role": "assistant", "content": "Hello! This is the stub server.",
                                 "refusal": None}, "stop", USAGE_DICT)
    # key order as in fixtures/clients/sdk-openai/0036 (the stub's answer the SDK accepted)
    assert list(result) == ["id", "object", "created", "model", "choices", "usage", "system_fingerprint"]


def test_message_with_only_tool_calls_has_null_content():
    events = [ToolCallStart("t1", "weather"), ToolCallDelta("t1", '{"city": '), ToolCallDelta("t1", '"Paris"}'),
              ToolCallEnd("t1", {"city": "Paris"}), ToolCallStart("t2", "now"), ToolCallEnd("t2", {}),
              Usage(10, 2), Stop("tool_use")]
    assert render_message(events, make_reply()) == completion({
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "weather",
                                                                      "arguments": '{"city": "Paris"}'}},
                       {"id": "t2", "type": "function", "function": {"name": "now", "arguments": "{}"}}],
        "refusal": None}, "tool_calls", USAGE_DICT)


def test_message_with_reasoning_text_and_truncated_call():
    events = [ThinkingDelta("hmm"), ThinkingDelta(signature="s"), TextDelta("Writing."), ToolCallStart("t1", "w"),
              ToolCallDelta("t1", '{"a": "b'), Stop("max_tokens")]
    assert render_message(events, make_reply()) == completion({
        "role": "assistant", "content": "Writing.", "reasoning_content": "hmm",
        "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "w", "arguments": '{"a": "b'}}],
        "refusal": None}, "length", {**USAGE_DICT, "prompt_tokens": 7, "completion_tokens": 0, "total_tokens": 7})


def test_empty_message_has_empty_string_content():
    assert render_message([Stop("refusal")], make_reply())["choices"][0] == {
        "index": 0, "message": {"role": "assistant", "content": "", "refusal": None}, "logprobs": None,
        "finish_reason": "content_filter"}


def test_a_truncated_call_without_fragments_keeps_the_empty_arguments_the_stream_sent():
    # regression: the whole answer said "{}", a complete-looking call a client could run
    events = [TextDelta("x"), ToolCallStart("t1", "rm"), Stop("max_tokens")]
    message = render_message(events, make_reply())["choices"][0]["message"]
    assert message["tool_calls"] == [{"id": "t1", "type": "function", "function": {"name": "rm", "arguments": ""}}]
    assert stream(events).count('"arguments":""') == 1 and '"arguments":"{}"' not in stream(events)


@pytest.mark.parametrize("text", TRICKY_TEXTS)
@pytest.mark.parametrize("model", ["gpt-x", 'quote " and \u2028 中文', json.dumps(TEXT_SLOT)[1:-1], TEXT_SLOT])
def test_text_fast_path_is_the_dumped_chunk_byte_for_byte(text, model):
    """Text pieces go into a chunk dumped once per stream; the bytes must be a fresh dump's
    (a model name holding the slot itself falls back to dumping every chunk)."""
    chunks = _Chunks(make_reply(model=model))
    for key in ("content", "reasoning_content"):
        assert same_outcome(lambda: chunks.text(key, text), lambda: chunks.delta({key: text}))

"""Exact SSE bytes of the Anthropic stream renderer for scripted event lists."""
import base64
import json

import pytest

from proxy.chat import (Ping, Reply, ServerToolCall, ServerToolResult, Stop, StreamError, TextDelta,
                        ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.anthropic.render import sse as render_sse
from proxy.protocols.anthropic.stream import render_stream, text_delta, thinking_delta
from proxy.protocols.anthropic.websearch import encode_snippet
from tests.support import TRICKY_TEXTS, same_outcome

START = ('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_abc","type":"message",'
         '"role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,'
         '"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
         '"output_tokens":1}}}')
STOP = 'event: message_stop\ndata: {"type":"message_stop"}'
PING = 'event: ping\ndata: {"type": "ping"}'


def reply(**overrides) -> Reply:
    """A Reply with fixed identity; keyword arguments override fields."""
    return Reply(**{"id": "abc", "model": "claude-x", "created": 1700000000, "input_tokens": 12, **overrides})


def render(events, **reply_fields) -> str:
    """The rendered stream as text."""
    return b"".join(render_stream(iter(events), reply(**reply_fields))).decode("utf-8")


def sse(*events: str) -> str:
    """Join `event: ...\\ndata: ...` strings into a stream body."""
    return "".join(e + "\n\n" for e in events)


def block_start(index: int, block: str) -> str:
    """A content_block_start event; `block` is the content_block JSON."""
    return (f'event: content_block_start\ndata: {{"type":"content_block_start","index":{index},'
            f'"content_block":{block}}}')


def delta(index: int, body: str) -> str:
    """A content_block_delta event; `body` is the delta JSON."""
    return f'event: content_block_delta\ndata: {{"type":"content_block_delta","index":{index},"delta":{body}}}'


def block_stop(index: int) -> str:
    """A content_block_stop event."""
    return f'event: content_block_stop\ndata: {{"type":"content_block_stop","index":{index}}}'


def message_delta(reason: str, output: int, input_tokens: int = 12, sequence: str = "null",
                  extra: str = "") -> str:
    """A message_delta event with the usage the renderer reports."""
    return ('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"' + reason
            + '","stop_sequence":' + sequence + '},"usage":{"input_tokens":' + str(input_tokens)
            + ',"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":'
            + str(output) + extra + '}}')


def error(kind: str, message: str) -> str:
    """An in-stream error event."""
    return f'event: error\ndata: {{"type":"error","error":{{"type":"{kind}","message":"{message}"}}}}'


def test_text_only():
    assert render([TextDelta("Hel"), TextDelta("lo"), Usage(12, 5), Stop("end_turn")]) == sse(
        START,
        block_start(0, '{"type":"text","text":""}'),
        delta(0, '{"type":"text_delta","text":"Hel"}'),
        delta(0, '{"type":"text_delta","text":"lo"}'),
        block_stop(0),
        message_delta("end_turn", 5),
        STOP)


def test_empty_answer_has_no_blocks():
    assert render([Usage(12, 0), Stop("end_turn")]) == sse(START, message_delta("end_turn", 0), STOP)


def test_empty_text_deltas_open_no_block():
    assert render([TextDelta(""), Usage(12, 0), Stop("end_turn")]) == sse(
        START, message_delta("end_turn", 0), STOP)


def test_thinking_then_text_with_upstream_signature():
    events = [ThinkingDelta("Let me"), ThinkingDelta(" think."), ThinkingDelta(signature="sig-1"),
              TextDelta("Hi"), Usage(12, 9), Stop("end_turn")]
    assert render(events) == sse(
        START,
        block_start(0, '{"type":"thinking","thinking":"","signature":""}'),
        delta(0, '{"type":"thinking_delta","thinking":"Let me"}'),
        delta(0, '{"type":"thinking_delta","thinking":" think."}'),
        delta(0, '{"type":"signature_delta","signature":"sig-1"}'),
        block_stop(0),
        block_start(1, '{"type":"text","text":""}'),
        delta(1, '{"type":"text_delta","text":"Hi"}'),
        block_stop(1),
        message_delta("end_turn", 9),
        STOP)


def test_thinking_without_signature_gets_the_stand_in():
    stand_in = base64.b64encode(b"kiro-proxy:abc:0").decode()
    out = render([ThinkingDelta("hmm"), Usage(12, 2), Stop("end_turn")])
    assert delta(0, '{"type":"signature_delta","signature":"' + stand_in + '"}') + "\n\n" + block_stop(0) in out


def test_signature_only_thinking_still_makes_a_block():
    assert render([ThinkingDelta(signature="s"), TextDelta("x"), Usage(12, 1), Stop("end_turn")]) == sse(
        START,
        block_start(0, '{"type":"thinking","thinking":"","signature":""}'),
        delta(0, '{"type":"signature_delta","signature":"s"}'),
        block_stop(0),
        block_start(1, '{"type":"text","text":""}'),
        delta(1, '{"type":"text_delta","text":"x"}'),
        block_stop(1),
        message_delta("end_turn", 1),
        STOP)


def test_text_then_tool_use():
    events = [TextDelta("Running."), ToolCallStart("toolu_1", "Bash"),
              ToolCallDelta("toolu_1", '{"command":'), ToolCallDelta("toolu_1", ' "ls"}'),
              ToolCallEnd("toolu_1", {"command": "ls"}), Usage(12, 40), Stop("tool_use")]
    assert render(events) == sse(
        START,
        block_start(0, '{"type":"text","text":""}'),
        delta(0, '{"type":"text_delta","text":"Running."}'),
        block_stop(0),
        block_start(1, '{"type":"tool_use","id":"toolu_1","name":"Bash","input":{}}'),
        delta(1, '{"type":"input_json_delta","partial_json":"{\\"command\\":"}'),
        delta(1, '{"type":"input_json_delta","partial_json":" \\"ls\\"}"}'),
        block_stop(1),
        message_delta("tool_use", 40),
        STOP)


def test_tool_arguments_only_at_the_end_are_sent_whole():
    events = [ToolCallStart("t1", "Read"), ToolCallEnd("t1", {"path": "a.txt"}),
              ToolCallStart("t2", "Noop"), ToolCallEnd("t2", {}), Usage(12, 7), Stop("tool_use")]
    assert render(events) == sse(
        START,
        block_start(0, '{"type":"tool_use","id":"t1","name":"Read","input":{}}'),
        delta(0, '{"type":"input_json_delta","partial_json":"{\\"path\\":\\"a.txt\\"}"}'),
        block_stop(0),
        block_start(1, '{"type":"tool_use","id":"t2","name":"Noop","input":{}}'),
        block_stop(1),
        message_delta("tool_use", 7),
        STOP)


@pytest.mark.parametrize("fragment", ['{"content":"abc', '{"content":"abc"}'])
def test_a_tool_call_cut_by_max_tokens_is_left_open(fragment):
    # message_delta inside the open block is how Claude Code sees "tool call cut at the output
    # limit" and never runs it; a closed block would look finished even when its JSON parses
    events = [TextDelta("Writing."), ToolCallStart("t1", "Write"), ToolCallDelta("t1", fragment),
              Usage(12, 100), Stop("max_tokens")]
    assert render(events) == sse(
        START,
        block_start(0, '{"type":"text","text":""}'),
        delta(0, '{"type":"text_delta","text":"Writing."}'),
        block_stop(0),
        block_start(1, '{"type":"tool_use","id":"t1","name":"Write","input":{}}'),
        delta(1, '{"type":"input_json_delta","partial_json":' + json.dumps(fragment) + '}'),
        message_delta("max_tokens", 100),
        STOP)


def test_max_tokens_still_closes_a_text_or_thinking_block():
    assert render([TextDelta("Hal"), Stop("max_tokens")]) == sse(
        START, block_start(0, '{"type":"text","text":""}'), delta(0, '{"type":"text_delta","text":"Hal"}'),
        block_stop(0), message_delta("max_tokens", 0), STOP)


def test_web_search_blocks_and_usage():
    events = [ServerToolCall("srvtoolu_1", "web_search", {"query": "kiro"}),
              ServerToolResult("srvtoolu_1", "web_search", [
                  {"title": "Kiro", "url": "https://kiro.dev", "snippet": "An IDE.",
                   "publishedDate": 1718000000000}]),
              TextDelta("Kiro is an IDE."), Usage(12, 30), Stop("end_turn")]
    result = ('{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":'
              '"web_search_result","title":"Kiro","url":"https://kiro.dev","encrypted_content":"'
              + encode_snippet("An IDE.") + '","page_age":"June 10, 2024"}]}')
    assert render(events) == sse(
        START,
        block_start(0, '{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}'),
        delta(0, '{"type":"input_json_delta","partial_json":"{\\"query\\":\\"kiro\\"}"}'),
        block_stop(0),
        block_start(1, result),
        block_stop(1),
        block_start(2, '{"type":"text","text":""}'),
        delta(2, '{"type":"text_delta","text":"Kiro is an IDE."}'),
        block_stop(2),
        message_delta("end_turn", 30,
                      extra=',"server_tool_use":{"web_search_requests":1,"web_fetch_requests":0}'),
        STOP)


def test_web_search_error_result():
    out = render([ServerToolCall("s1", "web_search", {"query": "q"}),
                  ServerToolResult("s1", "web_search", [], error="boom"), Usage(12, 1), Stop("end_turn")])
    assert block_start(1, '{"type":"web_search_tool_result","tool_use_id":"s1","content":{"type":'
                          '"web_search_tool_result_error","error_code":"unavailable"}}') in out


def test_pings_pass_through_anywhere():
    assert render([Ping(), TextDelta("a"), Ping(), TextDelta("b"), Usage(12, 2), Stop("end_turn")]) == sse(
        START,
        PING,
        block_start(0, '{"type":"text","text":""}'),
        delta(0, '{"type":"text_delta","text":"a"}'),
        PING,
        delta(0, '{"type":"text_delta","text":"b"}'),
        block_stop(0),
        message_delta("end_turn", 2),
        STOP)


def test_mid_stream_error_ends_the_stream_without_message_stop():
    events = [TextDelta("Hi"), StreamError(ProxyError(ErrorKind.OVERLOADED, "Overloaded")),
              TextDelta("never")]
    assert render(events) == sse(
        START,
        block_start(0, '{"type":"text","text":""}'),
        delta(0, '{"type":"text_delta","text":"Hi"}'),
        error("overloaded_error", "Overloaded"))


def test_stream_error_with_a_plain_exception_is_an_api_error():
    assert render([StreamError(RuntimeError("socket closed"))]) == sse(START, error("api_error", "socket closed"))


def test_stop_sequence_and_usage_with_cache_reads():
    out = render([TextDelta("x"), Usage(100, 3, cache_read_tokens=40), Stop("stop_sequence", "END")])
    assert out.endswith(sse(
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"stop_sequence",'
        '"stop_sequence":"END"},"usage":{"input_tokens":60,"cache_creation_input_tokens":0,'
        '"cache_read_input_tokens":40,"output_tokens":3}}', STOP))


def test_last_usage_wins_and_missing_usage_reports_the_estimate():
    assert render([Usage(5, 1), Usage(20, 8), Stop("end_turn")]).endswith(
        sse(message_delta("end_turn", 8, input_tokens=20), STOP))
    assert render([Stop("refusal")], input_tokens=33).endswith(
        sse(message_delta("refusal", 0, input_tokens=33), STOP))


def test_unicode_is_sent_as_utf8_not_escaped():
    out = render([TextDelta("héllo 🌍"), Usage(12, 2), Stop("end_turn")])
    assert delta(0, '{"type":"text_delta","text":"héllo 🌍"}') in out


def test_upstream_ending_without_stop_is_an_error():
    assert render([TextDelta("partial")]) == sse(
        START,
        block_start(0, '{"type":"text","text":""}'),
        delta(0, '{"type":"text_delta","text":"partial"}'),
        error("api_error", "The upstream ended the answer before it was complete."))


def test_iterator_raising_proxy_error_or_a_bug_becomes_an_error_event():
    def failing(exc):
        """Yields one text delta, then raises `exc`."""
        yield TextDelta("a")
        raise exc

    out = b"".join(render_stream(failing(ProxyError(ErrorKind.TIMEOUT, "Upstream timed out")), reply()))
    assert out.decode().endswith(error("api_error", "Upstream timed out") + "\n\n")
    out = b"".join(render_stream(failing(KeyError("x")), reply()))
    assert out.decode().endswith(error("api_error", "The proxy failed while streaming the answer.") + "\n\n")


def test_nothing_is_pulled_after_stop():
    def events():
        """Stop, then a failure that must never be reached."""
        yield Usage(12, 1)
        yield Stop("end_turn")
        raise AssertionError("pulled past Stop")

    assert b"".join(render_stream(events(), reply())).decode().endswith(STOP + "\n\n")


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_delta_fast_paths_are_sse_byte_for_byte(text):
    """text_delta / thinking_delta skip the dict and json.dumps; the bytes must be sse()'s."""
    for index in (0, 7, 1234):
        assert same_outcome(lambda: text_delta(index, text), lambda: render_sse(
            {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}))
        assert same_outcome(lambda: thinking_delta(index, text), lambda: render_sse(
            {"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": text}}))


def test_one_write_per_event():
    """A block's start and its first delta, and the closing events, go out together."""
    chunks = list(render_stream(iter([TextDelta("a"), TextDelta("b"), Usage(12, 1), Stop("end_turn")]), reply()))
    assert [c.count(b"\n\n") for c in chunks] == [1, 2, 1, 3]

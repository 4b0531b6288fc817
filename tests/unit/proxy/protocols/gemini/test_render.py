"""Tests for Gemini rendering: exact SSE and JSON-array bytes, and the whole-answer object."""
import io
import json
import re

import pytest

from proxy.chat import (Ping, ServerToolCall, ServerToolResult, Stop, StreamError, TextDelta,
                        ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.common import TEXT_SLOT
from proxy.protocols.gemini.render import _Answer, _ArrayFramer, _SseFramer, dumps, render_message, render_stream
from tests.support import TRICKY_TEXTS, same_outcome
from tests.unit.proxy.protocols.gemini.conftest import make_reply

TAIL = '"modelVersion":"gemini-2.5-flash","responseId":"r1"}'
EARLY_USAGE = '"usageMetadata":{"promptTokenCount":10,"totalTokenCount":10},'


def sse(events, **options) -> bytes:
    """The SSE bytes for `events`."""
    return b"".join(render_stream(events, make_reply(), sse=True, **options))


def array(events, **options) -> bytes:
    """The JSON-array bytes for `events`."""
    return b"".join(render_stream(events, make_reply(), sse=False, **options))


def chunks(events, **options) -> list[dict]:
    """The SSE stream's chunks, decoded."""
    raw = sse(events, **options).decode()
    return [json.loads(line[6:]) for line in raw.split("\r\n\r\n") if line.startswith("data: ")]


def test_text_stream_exact_sse_bytes(reply):
    """Text deltas as text parts; the last content chunk carries STOP and full usage."""
    events = [TextDelta("Hel"), TextDelta("lo"), Usage(12, 3), Stop("end_turn")]
    assert sse(events) == (
        'data: {"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],'
        + EARLY_USAGE + TAIL + '\r\n\r\n'
        'data: {"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}],'
        '"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":3,"totalTokenCount":15},'
        + TAIL + '\r\n\r\n').encode()


def test_text_stream_exact_json_array_bytes():
    """Without alt=sse: `[` chunk `,\\r\\n` chunk `]`, and the whole thing is one JSON array."""
    events = [TextDelta("Hel"), TextDelta("lo"), Usage(12, 3), Stop("end_turn")]
    raw = array(events)
    assert raw == (
        '[{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],'
        + EARLY_USAGE + TAIL + ',\r\n'
        '{"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}],'
        '"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":3,"totalTokenCount":15},'
        + TAIL + ']').encode()
    assert len(json.loads(raw)) == 2


def test_thoughts_shown_when_included_with_their_signature():
    """Thinking becomes `thought: true` parts; the closing signature joins the held part."""
    events = [ThinkingDelta("Pondering"), ThinkingDelta(signature="c2ln"), TextDelta("Hi"),
              Usage(10, 4), Stop("end_turn")]
    assert sse(events, include_thoughts=True) == (
        'data: {"candidates":[{"content":{"parts":[{"text":"Pondering","thought":true,"thoughtSignature":"c2ln"}],'
        '"role":"model"},"index":0}],' + EARLY_USAGE + TAIL + '\r\n\r\n'
        'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],'
        '"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"totalTokenCount":14},'
        + TAIL + '\r\n\r\n').encode()


def test_thoughts_hidden_by_default():
    """Without includeThoughts no thought part is sent at all."""
    events = [ThinkingDelta("secret"), ThinkingDelta(signature="s"), TextDelta("Hi"), Stop("end_turn")]
    got = chunks(events)
    assert [c["candidates"][0]["content"]["parts"] for c in got] == [[{"text": "Hi"}]]
    assert "secret" not in sse(events).decode()


def test_function_call_is_sent_whole_with_the_finish():
    """Argument fragments are not streamed; the call goes out whole, and STOP rides on it."""
    events = [TextDelta("Running."), ToolCallStart("tooluse_1", "run_shell_command"),
              ToolCallDelta("tooluse_1", '{"command":'), ToolCallDelta("tooluse_1", '"ls"}'),
              ToolCallEnd("tooluse_1", {"command": "ls"}), Usage(20, 9), Stop("tool_use")]
    assert sse(events) == (
        'data: {"candidates":[{"content":{"parts":[{"text":"Running."}],"role":"model"},"index":0}],'
        + EARLY_USAGE + TAIL + '\r\n\r\n'
        'data: {"candidates":[{"content":{"parts":[{"functionCall":{"id":"tooluse_1","name":"run_shell_command",'
        '"args":{"command":"ls"}}}],"role":"model"},"finishReason":"STOP","index":0}],'
        '"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":9,"totalTokenCount":29},'
        + TAIL + '\r\n\r\n').encode()


def test_max_tokens_drops_an_unfinished_call():
    """Truncation: the half-made call is not sent (it would run with broken arguments)."""
    events = [TextDelta("Let me"), ToolCallStart("t", "run"), ToolCallDelta("t", '{"comm'),
              Usage(10, 50), Stop("max_tokens")]
    got = chunks(events)
    assert [c["candidates"][0]["content"]["parts"] for c in got] == [[{"text": "Let me"}], []]
    assert got[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"


@pytest.mark.parametrize("reason,finish", [("end_turn", "STOP"), ("stop_sequence", "STOP"),
                                           ("max_tokens", "MAX_TOKENS"), ("refusal", "SAFETY")])
def test_finish_reasons(reason, finish):
    """Every stop reason has a Gemini finishReason, on the last chunk."""
    got = chunks([TextDelta("x"), Stop(reason)])
    assert len(got) == 1 and got[0]["candidates"][0]["finishReason"] == finish


def test_empty_answer_still_finishes():
    """No content at all: one chunk with empty parts and the finish reason (Gemini CLI accepts it)."""
    assert sse([Usage(10, 0), Stop("end_turn")]) == (
        'data: {"candidates":[{"content":{"parts":[],"role":"model"},"finishReason":"STOP","index":0}],'
        '"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":0,"totalTokenCount":10},'
        + TAIL + '\r\n\r\n').encode()
    assert json.loads(array([Stop("end_turn")]))[0]["candidates"][0]["finishReason"] == "STOP"


def test_web_search_grounding_on_the_final_chunk():
    """Server-side search results become groundingMetadata (queries and web chunks)."""
    events = [ServerToolCall("s1", "web_search", {"query": "kiro proxy"}),
              ServerToolResult("s1", "web_search", [{"title": "Kiro", "url": "https://kiro.dev", "snippet": "x"},
                                                    {"url": "https://b.example"}]),
              TextDelta("Found it."), Usage(30, 5), Stop("end_turn")]
    [final] = chunks(events)
    assert final["candidates"][0] == {
        "content": {"parts": [{"text": "Found it."}], "role": "model"}, "finishReason": "STOP",
        "groundingMetadata": {"webSearchQueries": ["kiro proxy"], "groundingChunks": [
            {"web": {"uri": "https://kiro.dev", "title": "Kiro"}},
            {"web": {"uri": "https://b.example", "title": "https://b.example"}}]},
        "index": 0}


def test_mid_stream_error_sse_and_array():
    """A StreamError after the start: the text so far, then one `{"error":…}` chunk, then the end."""
    events = [TextDelta("Hel"), StreamError(ProxyError(ErrorKind.OVERLOADED, "busy", retry_after=3)),
              TextDelta("never")]
    error = ('{"error":{"code":503,"message":"busy","status":"UNAVAILABLE","details":'
             '[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"3s"}]}}')
    first = '{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],' + EARLY_USAGE + TAIL
    assert sse(events) == f"data: {first}\r\n\r\ndata: {error}\r\n\r\n".encode()
    assert array(events) == f"[{first},\r\n{error}]".encode()


def test_stream_that_ends_without_stop_ends_with_an_error():
    """An iterator that just stops is reported, not passed off as a finished answer."""
    got = chunks([TextDelta("Hel")])
    assert got[-1]["error"]["code"] == 502 and "before it was complete" in got[-1]["error"]["message"]


def test_iterator_raising_proxy_error_becomes_error_chunk():
    """A ProxyError raised by the event source still ends the stream cleanly."""
    def events():
        """One delta, then the failure."""
        yield TextDelta("a")
        raise ProxyError(ErrorKind.TIMEOUT, "slow")
    assert array(events()).endswith(b',\r\n{"error":{"code":504,"message":"slow","status":"DEADLINE_EXCEEDED"}}]')


def test_ping_flushes_held_chunk_or_sends_blank_line():
    """Keep-alive: the held chunk if there is one, else a blank line (never an SSE comment)."""
    raw = sse([Ping(), TextDelta("a"), Ping(), Ping(), Stop("end_turn")])
    assert raw.startswith(b"\r\ndata: ")
    assert raw.count(b"data: ") == 2 and b"\r\n\r\n\r\n" in raw and b": " not in raw.split(b"data: ")[0]
    assert array([Ping(), TextDelta("a"), Stop("end_turn")]).startswith(b"\r\n[{")


def test_line_separators_are_escaped():
    """U+2028 would end a line for JavaScript's regex, splitting the event; it goes escaped."""
    raw = sse([TextDelta("a\u2028b\u2029c\nd"), Stop("end_turn")])
    assert "\u2028".encode() not in raw and b"a\\u2028b\\u2029c\\nd" in raw
    assert chunks([TextDelta("a\u2028b"), Stop("end_turn")])[0]["candidates"][0]["content"]["parts"] == \
        [{"text": "a\u2028b"}]


def test_non_stream_message_merges_parts():
    """generateContent: one object, consecutive text (and thought) parts joined."""
    events = [ThinkingDelta("a"), ThinkingDelta("b"), ThinkingDelta(signature="s"), TextDelta("Hel"),
              TextDelta("lo"), ToolCallStart("c1", "f"), ToolCallEnd("c1", {}), TextDelta("!"),
              Usage(10, 7, credits=0.1), Stop("tool_use")]
    assert render_message(events, make_reply(), include_thoughts=True) == {
        "candidates": [{"content": {"parts": [
            {"text": "ab", "thought": True, "thoughtSignature": "s"}, {"text": "Hello"},
            {"functionCall": {"id": "c1", "name": "f", "args": {}}}, {"text": "!"}], "role": "model"},
            "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 7, "totalTokenCount": 17},
        "modelVersion": "gemini-2.5-flash", "responseId": "r1"}
    hidden = render_message(events, make_reply())
    assert hidden["candidates"][0]["content"]["parts"][0] == {"text": "Hello"}


def test_non_stream_grounding_and_estimate_without_usage():
    """Without a Usage event the prompt count is the reply's estimate."""
    out = render_message([ServerToolCall("s", "web_search", {"query": "q"}), TextDelta("x"),
                          Stop("end_turn")], make_reply(input_tokens=42))
    assert out["candidates"][0]["groundingMetadata"] == {"webSearchQueries": ["q"]}
    assert out["usageMetadata"] == {"promptTokenCount": 42, "candidatesTokenCount": 0, "totalTokenCount": 42}


# ------------------------------------------------------------------ real client parsers

def test_rendered_objects_validate_with_google_genai_types():
    """The SDK's own types accept every chunk and the whole answer."""
    types = pytest.importorskip("google.genai.types")
    events = [ThinkingDelta("t"), TextDelta("Hi"), ToolCallStart("c", "f"), ToolCallEnd("c", {"x": [1]}),
              ServerToolCall("s", "web_search", {"query": "q"}),
              ServerToolResult("s", "web_search", [{"title": "T", "url": "https://u"}]),
              Usage(5, 6), Stop("tool_use")]
    for chunk in chunks(events, include_thoughts=True):
        types.GenerateContentResponse.model_validate(chunk)
    whole = types.GenerateContentResponse.model_validate(render_message(events, make_reply()))
    assert whole.text == "Hi" and whole.function_calls[0].args == {"x": [1]}
    assert whole.candidates[0].grounding_metadata.grounding_chunks[0].web.uri == "https://u"
    assert whole.candidates[0].finish_reason == types.FinishReason.STOP


def test_python_sdk_stream_parser_reads_our_sse():
    """google-genai's SSE reader gets every chunk, blank keep-alive lines included."""
    api_client = pytest.importorskip("google.genai._api_client")
    requests = pytest.importorskip("requests")
    raw = sse([Ping(), TextDelta("a\u2028"), Ping(), Ping(), TextDelta("b"), Stop("end_turn")])
    response = requests.Response()
    response.status_code, response.raw = 200, io.BytesIO(raw)
    segments = list(api_client.HttpResponse({}, response_stream=response).segments())
    assert [s["candidates"][0]["content"]["parts"] for s in segments] == [[{"text": "a\u2028"}], [{"text": "b"}]]
    assert segments[-1]["candidates"][0]["finishReason"] == "STOP"


def test_gemini_cli_sse_matcher_reads_our_sse():
    """Gemini CLI's bundled SDK takes events off the front of its buffer with
    /^\\s*data: (.*)(?:\\n\\n|\\r\\r|\\r\\n\\r\\n)/, where `.` stops at \\r, \\n, U+2028, U+2029;
    here fed one byte at a time, pings and an awkward character included."""
    matcher = re.compile("\\s*data: ([^\r\n\u2028\u2029]*)(?:\n\n|\r\r|\r\n\r\n)")
    raw = sse([Ping(), TextDelta("x\u2028y"), Ping(), Ping(), TextDelta("z"), Stop("end_turn")]).decode()
    buffer, found = "", []
    for char in raw:
        buffer += char
        while (match := matcher.match(buffer)):
            found.append(json.loads(match.group(1)))
            buffer = buffer[match.end():]
    assert buffer.strip() == ""  # else the SDK throws "Incomplete JSON segment at the end"
    assert [f["candidates"][0]["content"]["parts"][0]["text"] for f in found] == ["x\u2028y", "z"]


def test_cached_prompt_tokens_are_part_of_the_prompt_count():
    """Gemini's promptTokenCount includes cached tokens, reported again as cachedContentTokenCount."""
    out = render_message([TextDelta("x"), Usage(12, 5, cache_read_tokens=4), Stop("end_turn")], make_reply())
    assert out["usageMetadata"] == {"promptTokenCount": 12, "candidatesTokenCount": 5,
                                    "totalTokenCount": 17, "cachedContentTokenCount": 4}


@pytest.mark.parametrize("text", TRICKY_TEXTS)
@pytest.mark.parametrize("model", ["gemini-2.5-flash", 'quote " and \u2028 中文', TEXT_SLOT])
def test_text_chunk_fast_path_is_the_dump_byte_for_byte(text, model):
    """A lone text part goes into a chunk dumped once per prompt count; the text must come out as
    a fresh dump's (U+2028/9 escaped too), before and after the usage changes the prompt count."""
    answer = _Answer(make_reply(model=model), include_thoughts=True)
    for usage in (None, Usage(10, 3), Usage(77, 5, cache_read_tokens=20)):
        if usage is not None:
            answer.parts(usage)
        assert same_outcome(lambda: answer.chunk_json([{"text": text}]),
                            lambda: dumps(answer.chunk([{"text": text}])))
    for parts in ([{"text": text, "thought": True}], [{"functionCall": {"id": "c", "name": "f", "args": {}}}]):
        assert answer.chunk_json(parts) == dumps(answer.chunk(parts))  # the general path


def test_array_and_sse_frames_of_a_dumped_chunk():
    framer = _ArrayFramer()
    assert framer.frame_json('{"a":1}') + framer.frame({"b": 2}) == b'[{"a":1},\r\n{"b":2}'
    assert _SseFramer().frame({"b": 2}) == _SseFramer.frame_json('{"b":2}') == b'data: {"b":2}\r\n\r\n'

"""Tests for the Responses adapter: SSE framing, the non-streamed answer and the error body."""
import json

import pytest
from openai.types.responses import Response

from proxy.chat import Ping, Stop, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart, Usage
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_responses import ADAPTER, ResponsesAdapter, parse
from proxy.protocols.openai_responses.render import PING, sse_frame
from tests.support import TRICKY_TEXTS, same_outcome

EVENTS = [ThinkingDelta("Plan."), TextDelta("Running."), Ping(), ToolCallStart("t1", "exec_command"),
          ToolCallDelta("t1", '{"cmd": "ls"}'), ToolCallEnd("t1", {"cmd": "ls"}),
          ToolCallStart("t2", "apply_patch"), ToolCallEnd("t2", {"input": "*** Begin Patch\n*** End Patch\n"}),
          Usage(50, 10), Stop("tool_use")]


def test_frame_and_ping_bytes():
    assert sse_frame("response.in_progress", {"x": "é"}, 3) == (
        'event: response.in_progress\ndata: {"type":"response.in_progress","x":"é","sequence_number":3}\n\n'
    ).encode("utf-8")
    assert PING == b": ping\n\n"


def test_message_equals_the_completed_stream_response(reply, context, decode_sse):
    adapter = ResponsesAdapter(context)
    whole = adapter.render_message(list(EVENTS), reply)
    streamed = decode_sse(b"".join(adapter.render_stream(iter(EVENTS), reply)))
    assert streamed[-1]["type"] == "response.completed"
    assert whole == streamed[-1]["response"]
    assert [item["type"] for item in whole["output"]] == ["reasoning", "message", "function_call", "custom_tool_call"]
    assert whole["status"] == "completed"
    assert whole["usage"]["total_tokens"] == 60
    parsed = Response.model_validate(whole)
    assert parsed.output_text == "Running."


def test_message_validates_with_the_echo_of_a_codex_request(capture, reply):
    context = parse(capture("0016")["body"]).context
    whole = ResponsesAdapter(context).render_message([TextDelta("Hi"), Stop("end_turn")], reply)
    response = Response.model_validate(whole)
    assert response.parallel_tool_calls is True and len(response.tools) == 10
    assert whole["reasoning"] == {"effort": "medium"} and whole["text"] == {"verbosity": "low"}
    assert whole["prompt_cache_key"] == "01a21636-c550-7f02-82e1-61bfc0dcbb3a"


def test_max_tokens_message_is_incomplete(reply, context):
    whole = ResponsesAdapter(context).render_message([TextDelta("Hal"), Stop("max_tokens")], reply)
    assert whole["status"] == "incomplete"
    assert whole["incomplete_details"] == {"reason": "max_output_tokens"}
    assert Response.model_validate(whole).incomplete_details.reason == "max_output_tokens"


def test_events_without_stop_still_complete(reply, context):
    whole = ResponsesAdapter(context).render_message([TextDelta("A")], reply)
    assert whole["status"] == "completed" and whole["output"][0]["content"][0]["text"] == "A"


def test_render_error_uses_the_openai_shape():
    status, body = ADAPTER.render_error(ProxyError(ErrorKind.INVALID_REQUEST, "model is required.", param="model"))
    assert status == 400
    assert body == {"error": {"message": "model is required.", "type": "invalid_request_error", "param": "model",
                              "code": None}}
    assert ADAPTER.render_error(ProxyError(ErrorKind.CONTEXT_TOO_LONG, "Input is too long."))[1]["error"]["code"] \
        == "context_length_exceeded"


def _dumped_frame(event_type: str, fields: dict, sequence_number: int) -> bytes:
    """sse_frame's general path: the whole event through json.dumps."""
    data = {"type": event_type, **fields, "sequence_number": sequence_number}
    return f"event: {event_type}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_text_delta_fast_paths_are_the_dump_byte_for_byte(text):
    """Text and reasoning deltas are framed without json.dumps; the bytes must be the dump's."""
    for item_id, index, number in (("msg_r1_0", 0, 5), ('id "q" \u2028', 12, 123456), (text, 3, 0)):
        for kind, fields in (("response.output_text.delta", {"item_id": item_id, "output_index": index,
                                                              "content_index": 0, "delta": text, "logprobs": []}),
                             ("response.reasoning_summary_text.delta", {"item_id": item_id, "output_index": index,
                                                                         "summary_index": 0, "delta": text})):
            assert same_outcome(lambda: sse_frame(kind, fields, number), lambda: _dumped_frame(kind, fields, number))


@pytest.mark.parametrize("fields", [
    {"item_id": "m", "output_index": 0, "content_index": 1, "delta": "d", "logprobs": []},  # another part
    {"item_id": "m", "output_index": 0, "content_index": 0, "delta": "d", "logprobs": [{"t": 1}]},
    {"output_index": 0, "item_id": "m", "content_index": 0, "delta": "d", "logprobs": []},  # other key order
    {"item_id": "m", "output_index": True, "content_index": 0, "delta": "d", "logprobs": []},
    {"item_id": "m", "output_index": 0, "content_index": 0, "delta": "d", "logprobs": [], "extra": None},
    {"item_id": "m", "output_index": 0, "content_index": False, "delta": "d", "logprobs": []},
])
def test_unusual_text_delta_fields_take_the_general_path(fields):
    assert sse_frame("response.output_text.delta", fields, 1) == _dumped_frame("response.output_text.delta", fields, 1)

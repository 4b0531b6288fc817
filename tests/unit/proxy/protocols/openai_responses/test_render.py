"""Tests for the Responses adapter: SSE framing, the non-streamed answer and the error body."""
from openai.types.responses import Response

from proxy.chat import Ping, Stop, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart, Usage
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_responses import ADAPTER, ResponsesAdapter, parse
from proxy.protocols.openai_responses.render import PING, sse_frame

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

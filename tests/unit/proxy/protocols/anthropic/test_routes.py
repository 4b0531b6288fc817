"""Tests for the Anthropic blueprint on a bare Flask app with a scripted relay, and through the
official `anthropic` SDK (so the SDK itself checks our wire format)."""
import json

import anthropic
import httpx2
import pytest
from flask import Flask

from proxy.chat import Stop, StreamError, TextDelta, ToolCallDelta, ToolCallEnd, ToolCallStart, Usage
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.anthropic import ADAPTER, blueprint
from tests.unit.proxy.protocols.blueprint_support import FakeRelay, blueprint_app

TEXT = [TextDelta("Hello"), TextDelta(" there"), Usage(12, 3), Stop("end_turn")]
TOOL = [TextDelta("Running."), ToolCallStart("toolu_1", "Bash"), ToolCallDelta("toolu_1", '{"command":'),
        ToolCallDelta("toolu_1", '"ls"}'), ToolCallEnd("toolu_1", {"command": "ls"}), Usage(12, 20),
        Stop("tool_use")]
BODY = {"model": "claude-x", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def make_app(relay: FakeRelay) -> Flask:
    """A Flask app with only this blueprint and the services it reads."""
    return blueprint_app(blueprint, relay, estimated_tokens=42)


def post(relay: FakeRelay, body, path="/v1/messages?beta=true", **kwargs):
    """POST `body` (a dict, or raw bytes) to `path`."""
    data = body if isinstance(body, bytes) else json.dumps(body)
    return make_app(relay).test_client().post(path, data=data, content_type="application/json", **kwargs)


def make_sdk(relay: FakeRelay) -> anthropic.Anthropic:
    """The official client, talking to the app in-process through WSGI."""
    transport = httpx2.WSGITransport(app=make_app(relay))
    return anthropic.Anthropic(api_key="sk-test", base_url="http://proxy.test", max_retries=0,
                               http_client=httpx2.Client(transport=transport))


def test_adapter_offers_the_serving_protocol():
    assert ADAPTER.stream_mimetype == "text/event-stream"


def test_non_stream_answer_and_parsed_chat():
    relay = FakeRelay(TEXT)
    resp = post(relay, BODY, headers={"X-Claude-Code-Session-Id": "sess-1"})
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    got = resp.get_json()
    assert got["id"].startswith("msg_") and len(got["id"]) == 28
    assert {k: got[k] for k in ("model", "content", "stop_reason", "usage")} == {
        "model": "claude-x", "content": [{"type": "text", "text": "Hello there"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 3}}
    assert relay.chats[0].session_key == "sess-1" and relay.chats[0].stream is False


def test_stream_answer_headers_and_start():
    resp = post(FakeRelay(TEXT), {**BODY, "stream": True})
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"] == "no-cache"
    body = resp.get_data(as_text=True)
    assert body.startswith('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_')
    assert '"usage":{"input_tokens":42,' in body.split("\n\n")[0]  # the estimate, before upstream counts
    assert body.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')


def test_count_tokens():
    resp = post(FakeRelay(), {"model": "x", "messages": [{"role": "user", "content": "hi"}]},
                path="/v1/messages/count_tokens?beta=true")
    assert (resp.status_code, resp.get_json()) == (200, {"input_tokens": 42})


@pytest.mark.parametrize("body, message", [
    (b"", "The request body is empty; expected a JSON object."),
    ({**BODY, "max_tokens": None}, "max_tokens: Field required"),
    ({**BODY, "messages": [{"role": "tool", "content": "x"}]},
     "messages.0.role: Input should be 'user', 'assistant' or 'system'"),
])
def test_bad_requests_answer_in_anthropic_shape(body, message):
    resp = post(FakeRelay(TEXT), body)
    assert (resp.status_code, resp.get_json()) == (
        400, {"type": "error", "error": {"type": "invalid_request_error", "message": message}})


def test_relay_error_before_the_answer_sets_status_and_retry_after():
    relay = FakeRelay(error=ProxyError(ErrorKind.RATE_LIMITED, "Slow down", retry_after=3))
    resp = post(relay, BODY)
    assert (resp.status_code, resp.headers["Retry-After"]) == (429, "3")
    assert resp.get_json() == {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}


def test_stream_error_in_a_non_stream_answer_is_an_error_response():
    relay = FakeRelay([TextDelta("Hi"), StreamError(ProxyError(ErrorKind.OVERLOADED, "Overloaded"))])
    resp = post(relay, BODY)
    assert (resp.status_code, resp.get_json()["error"]) == (529, {"type": "overloaded_error",
                                                                  "message": "Overloaded"})


def test_sdk_create_and_stream_agree():
    sdk = make_sdk(FakeRelay(TOOL))
    whole = sdk.messages.create(**BODY)
    with make_sdk(FakeRelay(TOOL)).messages.stream(**BODY) as stream:
        streamed = stream.get_final_message()
    assert whole.content[1].input == {"command": "ls"} and whole.stop_reason == "tool_use"
    streamed_dict, whole_dict = streamed.to_dict(exclude_none=True), whole.to_dict(exclude_none=True)
    assert streamed_dict.pop("id") != whole_dict.pop("id")  # two answers, two ids
    assert streamed_dict == whole_dict


def test_sdk_streams_a_tool_call_cut_by_max_tokens_without_error():
    # the cut-off tool_use block is left open (message_delta arrives inside it); the SDK's
    # accumulator must still produce the message, marked max_tokens
    cut = [TextDelta("Writing."), ToolCallStart("toolu_1", "Write"), ToolCallDelta("toolu_1", '{"path": "a'),
           Usage(12, 100), Stop("max_tokens")]
    with make_sdk(FakeRelay(cut)).messages.stream(**BODY) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "max_tokens" and final.content[0].text == "Writing."
    whole = make_sdk(FakeRelay(cut)).messages.create(**BODY)
    assert whole.stop_reason == "max_tokens" and [b.type for b in whole.content] == ["text"]


def test_sdk_count_tokens():
    got = make_sdk(FakeRelay()).messages.count_tokens(model="x", messages=[{"role": "user", "content": "hi"}])
    assert got.input_tokens == 42


def test_sdk_raises_its_typed_errors():
    sdk = make_sdk(FakeRelay(error=ProxyError(ErrorKind.CONTEXT_TOO_LONG, "250000 tokens > 200000")))
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk.messages.create(**BODY)
    assert caught.value.body["error"]["message"] == "prompt is too long: 250000 tokens > 200000 maximum"

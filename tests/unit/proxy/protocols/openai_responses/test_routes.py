"""Tests for POST /v1/responses on a bare Flask app with a scripted relay, and through the official
openai SDK (whose stream parser and Response model check our wire format)."""
import json

import httpx2
import openai
import pytest
from flask import Flask

from proxy.chat import (Stop, StreamError, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart,
                        Usage)
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_responses import blueprint
from tests.unit.proxy.protocols.blueprint_support import FakeRelay, blueprint_app

TEXT = [TextDelta("Hello"), TextDelta(" there"), Usage(12, 3), Stop("end_turn")]
PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
TOOLS = [{"type": "function", "name": "exec_command", "parameters": {"type": "object"}},
         {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark",
                                                               "definition": "start: /.+/"}}]


def make_app(relay: FakeRelay) -> Flask:
    """A Flask app with only this blueprint and the services it reads."""
    return blueprint_app(blueprint, relay, estimated_tokens=9)


def post(relay: FakeRelay, body, **kwargs):
    """POST `body` (a dict, or raw bytes) to /v1/responses."""
    data = body if isinstance(body, bytes) else json.dumps(body)
    return make_app(relay).test_client().post("/v1/responses", data=data, content_type="application/json", **kwargs)


def make_sdk(relay: FakeRelay) -> openai.OpenAI:
    """The official client, talking to the app in-process through WSGI."""
    transport = httpx2.WSGITransport(app=make_app(relay))
    return openai.OpenAI(api_key="sk-test", base_url="http://proxy.test/v1", max_retries=0,
                         http_client=httpx2.Client(transport=transport))


def test_non_stream_answer():
    relay = FakeRelay(TEXT)
    resp = post(relay, {"model": "gpt-5.5", "input": "hi", "prompt_cache_key": "thread-1"})
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["object"] == "response" and body["status"] == "completed" and body["model"] == "gpt-5.5"
    assert body["id"].startswith("resp_") and len(body["id"]) == len("resp_") + 24
    assert body["output"][0]["content"][0]["text"] == "Hello there"
    assert body["usage"]["total_tokens"] == 15
    assert relay.chats[0].session_key == "thread-1" and relay.chats[0].stream is False


def test_stream_answer(capture):
    cap = capture("0014")
    relay = FakeRelay(TEXT)
    resp = post(relay, cap["body"], headers={"session-id": "ignored-when-prompt_cache_key-is-set"})
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"] == "no-cache" and resp.headers["X-Accel-Buffering"] == "no"
    text = resp.get_data(as_text=True)
    assert text.startswith("event: response.created\ndata: {")
    assert text.rstrip().split("\n")[-2] == "event: response.completed"
    assert relay.chats[0].session_key == cap["body"]["prompt_cache_key"]


def test_session_header_is_the_fallback_session_key():
    relay = FakeRelay(TEXT)
    post(relay, {"model": "m", "input": "hi"}, headers={"session-id": "s-9"})
    assert relay.chats[0].session_key == "s-9"


def test_custom_tool_call_renders_with_the_request_tools():
    relay = FakeRelay([ToolCallStart("t", "apply_patch"), ToolCallEnd("t", {"input": PATCH}), Stop("tool_use")])
    body = post(relay, {"model": "m", "input": "patch it", "tools": TOOLS}).get_json()
    assert body["output"] == [{"id": body["output"][0]["id"], "type": "custom_tool_call", "status": "completed",
                               "call_id": "t", "name": "apply_patch", "input": PATCH}]
    assert body["output"][0]["id"].startswith("ctc_")


def test_bad_request_is_an_openai_error():
    resp = post(FakeRelay(TEXT), {"model": "m", "input": "hi", "previous_response_id": "resp_1"})
    assert resp.status_code == 400
    assert resp.get_json() == {"error": {
        "message": "previous_response_id is not supported: this proxy keeps no response state; send the full input",
        "type": "invalid_request_error", "param": "previous_response_id", "code": None}}


def test_body_that_is_not_json():
    resp = post(FakeRelay(TEXT), b"{nope")
    assert resp.status_code == 400 and resp.get_json()["error"]["type"] == "invalid_request_error"


def test_error_before_the_stream_keeps_retry_after():
    relay = FakeRelay(error=ProxyError(ErrorKind.RATE_LIMITED, "All accounts are cooling down.", retry_after=3))
    resp = post(relay, {"model": "m", "input": "hi", "stream": True})
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
    assert resp.get_json()["error"]["code"] == "rate_limit_exceeded"


def test_mid_stream_error_without_stream_is_an_error_response():
    relay = FakeRelay([TextDelta("par"), StreamError(ProxyError(ErrorKind.UPSTREAM, "Kiro broke."))])
    resp = post(relay, {"model": "m", "input": "hi"})
    assert resp.status_code == 502 and resp.get_json()["error"]["message"] == "Kiro broke."


def test_stored_responses_do_not_exist():
    client = make_app(FakeRelay()).test_client()
    for resp in (client.get("/v1/responses/resp_1"), client.delete("/v1/responses/resp_1"),
                 client.post("/v1/responses/resp_1/cancel")):
        assert resp.status_code == 404
        assert resp.get_json()["error"] == {
            "message": "Response 'resp_1' not found: this proxy stores no responses (store is ignored).",
            "type": "invalid_request_error", "param": "response_id", "code": "not_found"}


def test_sdk_non_stream():
    response = make_sdk(FakeRelay([ThinkingDelta("hmm"), *TEXT])).responses.create(
        model="gpt-5.5", input="hi", reasoning={"effort": "low", "summary": "auto"})
    assert response.output_text == "Hello there"
    assert response.output[0].type == "reasoning" and response.output[0].summary[0].text == "hmm"
    assert response.usage.input_tokens == 12


def test_sdk_stream_of_tool_calls():
    events = [ToolCallStart("c1", "exec_command"), ToolCallDelta("c1", '{"cmd": '), ToolCallDelta("c1", '"ls"}'),
              ToolCallEnd("c1", {"cmd": "ls"}), ToolCallStart("c2", "apply_patch"),
              ToolCallEnd("c2", {"input": PATCH}), Usage(20, 8), Stop("tool_use")]
    with make_sdk(FakeRelay(events)).responses.stream(model="gpt-5.5", input="go", tools=TOOLS) as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_response()
    assert seen[0] == "response.created" and seen[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in seen and "response.custom_tool_call_input.done" in seen
    call, patch = final.output
    assert (call.type, call.name, call.arguments) == ("function_call", "exec_command", '{"cmd": "ls"}')
    assert (patch.type, patch.name, patch.input) == ("custom_tool_call", "apply_patch", PATCH)


def test_sdk_sees_the_failed_stream():
    events = [TextDelta("par"), StreamError(ProxyError(ErrorKind.UPSTREAM, "Kiro broke."))]
    stream = make_sdk(FakeRelay(events)).responses.create(model="gpt-5.5", input="hi", stream=True)
    seen = list(stream)
    assert seen[-1].type == "response.failed"
    assert seen[-1].response.error.code == "server_error" and seen[-1].response.error.message == "Kiro broke."


def test_sdk_sees_bad_request_with_param():
    with pytest.raises(openai.BadRequestError) as info:
        make_sdk(FakeRelay(TEXT)).responses.create(model="gpt-5.5", input="hi", conversation="conv_1")
    assert info.value.param == "conversation"

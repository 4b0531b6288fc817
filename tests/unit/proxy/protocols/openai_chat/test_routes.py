"""Tests for POST /v1/chat/completions on a bare Flask app with a scripted relay, and through the
official openai SDK (so the SDK itself checks our wire format)."""
import json

import httpx2
import openai
import pytest
from flask import Flask

from proxy.chat import Stop, StreamError, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart, Usage
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_chat import blueprint
from tests.unit.proxy.protocols.blueprint_support import FakeRelay, blueprint_app

TEXT = [TextDelta("Hello"), TextDelta(" there"), Usage(12, 3), Stop("end_turn")]
TOOL = [ToolCallStart("tooluse_1", "shell"), ToolCallDelta("tooluse_1", '{"command": ["bash"'),
        ToolCallDelta("tooluse_1", ', "-lc", "echo hi"]}'), ToolCallEnd("tooluse_1", {"command": ["bash", "-lc",
                                                                                                   "echo hi"]}),
        Usage(12, 56), Stop("tool_use")]


def make_app(relay: FakeRelay) -> Flask:
    """A Flask app with only this blueprint and the services it reads."""
    return blueprint_app(blueprint, relay, estimated_tokens=9)


def post(relay: FakeRelay, body, **kwargs):
    """POST `body` (a dict, or raw bytes) to /v1/chat/completions."""
    data = body if isinstance(body, bytes) else json.dumps(body)
    return make_app(relay).test_client().post("/v1/chat/completions", data=data,
                                              content_type="application/json", **kwargs)


def make_sdk(relay: FakeRelay) -> openai.OpenAI:
    """The official client, talking to the app in-process through WSGI."""
    transport = httpx2.WSGITransport(app=make_app(relay))
    return openai.OpenAI(api_key="sk-test", base_url="http://proxy.test/v1", max_retries=0,
                         http_client=httpx2.Client(transport=transport))


def test_non_stream_answer():
    relay = FakeRelay(TEXT)
    resp = post(relay, {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]})
    body = resp.get_json()
    assert resp.status_code == 200 and body["id"].startswith("chatcmpl-")
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hello there", "refusal": None}
    assert body["usage"]["total_tokens"] == 15
    assert relay.chats[0].messages[0].text() == "hi"


def test_stream_with_include_usage():
    resp = post(FakeRelay(TEXT), {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}],
                                  "stream": True, "stream_options": {"include_usage": True}})
    text = resp.get_data(as_text=True)
    assert resp.mimetype == "text/event-stream" and resp.headers["Cache-Control"] == "no-cache"
    assert text.endswith("data: [DONE]\n\n") and '"choices":[],"usage":{"prompt_tokens":12' in text


@pytest.mark.parametrize("body, message, param", [
    (b"{nope", "The request body is not valid JSON: Expecting property name enclosed in double quotes: "
               "line 1 column 2 (char 1)", None),
    ({"model": "gpt-x"}, "Missing required parameter: 'messages'.", "messages"),
])
def test_bad_requests_get_openai_errors(body, message, param):
    relay = FakeRelay(TEXT)
    resp = post(relay, body)
    assert resp.status_code == 400 and relay.chats == []
    assert resp.get_json() == {"error": {"message": message, "type": "invalid_request_error", "param": param,
                                         "code": None}}


def test_relay_errors_before_the_answer_keep_retry_after():
    resp = post(FakeRelay(error=ProxyError(ErrorKind.RATE_LIMITED, "All accounts are busy.", retry_after=3)),
                {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]})
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
    assert resp.get_json()["error"]["code"] == "rate_limit_exceeded"


def test_sdk_non_stream():
    completion = make_sdk(FakeRelay([ThinkingDelta("hmm"), *TEXT])).chat.completions.create(
        model="gpt-x", messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content == "Hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens == 12 and completion.model == "gpt-x"


def test_sdk_stream_accumulates_a_tool_call():
    stream = make_sdk(FakeRelay(TOOL)).chat.completions.create(
        model="gpt-x", messages=[{"role": "user", "content": "RUN_TOOL: echo hi"}], stream=True,
        stream_options={"include_usage": True},
        tools=[{"type": "function", "function": {"name": "shell", "parameters": {"type": "object"}}}])
    chunks = list(stream)
    arguments = "".join(c.choices[0].delta.tool_calls[0].function.arguments or ""
                        for c in chunks if c.choices and c.choices[0].delta.tool_calls)
    assert json.loads(arguments) == {"command": ["bash", "-lc", "echo hi"]}
    assert chunks[1].choices[0].delta.tool_calls[0].id == "tooluse_1"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage.completion_tokens == 56 and chunks[-1].choices == []


def test_sdk_raises_api_error_on_a_mid_stream_error():
    stream = make_sdk(FakeRelay([TextDelta("par"), StreamError(ProxyError(ErrorKind.UPSTREAM, "Kiro broke."))])
                      ).chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "hi"}],
                                                stream=True)
    with pytest.raises(openai.APIError, match="Kiro broke."):
        list(stream)


def test_sdk_sees_bad_request_with_param():
    with pytest.raises(openai.BadRequestError) as info:
        make_sdk(FakeRelay(TEXT)).chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": "hi"}],
                                                          n=2)
    assert info.value.param == "n" and info.value.message.endswith("n > 1 is not supported.")

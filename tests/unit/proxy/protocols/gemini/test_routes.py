"""Tests for the Gemini blueprint on a bare Flask app with a scripted relay, and through the
official `google-genai` SDK (so the SDK itself checks our wire format)."""
import json

import pytest
from flask import Flask

from proxy.chat import (Stop, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart,
                        Usage)
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.gemini import ADAPTER, blueprint
from proxy.protocols.gemini.routes import is_gemini_request
from tests.unit.proxy.protocols.blueprint_support import FakeRelay, blueprint_app

TEXT = [TextDelta("Hello"), TextDelta(" there"), Usage(12, 3), Stop("end_turn")]
TOOL = [ToolCallStart("tooluse_1", "run_shell_command"), ToolCallDelta("tooluse_1", '{"command":"ls"}'),
        ToolCallEnd("tooluse_1", {"command": "ls"}), Usage(12, 20), Stop("tool_use")]
BODY = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def make_app(relay: FakeRelay) -> Flask:
    """A Flask app with only this blueprint and the services it reads."""
    return blueprint_app(blueprint, relay, estimated_tokens=42)


def post(relay: FakeRelay, path: str, body=BODY):
    """POST `body` (a dict, or raw bytes) to `path`."""
    data = body if isinstance(body, bytes) else json.dumps(body)
    return make_app(relay).test_client().post(path, data=data, content_type="application/json")


def test_adapter_defaults():
    """The exported adapter streams SSE and hides thoughts unless a request asks."""
    assert ADAPTER.stream_mimetype == "text/event-stream"
    assert ADAPTER.include_thoughts is False


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_stream_generate_content_sse(version):
    """alt=sse: text/event-stream, `data:` chunks, the model from the path, stream on."""
    relay = FakeRelay(TEXT)
    resp = post(relay, f"/{version}/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    events = resp.get_data().split(b"\r\n\r\n")
    assert events[0].startswith(b'data: {"candidates":[{"content":{"parts":[{"text":"Hello"}]')
    assert events[-1] == b"" and len(events) == 3
    last = json.loads(events[1][len(b"data: "):])
    assert last["modelVersion"] == "gemini-2.5-flash" and last["candidates"][0]["finishReason"] == "STOP"
    assert relay.chats[0].model == "gemini-2.5-flash" and relay.chats[0].stream is True


def test_stream_generate_content_without_alt_is_a_json_array():
    """No alt=sse: an application/json array, streamed."""
    resp = post(FakeRelay(TEXT), "/v1beta/models/gemini-2.5-pro:streamGenerateContent")
    assert resp.mimetype == "application/json"
    chunks = json.loads(resp.get_data())
    assert [c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks] == ["Hello", " there"]
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_generate_content_is_one_object_with_thoughts_when_asked():
    """generateContent: one merged object; includeThoughts shows the reasoning."""
    relay = FakeRelay([ThinkingDelta("hm"), *TEXT])
    body = {**BODY, "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}}}
    resp = post(relay, "/v1beta/models/gemini-2.5-flash:generateContent", body)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    data = resp.get_json()
    assert data["candidates"][0]["content"]["parts"] == [{"text": "hm", "thought": True}, {"text": "Hello there"}]
    assert data["usageMetadata"] == {"promptTokenCount": 12, "candidatesTokenCount": 3, "totalTokenCount": 15}
    assert relay.chats[0].stream is False


def test_count_tokens():
    """countTokens answers {"totalTokens": N} from the estimator, without the relay."""
    relay = FakeRelay()
    resp = post(relay, "/v1/models/gemini-2.5-flash:countTokens")
    assert resp.get_json() == {"totalTokens": 42} and relay.chats == []


def test_unknown_method_is_a_gemini_404():
    """`:embedContent` and a bare model name are 404s in Google's shape."""
    for path in ("/v1beta/models/gemini-2.5-flash:embedContent", "/v1beta/models/gemini-2.5-flash"):
        resp = post(FakeRelay(), path)
        assert resp.status_code == 404
        assert resp.get_json()["error"]["status"] == "NOT_FOUND"


def test_a_missing_model_name_is_a_404_that_says_so():
    # the message named a method "generateContent" that is not found, which it is
    resp = post(FakeRelay(), "/v1beta/models/:generateContent")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["message"] == "The model name is missing: use models/<model>:generateContent."


def test_bad_body_and_relay_errors_use_googles_shape():
    """Parse errors are 400 INVALID_ARGUMENT; relay errors keep their status and Retry-After."""
    resp = post(FakeRelay(), "/v1beta/models/m:generateContent", {"contents": []})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["status"] == "INVALID_ARGUMENT"
    assert post(FakeRelay(), "/v1beta/models/m:generateContent", b"{oops").status_code == 400
    limited = FakeRelay(error=ProxyError(ErrorKind.RATE_LIMITED, "slow down", retry_after=7))
    resp = post(limited, "/v1beta/models/m:streamGenerateContent?alt=sse")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"
    assert resp.get_json()["error"]["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]


def test_model_list_and_lookup():
    """GET /v1beta/models lists Gemini names; GET one by name; an unknown one is a 404."""
    client = make_app(FakeRelay()).test_client()
    names = [m["name"] for m in client.get("/v1beta/models").get_json()["models"]]
    assert "models/gemini-2.5-flash" in names and "models/gemini-3.1-pro-preview" in names
    model = client.get("/v1beta/models/gemini-2.5-pro").get_json()
    assert model["name"] == "models/gemini-2.5-pro"
    assert "streamGenerateContent" in model["supportedGenerationMethods"]
    resp = client.get("/v1beta/models/nope-1")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["message"].startswith("models/nope-1 is not found for API version v1beta")


def test_is_gemini_request():
    """Gemini clients are known by their key header, their client header or ?key=."""
    app = make_app(FakeRelay())
    for kwargs, expected in [({"headers": {"x-goog-api-key": "k"}}, True),
                             ({"query_string": {"key": "k"}}, True),
                             ({"headers": {"Authorization": "Bearer k"}}, False)]:
        with app.test_request_context("/v1/models", **kwargs):
            assert is_gemini_request() is expected


# ------------------------------------------------------------------ the official SDK

@pytest.fixture
def sdk():
    """A google-genai client bound to a scripted app in-process, and the relay behind it."""
    genai = pytest.importorskip("google.genai")
    httpx2 = pytest.importorskip("httpx2")

    def make(events):
        """A client whose requests reach a fresh app answering with `events`."""
        relay = FakeRelay(events)
        http = httpx2.Client(transport=httpx2.WSGITransport(app=make_app(relay)))
        options = genai.types.HttpOptions(base_url="http://proxy.test", httpx_client=http)
        return genai.Client(api_key="k", http_options=options), relay
    return make


def test_sdk_generate_content(sdk):
    """client.models.generate_content reads our answer."""
    client, relay = sdk(TEXT)
    result = client.models.generate_content(model="gemini-2.5-flash", contents="say hello")
    assert result.text == "Hello there"
    assert result.usage_metadata.total_token_count == 15
    assert relay.chats[0].messages[0].text() == "say hello"


def test_sdk_stream_with_a_function_call(sdk):
    """generate_content_stream gets the call, with our id, and the finish reason."""
    genai = pytest.importorskip("google.genai")
    client, relay = sdk(TOOL)
    tool = genai.types.Tool(function_declarations=[genai.types.FunctionDeclaration(
        name="run_shell_command",
        parameters_json_schema={"type": "object", "properties": {"command": {"type": "string"}}})])
    chunks = list(client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="RUN_TOOL: ls", config=genai.types.GenerateContentConfig(tools=[tool])))
    [call] = chunks[-1].function_calls
    assert (call.id, call.name, call.args) == ("tooluse_1", "run_shell_command", {"command": "ls"})
    assert chunks[-1].candidates[0].finish_reason == genai.types.FinishReason.STOP
    assert relay.chats[0].tools[0].schema["properties"] == {"command": {"type": "string"}}


def test_sdk_count_tokens_and_errors(sdk):
    """count_tokens, and a 400 surfaces as the SDK's ClientError with our message."""
    genai = pytest.importorskip("google.genai")
    client, _ = sdk(TEXT)
    assert client.models.count_tokens(model="gemini-2.5-flash", contents="hello").total_tokens == 42
    with pytest.raises(genai.errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="x",
                                       config=genai.types.GenerateContentConfig(candidate_count=2))
    assert info.value.code == 400 and "candidateCount" in info.value.message

"""The official `google-genai` SDK through the real proxy server and the fake Kiro.

The Python SDK talks to `/v1/models/...` (not /v1beta) and sends some fields in snake_case;
both are what the proxy must take.
"""
from __future__ import annotations

import base64
import json

import pytest
import requests
from google import genai
from google.genai import errors, types

from tests.support import account_from_fake, seed_data_dir, start_proxy, stop

pytestmark = pytest.mark.clients

# a 1x1 PNG: the smallest image Kiro accepts
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")

SHELL = types.Tool(function_declarations=[types.FunctionDeclaration(
    name="run_shell_command", description="Run a shell command",
    parameters_json_schema={"type": "object", "properties": {"command": {"type": "string"}},
                            "required": ["command"]})])


# raw requests close their connection, so stopping the proxy needs no shutdown grace period
CLOSE = {"Connection": "close"}


def sdk(url: str, api_key: str = "gemini-test-key") -> genai.Client:
    """A client pointed at the proxy; the SDK does not retry unless told to, so each error is seen.

    Use it with `with` (or the `gemini` fixture): a Client closes its connection pool only when
    closed or garbage-collected, and a proxy stopped under an open keep-alive connection waits
    out its shutdown grace period."""
    return genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=url, timeout=60_000))


@pytest.fixture
def gemini(proxy_server):
    """A google-genai client for the test's proxy, closed before the proxy stops."""
    with sdk(proxy_server.url) as client:
        yield client


def sent_to_kiro(fake_kiro) -> dict:
    """The userInputMessage of the last chat request the fake received."""
    return fake_kiro.requests(limit=1)[0]["body"]["conversationState"]["currentMessage"]["userInputMessage"]


def test_generate_content(gemini):
    result = gemini.models.generate_content(model="gemini-2.5-flash", contents="say hello")
    assert result.text == "Hello! This is the fake Kiro."
    candidate = result.candidates[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    assert candidate.content.role == "model"
    assert result.model_version == "gemini-2.5-flash"
    usage = result.usage_metadata
    assert usage.prompt_token_count > 0 and usage.candidates_token_count > 0
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count


def test_generate_content_stream(gemini):
    chunks = list(gemini.models.generate_content_stream(model="gemini-2.5-pro", contents="say hello"))
    assert len(chunks) > 1  # really streamed, not one lump
    assert "".join(c.text or "" for c in chunks) == "Hello! This is the fake Kiro."
    # the finish reason rides on the last chunk only (Gemini CLI retries without it)
    assert [c.candidates[0].finish_reason for c in chunks][-1] == types.FinishReason.STOP
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])


@pytest.mark.parametrize("include", [True, False])
def test_thoughts_are_shown_only_when_asked(gemini, fake_kiro, include):
    fake_kiro.fault("thinking")
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=include,
                                                                              thinking_level="HIGH"))
    chunks = list(gemini.models.generate_content_stream(model="gemini-3.1-pro-preview", contents="say hello",
                                                        config=config))
    parts = [p for c in chunks for p in (c.candidates[0].content.parts if c.candidates[0].content else None) or []]
    thoughts = "".join(p.text for p in parts if p.thought)
    assert "".join(p.text for p in parts if not p.thought) == "Hello! This is the fake Kiro."
    assert bool(thoughts) is include


def test_function_calling_round_trip(gemini):
    config = types.GenerateContentConfig(tools=[SHELL])
    history = [types.Content(role="user", parts=[types.Part(text="RUN_TOOL: echo kiro-proxy-ok")])]
    first = gemini.models.generate_content(model="gemini-2.5-flash", contents=history, config=config)
    [call] = first.function_calls
    assert call.name == "run_shell_command" and call.args == {"command": "echo kiro-proxy-ok"}
    assert call.id
    assert first.candidates[0].finish_reason == types.FinishReason.STOP
    history += [first.candidates[0].content,
                types.Content(role="user", parts=[types.Part(function_response=types.FunctionResponse(
                    id=call.id, name=call.name, response={"output": "kiro-proxy-ok"}))])]
    second = gemini.models.generate_content(model="gemini-2.5-flash", contents=history, config=config)
    assert second.text == "TOOL_RESULT_SEEN: kiro-proxy-ok"
    assert second.function_calls is None


def test_streamed_function_call_then_result_without_ids(gemini):
    config = types.GenerateContentConfig(tools=[SHELL])
    chunks = list(gemini.models.generate_content_stream(model="gemini-2.5-flash", config=config,
                                                        contents="RUN_TOOL: date -u"))
    calls = [call for chunk in chunks for call in chunk.function_calls or []]
    assert [(c.name, c.args) for c in calls] == [("run_shell_command", {"command": "date -u"})]
    # an older client sends no ids at all: the result pairs with the call by name
    history = [types.Content(role="user", parts=[types.Part(text="RUN_TOOL: date -u")]),
               types.Content(role="model", parts=[types.Part(function_call=types.FunctionCall(
                   name="run_shell_command", args={"command": "date -u"}))]),
               types.Content(role="user", parts=[types.Part.from_function_response(
                   name="run_shell_command", response={"output": "Thu Nov 26 07:00:00 UTC 2026"})])]
    answer = gemini.models.generate_content(model="gemini-2.5-flash", contents=history, config=config)
    assert answer.text == "TOOL_RESULT_SEEN: Thu Nov 26 07:00:00 UTC 2026"


def test_inline_image_reaches_kiro(gemini, fake_kiro):
    result = gemini.models.generate_content(model="gemini-2.5-flash", contents=[
        types.Part.from_bytes(data=PNG, mime_type="image/png"), "what is this?"])
    assert result.text
    sent = sent_to_kiro(fake_kiro)
    assert sent["images"] == [{"format": "png", "source": {"bytes": base64.b64encode(PNG).decode()}}]
    assert "what is this?" in sent["content"]


def test_json_output_follows_the_schema(gemini):
    schema = {"type": "object", "properties": {"city": {"type": "string"},
                                               "population": {"type": "integer", "minimum": 1}},
              "required": ["city", "population"]}
    result = gemini.models.generate_content(
        model="gemini-2.5-flash", contents="Name a city.",
        config=types.GenerateContentConfig(response_mime_type="application/json", response_json_schema=schema))
    value = json.loads(result.text)
    assert isinstance(value["city"], str) and isinstance(value["population"], int) and value["population"] >= 1
    assert result.parsed == value


def test_json_output_with_an_openapi_response_schema(gemini):
    # Gemini CLI's router sends upper-case OpenAPI types; the SDK's response_schema does too
    schema = types.Schema(type=types.Type.OBJECT, required=["score"],
                          properties={"score": types.Schema(type=types.Type.INTEGER)})
    result = gemini.models.generate_content(
        model="gemini-2.5-flash", contents="Rate it.",
        config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=schema))
    assert json.loads(result.text) == {"score": 1}


def test_google_search_grounding(gemini, fake_kiro):
    result = gemini.models.generate_content(
        model="gemini-2.5-flash", contents="WEB_SEARCH: kiro proxy",
        config=types.GenerateContentConfig(tools=[types.Tool(google_search=types.GoogleSearch())]))
    candidate = result.candidates[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    grounding = candidate.grounding_metadata
    assert grounding.web_search_queries == ["kiro proxy"]
    assert grounding.grounding_chunks and all(c.web.uri.startswith("http") for c in grounding.grounding_chunks)
    assert result.text  # the model's answer after reading the results
    # the search ran through Kiro's MCP web_search
    assert fake_kiro.requests(limit=5, path="/mcp")


def test_count_tokens(gemini, fake_kiro):
    short = gemini.models.count_tokens(model="gemini-2.5-flash", contents="hello").total_tokens
    long = gemini.models.count_tokens(model="gemini-2.5-flash", contents="hello " * 400).total_tokens
    assert 0 < short < long
    assert fake_kiro.requests(limit=5) == []  # counted locally, never sent to Kiro


def test_models_list_and_get(gemini):
    names = [model.name for model in gemini.models.list()]
    assert "models/gemini-2.5-flash" in names and "models/gemini-2.5-pro" in names
    model = gemini.models.get(model="gemini-2.5-flash")
    assert model.name == "models/gemini-2.5-flash"
    assert model.input_token_limit > 0 and model.output_token_limit > 0
    assert "generateContent" in model.supported_actions


def test_unknown_model_get_is_not_found(gemini):
    with pytest.raises(errors.ClientError) as info:
        gemini.models.get(model="no-such-model")
    assert info.value.code == 404 and info.value.status == "NOT_FOUND"
    assert "no-such-model" in info.value.message


def test_bad_input_is_invalid_argument_naming_the_field(gemini):
    with pytest.raises(errors.ClientError) as info:
        gemini.models.generate_content(
            model="gemini-2.5-flash", contents="hi",
            config=types.GenerateContentConfig(max_output_tokens=-5))
    assert info.value.code == 400 and info.value.status == "INVALID_ARGUMENT"
    assert "maxOutputTokens" in info.value.message
    violations = info.value.details["error"]["details"][0]["fieldViolations"]
    assert violations[0]["field"] == "generationConfig.maxOutputTokens"


def test_file_data_is_refused_clearly(gemini):
    with pytest.raises(errors.ClientError) as info:
        gemini.models.generate_content(model="gemini-2.5-flash", contents=[
            types.Part.from_uri(file_uri="https://example.com/a.pdf", mime_type="application/pdf"), "read it"])
    assert info.value.code == 400 and "fileData" in info.value.message


def test_client_keys_are_checked(tmp_path, fake_kiro, fake_account):
    data_dir = tmp_path / "keyed"
    seed_data_dir(data_dir, [account_from_fake(fake_account)])
    server = start_proxy(data_dir, fake_kiro.url, KIRO_PROXY_API_KEYS="good-key,other-key")
    try:
        with sdk(server.url, api_key="bad-key") as wrong:
            with pytest.raises(errors.ClientError) as info:
                wrong.models.generate_content(model="gemini-2.5-flash", contents="hi")
            assert info.value.code == 401 and info.value.status == "UNAUTHENTICATED"
            with pytest.raises(errors.ClientError) as info:
                wrong.models.list()
            assert info.value.code == 401 and info.value.status == "UNAUTHENTICATED"
        # no key at all (the SDK always sends one, so a raw request)
        bare = requests.post(f"{server.url}/v1beta/models/gemini-2.5-flash:generateContent", timeout=30,
                             json={"contents": [{"parts": [{"text": "hi"}]}]}, headers=CLOSE)
        assert bare.status_code == 401 and bare.json()["error"]["status"] == "UNAUTHENTICATED"
        with sdk(server.url, api_key="other-key") as right:
            ok = right.models.generate_content(model="gemini-2.5-flash", contents="hi")
        assert ok.text == "Hello! This is the fake Kiro."
        # ?key= is the other way Gemini clients send it
        by_query = requests.post(f"{server.url}/v1beta/models/gemini-2.5-flash:generateContent?key=good-key",
                                 json={"contents": [{"parts": [{"text": "hi"}]}]}, headers=CLOSE, timeout=30)
        assert by_query.status_code == 200
    finally:
        stop(server.proc)


def test_rate_limit_is_resource_exhausted_with_retry_info(gemini, fake_kiro):
    fake_kiro.fault("suspicious_429")
    with pytest.raises(errors.ClientError) as info:
        gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    assert int(info.value.response.headers["retry-after"]) > 0
    retry = [d for d in info.value.details["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry and retry[0]["retryDelay"].endswith("s")


def test_upstream_failure_is_unavailable(gemini, fake_kiro):
    fake_kiro.fault("server_500", count=10)
    with pytest.raises(errors.ServerError) as info:
        gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert info.value.code in (502, 503) and info.value.status == "UNAVAILABLE"


def test_mid_stream_failure_is_an_error_chunk(gemini, fake_kiro):
    fake_kiro.fault("exception_frame")
    seen = []
    with pytest.raises(errors.APIError) as info:
        for chunk in gemini.models.generate_content_stream(model="gemini-2.5-flash",
                                                                      contents="say hello"):
            seen.append(chunk.text or "")
    assert info.value.code in (502, 503) and info.value.status == "UNAVAILABLE"
    text = "".join(seen)
    # the text before the failure was delivered, and the answer was visibly cut short
    assert text and "Hello! This is the fake Kiro.".startswith(text) and text != "Hello! This is the fake Kiro."

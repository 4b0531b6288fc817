"""The official `openai` SDK's Chat Completions (and the model list) through the real proxy server and the
fake Kiro; the Responses API is in test_openai_responses_sdk.py."""
from __future__ import annotations

import json

import openai
import pytest

from tests.clients.openai_support import (CHAT_TOOL, DATA_URL, HELLO, MODEL, PERSON, PNG, fits_person, hello,
                                          sdk, sent_to_kiro)
from tests.support import account_from_fake, seed_data_dir, start_proxy, stop

pytestmark = pytest.mark.clients


# ---------------------------------------------------------------------------- Chat Completions

def test_chat_non_streaming(proxy_server):
    completion = sdk(proxy_server).chat.completions.create(**hello())
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == MODEL
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == HELLO
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_chat_streaming_without_usage(proxy_server):
    chunks = list(sdk(proxy_server).chat.completions.create(**hello(stream=True)))
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1  # really streamed, not one lump
    assert "".join(pieces) == HELLO
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert all(c.usage is None for c in chunks)
    assert len({c.id for c in chunks}) == 1


def test_chat_streaming_include_usage_ends_with_a_usage_chunk(proxy_server):
    chunks = list(sdk(proxy_server).chat.completions.create(
        **hello(stream=True, stream_options={"include_usage": True})))
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.prompt_tokens > 0 and last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_stream_helper_collects_the_final_completion(proxy_server):
    with sdk(proxy_server).chat.completions.stream(**hello()) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == HELLO
    assert final.choices[0].finish_reason == "stop"


def test_chat_tool_round_trip(proxy_server, fake_kiro):
    client = sdk(proxy_server)
    history = [{"role": "system", "content": "You run commands."},
               {"role": "user", "content": "RUN_TOOL: echo hi"}]
    first = client.chat.completions.create(model=MODEL, messages=history, tools=[CHAT_TOOL])
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.type == "function" and call.function.name == "exec_command"
    assert json.loads(call.function.arguments) == {"cmd": "echo hi"}
    history += [first.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "hi\n"}]
    second = client.chat.completions.create(model=MODEL, messages=history, tools=[CHAT_TOOL])
    assert second.choices[0].message.content == "TOOL_RESULT_SEEN: hi"
    assert second.choices[0].finish_reason == "stop"
    results = sent_to_kiro(fake_kiro)["userInputMessageContext"]["toolResults"]
    assert results[0]["toolUseId"] == call.id


def test_chat_streamed_tool_call_arrives_in_fragments(proxy_server):
    chunks = list(sdk(proxy_server).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": 'RUN_TOOL: printf "a\\tb"'}], tools=[CHAT_TOOL],
        stream=True))
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].index == 0 and deltas[0].id and deltas[0].function.name == "exec_command"
    fragments = [d.function.arguments for d in deltas if d.function and d.function.arguments]
    assert len(fragments) > 1
    assert json.loads("".join(fragments)) == {"cmd": 'printf "a\\tb"'}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_chat_image_reaches_kiro(proxy_server, fake_kiro):
    completion = sdk(proxy_server).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": DATA_URL}}]}])
    assert completion.choices[0].message.content
    assert sent_to_kiro(fake_kiro)["images"] == [{"format": "png", "source": {"bytes": PNG}}]


def test_chat_remote_image_url_is_a_clear_400(proxy_server):
    with pytest.raises(openai.BadRequestError) as info:
        sdk(proxy_server).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}])
    assert info.value.body["param"] == "messages[0].content[0].image_url.url"


def test_chat_json_schema_answer_fits_the_schema(proxy_server):
    completion = sdk(proxy_server).chat.completions.create(**hello(response_format={
        "type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}))
    assert fits_person(json.loads(completion.choices[0].message.content))


def test_chat_parse_helper_with_a_pydantic_model(proxy_server):
    pydantic = pytest.importorskip("pydantic")

    class Person(pydantic.BaseModel):
        name: str
        age: int

    completion = sdk(proxy_server).chat.completions.parse(**hello(response_format=Person))
    person = completion.choices[0].message.parsed
    assert isinstance(person, Person) and person.name


def test_chat_n_above_one_is_refused_naming_the_field(proxy_server):
    with pytest.raises(openai.BadRequestError) as info:
        sdk(proxy_server).chat.completions.create(**hello(n=2))
    assert info.value.status_code == 400
    assert info.value.body["type"] == "invalid_request_error"
    assert info.value.body["param"] == "n"


def test_chat_wrong_type_is_a_400_naming_the_field(proxy_server):
    with pytest.raises(openai.BadRequestError) as info:
        sdk(proxy_server).chat.completions.create(**hello(max_tokens="lots"))
    assert info.value.body["param"] == "max_tokens"
    assert "max_tokens" in info.value.message


def test_wrong_client_key_is_invalid_api_key(tmp_path, fake_kiro, fake_account):
    data_dir = tmp_path / "keyed"
    seed_data_dir(data_dir, [account_from_fake(fake_account)])
    server = start_proxy(data_dir, fake_kiro.url, KIRO_PROXY_API_KEYS="good-key,other-key")
    try:
        with pytest.raises(openai.AuthenticationError) as info:
            sdk(server, api_key="bad-key").chat.completions.create(**hello())
        assert info.value.status_code == 401
        assert info.value.code == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError):
            sdk(server, api_key="bad-key").responses.create(model=MODEL, input="hi")
        ok = sdk(server, api_key="other-key").chat.completions.create(**hello())
        assert ok.choices[0].message.content == HELLO
    finally:
        stop(server.proc)


def test_models_list_and_unknown_model_lookup(proxy_server):
    client = sdk(proxy_server)
    ids = [m.id for m in client.models.list()]
    assert ids and all(isinstance(i, str) for i in ids)
    assert client.models.retrieve(ids[0]).id == ids[0]
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("nope")
    assert info.value.code == "model_not_found"


def test_unknown_model_name_is_served_by_the_default_model(proxy_server):
    completion = sdk(proxy_server).chat.completions.create(model="some-model-nobody-knows",
                                                           messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content == HELLO


def test_rate_limit_is_429_with_retry_after(proxy_server, fake_kiro):
    fake_kiro.fault("suspicious_429")
    with pytest.raises(openai.RateLimitError) as info:
        sdk(proxy_server).chat.completions.create(**hello())
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.body["type"] == "rate_limit_error"
    assert int(info.value.response.headers["retry-after"]) > 0


def test_exhausted_quota_is_insufficient_quota(proxy_server, fake_kiro):
    fake_kiro.fault("quota_402")
    with pytest.raises(openai.RateLimitError) as info:
        sdk(proxy_server).chat.completions.create(**hello())
    assert info.value.status_code == 429
    assert info.value.code == "insufficient_quota"
    assert info.value.body["type"] == "insufficient_quota"


def test_too_long_input_is_context_length_exceeded(proxy_server, fake_kiro):
    fake_kiro.fault("too_long_400")
    with pytest.raises(openai.BadRequestError) as info:
        sdk(proxy_server).chat.completions.create(**hello())
    assert info.value.code == "context_length_exceeded"
    assert "context length" in info.value.message


def test_upstream_failure_is_server_error(proxy_server, fake_kiro):
    fake_kiro.fault("server_500", count=10)
    with pytest.raises(openai.InternalServerError) as info:
        sdk(proxy_server).chat.completions.create(**hello())
    assert info.value.status_code >= 500
    assert info.value.body["type"] == "server_error"


def test_chat_mid_stream_failure_raises_in_the_stream(proxy_server, fake_kiro):
    fake_kiro.fault("exception_frame")
    pieces = []
    with pytest.raises(openai.APIError) as info:
        for chunk in sdk(proxy_server).chat.completions.create(**hello(stream=True)):
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
    assert pieces  # the failure came after text had been streamed
    assert info.value.body["type"] in ("server_error", "rate_limit_error")


def test_chat_web_search_options_answer_with_results(proxy_server):
    completion = sdk(proxy_server).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "WEB_SEARCH: kiro proxy"}], web_search_options={})
    assert "\n\nTOOL_RESULT_SEEN:" in completion.choices[0].message.content

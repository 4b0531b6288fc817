"""The official `openai` SDK (Chat Completions and Responses) through the real proxy server and the fake Kiro."""
from __future__ import annotations

import base64
import json

import openai
import pytest

from tests.support import account_from_fake, seed_data_dir, start_proxy, stop

pytestmark = pytest.mark.clients

# a 1x1 PNG: the smallest image Kiro accepts
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()
DATA_URL = f"data:image/png;base64,{PNG}"
HELLO = "Hello! This is the fake Kiro."
MODEL = "gpt-5.5"

EXEC_SCHEMA = {"type": "object", "properties": {"cmd": {"type": "string", "description": "The command"}},
               "required": ["cmd"], "additionalProperties": False}
CHAT_TOOL = {"type": "function", "function": {"name": "exec_command", "description": "Run a shell command",
                                              "parameters": EXEC_SCHEMA}}
RESPONSES_TOOL = {"type": "function", "name": "exec_command", "description": "Run a shell command",
                  "parameters": EXEC_SCHEMA, "strict": False}
PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 3},
                                           "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
          "required": ["name", "age", "tags"], "additionalProperties": False}


def sdk(proxy, **options) -> openai.OpenAI:
    """A client pointed at the proxy that does not retry, so each error is seen as it is."""
    return openai.OpenAI(base_url=proxy.url + "/v1", api_key=options.pop("api_key", "sk-test"),
                         max_retries=0, timeout=60, **options)


def hello(**extra) -> dict:
    """Chat Completions arguments for a one-line hello."""
    return dict(model=MODEL, messages=[{"role": "user", "content": "say hello"}], **extra)


def sent_to_kiro(fake_kiro) -> dict:
    """The userInputMessage of the last chat request the fake received."""
    return fake_kiro.requests(limit=1)[-1]["body"]["conversationState"]["currentMessage"]["userInputMessage"]


def fits_person(value: dict) -> bool:
    """True when `value` validates against PERSON (checked by hand: no jsonschema dependency)."""
    return (set(value) == {"name", "age", "tags"} and isinstance(value["name"], str)
            and isinstance(value["age"], int) and value["age"] >= 3
            and isinstance(value["tags"], list) and len(value["tags"]) >= 1
            and all(isinstance(t, str) for t in value["tags"]))


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


# ---------------------------------------------------------------------------- Responses

def test_responses_non_streaming(proxy_server):
    response = sdk(proxy_server).responses.create(model=MODEL, instructions="Be brief.", input="say hello")
    assert response.object == "response" and response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.output_text == HELLO
    assert response.output[-1].type == "message" and response.output[-1].status == "completed"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.store is False


def test_responses_streaming_event_sequence(proxy_server):
    events = list(sdk(proxy_server).responses.create(model=MODEL, input="say hello", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    for name in ("response.output_item.added", "response.content_part.added", "response.output_text.done",
                 "response.content_part.done", "response.output_item.done"):
        assert kinds.count(name) == 1, name
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == HELLO
    final = events[-1].response
    assert final.output_text == HELLO and final.usage.output_tokens > 0


def test_responses_stream_helper_final_response(proxy_server):
    with sdk(proxy_server).responses.stream(model=MODEL, input="say hello") as stream:
        final = stream.get_final_response()
    assert final.output_text == HELLO


def test_responses_function_tool_round_trip(proxy_server, fake_kiro):
    client = sdk(proxy_server)
    history: list = [{"role": "user", "content": "RUN_TOOL: echo hi"}]
    first = client.responses.create(model=MODEL, input=history, tools=[RESPONSES_TOOL])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "exec_command"
    assert json.loads(calls[0].arguments) == {"cmd": "echo hi"}
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"type": "function_call_output", "call_id": calls[0].call_id, "output": "hi\n"})
    second = client.responses.create(model=MODEL, input=history, tools=[RESPONSES_TOOL])
    assert second.output_text == "TOOL_RESULT_SEEN: hi"
    assert not [item for item in second.output if item.type == "function_call"]
    assert sent_to_kiro(fake_kiro)["userInputMessageContext"]["toolResults"][0]["toolUseId"] == calls[0].call_id


def test_responses_custom_tool_round_trip(proxy_server):
    client = sdk(proxy_server)
    patch_tool = {"type": "custom", "name": "apply_patch", "description": "Edit files with a patch",
                  "format": {"type": "grammar", "syntax": "lark", "definition": 'start: "*** Begin Patch" /(.|\\n)+/'}}
    history: list = [{"role": "user", "content": "APPLY_PATCH: notes.txt hi there"}]
    events = list(client.responses.create(model=MODEL, input=history, tools=[patch_tool], stream=True))
    patch = "*** Begin Patch\n*** Add File: notes.txt\n+hi there\n*** End Patch"
    assert "".join(e.delta for e in events if e.type == "response.custom_tool_call_input.delta") == patch
    call = next(e.item for e in events if e.type == "response.output_item.done" and e.item.type == "custom_tool_call")
    assert (call.name, call.input) == ("apply_patch", patch)
    history += [e.item.model_dump(exclude_none=True) for e in events if e.type == "response.output_item.done"]
    history.append({"type": "custom_tool_call_output", "call_id": call.call_id, "output": "Done!"})
    second = client.responses.create(model=MODEL, input=history, tools=[patch_tool])
    assert second.output_text == "TOOL_RESULT_SEEN: Done!"


def test_responses_local_shell_round_trip(proxy_server):
    client = sdk(proxy_server)
    history: list = [{"role": "user", "content": "RUN_TOOL: uname -s"}]
    first = client.responses.create(model=MODEL, input=history, tools=[{"type": "local_shell"}])
    call = next(item for item in first.output if item.type == "local_shell_call")
    assert call.action.command == ["bash", "-lc", "uname -s"]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"type": "local_shell_call_output", "id": call.call_id, "output": "Linux"})
    second = client.responses.create(model=MODEL, input=history, tools=[{"type": "local_shell"}])
    assert second.output_text == "TOOL_RESULT_SEEN: Linux"


def test_responses_web_search_runs_through_the_proxy(proxy_server):
    response = sdk(proxy_server).responses.create(model=MODEL, input="WEB_SEARCH: kiro proxy",
                                                  tools=[{"type": "web_search"}])
    kinds = [item.type for item in response.output]
    assert "web_search_call" in kinds and kinds[-1] == "message"
    search = next(item for item in response.output if item.type == "web_search_call")
    assert search.status == "completed" and search.action.query == "kiro proxy"
    assert "TOOL_RESULT_SEEN:" in response.output_text and "kiro proxy" in response.output_text


def test_chat_web_search_options_answer_with_results(proxy_server):
    completion = sdk(proxy_server).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "WEB_SEARCH: kiro proxy"}], web_search_options={})
    assert "\n\nTOOL_RESULT_SEEN:" in completion.choices[0].message.content


def test_responses_streamed_function_call_events(proxy_server):
    events = list(sdk(proxy_server).responses.create(model=MODEL, input="RUN_TOOL: ls -la /tmp",
                                                     tools=[RESPONSES_TOOL], stream=True))
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert len(deltas) > 1 and len(done) == 1
    assert json.loads("".join(deltas)) == json.loads(done[0].arguments) == {"cmd": "ls -la /tmp"}
    items = [e.item for e in events if e.type == "response.output_item.done"]
    assert [i.type for i in items] == ["message", "function_call"]
    assert events[-1].type == "response.completed"


def test_responses_image_reaches_kiro(proxy_server, fake_kiro):
    response = sdk(proxy_server).responses.create(model=MODEL, input=[{"role": "user", "content": [
        {"type": "input_text", "text": "what is this?"}, {"type": "input_image", "image_url": DATA_URL}]}])
    assert response.output_text
    assert sent_to_kiro(fake_kiro)["images"] == [{"format": "png", "source": {"bytes": PNG}}]


def test_responses_json_schema_text_format(proxy_server):
    response = sdk(proxy_server).responses.create(model=MODEL, input="describe someone", text={
        "format": {"type": "json_schema", "name": "person", "schema": PERSON, "strict": True}})
    assert fits_person(json.loads(response.output_text))


def test_responses_previous_response_id_is_a_clear_400(proxy_server):
    with pytest.raises(openai.BadRequestError) as info:
        sdk(proxy_server).responses.create(model=MODEL, input="again", previous_response_id="resp_123")
    assert info.value.body["param"] == "previous_response_id"
    assert "previous_response_id" in info.value.message


def test_responses_stored_response_lookup_is_not_found(proxy_server):
    with pytest.raises(openai.NotFoundError):
        sdk(proxy_server).responses.retrieve("resp_123")


def test_responses_bad_type_is_a_400_naming_the_field(proxy_server):
    with pytest.raises(openai.BadRequestError) as info:
        sdk(proxy_server).responses.create(model=MODEL, input="hi", max_output_tokens="lots")
    assert info.value.body["param"] == "max_output_tokens"


def test_responses_rate_limit_is_429_with_retry_after(proxy_server, fake_kiro):
    fake_kiro.fault("suspicious_429")
    with pytest.raises(openai.RateLimitError) as info:
        sdk(proxy_server).responses.create(model=MODEL, input="hi", stream=True)
    assert info.value.code == "rate_limit_exceeded"
    assert int(info.value.response.headers["retry-after"]) > 0


def test_responses_too_long_input_is_context_length_exceeded(proxy_server, fake_kiro):
    fake_kiro.fault("too_long_400")
    with pytest.raises(openai.BadRequestError) as info:
        sdk(proxy_server).responses.create(model=MODEL, input="hi")
    assert info.value.code == "context_length_exceeded"


def test_responses_exhausted_quota_is_insufficient_quota(proxy_server, fake_kiro):
    fake_kiro.fault("quota_402")
    with pytest.raises(openai.RateLimitError) as info:
        sdk(proxy_server).responses.create(model=MODEL, input="hi")
    assert info.value.code == "insufficient_quota"


def test_responses_upstream_failure_is_server_error(proxy_server, fake_kiro):
    fake_kiro.fault("server_500", count=10)
    with pytest.raises(openai.InternalServerError) as info:
        sdk(proxy_server).responses.create(model=MODEL, input="hi")
    assert info.value.body["type"] == "server_error"


def test_responses_mid_stream_failure_is_response_failed(proxy_server, fake_kiro):
    fake_kiro.fault("exception_frame")
    events = list(sdk(proxy_server).responses.create(model=MODEL, input="say hello", stream=True))
    assert any(e.type == "response.output_text.delta" for e in events)
    assert events[-1].type == "response.failed"
    failed = events[-1].response
    assert failed.status == "failed"
    assert failed.error.code in ("rate_limit_exceeded", "server_error")
    assert failed.error.message
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_responses_stream_helper_sees_the_failure(proxy_server, fake_kiro):
    # as with OpenAI itself, a failed response is an event, not an exception; only the final response is missing
    fake_kiro.fault("exception_frame")
    with sdk(proxy_server).responses.stream(model=MODEL, input="say hello") as stream:
        kinds = [event.type for event in stream]
        with pytest.raises(RuntimeError, match="response.completed"):
            stream.get_final_response()
    assert kinds[-1] == "response.failed"

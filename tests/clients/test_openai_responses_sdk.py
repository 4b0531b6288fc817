"""The official `openai` SDK's Responses API through the real proxy server and the fake Kiro."""
from __future__ import annotations

import json

import openai
import pytest

from tests.clients.openai_support import (DATA_URL, HELLO, MODEL, PERSON, PNG, RESPONSES_TOOL, fits_person, sdk,
                                          sent_to_kiro)

pytestmark = pytest.mark.clients


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

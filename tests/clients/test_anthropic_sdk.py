"""The official `anthropic` SDK through the real proxy server and the fake Kiro."""
from __future__ import annotations

import base64

import anthropic
import pytest

from tests.support import account_from_fake, seed_data_dir, start_proxy, stop

pytestmark = pytest.mark.clients

# a 1x1 PNG: the smallest image Kiro accepts
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()

BASH = {"name": "Bash", "description": "Run a shell command",
        "input_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                         "properties": {"command": {"type": "string"}}, "required": ["command"],
                         "additionalProperties": False}}


def sdk(proxy, **options) -> anthropic.Anthropic:
    """A client pointed at the proxy that does not retry, so each error is seen as it is."""
    return anthropic.Anthropic(base_url=proxy.url, api_key=options.pop("api_key", "sk-ant-test"),
                               max_retries=0, timeout=60, **options)


def test_non_streaming_message(proxy_server):
    message = sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens=256,
                                                messages=[{"role": "user", "content": "say hello"}])
    assert message.role == "assistant"
    assert message.content[0].text == "Hello! This is the fake Kiro."
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_streaming_message_collects_the_same_text(proxy_server):
    with sdk(proxy_server).messages.stream(model="claude-opus-4-6", max_tokens=256,
                                           messages=[{"role": "user", "content": "say hello"}]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 1  # really streamed, not one lump
    assert "".join(pieces) == "Hello! This is the fake Kiro."
    assert final.stop_reason == "end_turn"


def test_tool_round_trip(proxy_server):
    client = sdk(proxy_server)
    history = [{"role": "user", "content": "RUN_TOOL: date -u"}]
    first = client.messages.create(model="claude-sonnet-4-6", max_tokens=512, tools=[BASH], messages=history)
    assert first.stop_reason == "tool_use"
    call = next(block for block in first.content if block.type == "tool_use")
    assert call.name == "Bash" and call.input == {"command": "date -u"}
    history += [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                              "content": "Thu Nov 26 07:00:00 UTC 2026"}]}]
    second = client.messages.create(model="claude-sonnet-4-6", max_tokens=512, tools=[BASH], messages=history)
    assert second.content[0].text == "TOOL_RESULT_SEEN: Thu Nov 26 07:00:00 UTC 2026"
    assert second.stop_reason == "end_turn"


def test_image_reaches_kiro(proxy_server, fake_kiro):
    message = sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens=128, messages=[{
        "role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                                 "data": PNG}},
                                    {"type": "text", "text": "what is this?"}]}])
    assert message.content[0].type == "text"
    sent = fake_kiro.requests(limit=1)[0]["body"]["conversationState"]["currentMessage"]["userInputMessage"]
    assert sent["images"] == [{"format": "png", "source": {"bytes": PNG}}]


def test_bad_input_is_a_400_naming_the_field(proxy_server):
    with pytest.raises(anthropic.BadRequestError) as info:
        sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens="lots",
                                          messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in info.value.body["error"]["message"]


def test_too_long_input_reads_prompt_is_too_long(proxy_server, fake_kiro):
    fake_kiro.fault("too_long_400")
    with pytest.raises(anthropic.BadRequestError) as info:
        sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens=64,
                                          messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["error"]["message"].startswith("prompt is too long")


def test_wrong_client_key_is_authentication_error(tmp_path, fake_kiro, fake_account):
    data_dir = tmp_path / "keyed"
    seed_data_dir(data_dir, [account_from_fake(fake_account)])
    server = start_proxy(data_dir, fake_kiro.url, KIRO_PROXY_API_KEYS="good-key,other-key")
    try:
        with pytest.raises(anthropic.AuthenticationError) as info:
            sdk(server, api_key="bad-key").messages.create(model="claude-sonnet-4-6", max_tokens=16,
                                                           messages=[{"role": "user", "content": "hi"}])
        assert info.value.body["error"]["type"] == "authentication_error"
        ok = sdk(server, api_key="other-key").messages.create(model="claude-sonnet-4-6", max_tokens=16,
                                                              messages=[{"role": "user", "content": "hi"}])
        assert ok.content[0].text
    finally:
        stop(server.proc)


def test_unknown_model_lookup_is_not_found(proxy_server):
    with pytest.raises(anthropic.NotFoundError) as info:
        sdk(proxy_server).models.retrieve("no-such-model")
    assert info.value.body["error"]["type"] == "not_found_error"


def test_rate_limit_carries_retry_after(proxy_server, fake_kiro):
    fake_kiro.fault("suspicious_429")
    with pytest.raises(anthropic.RateLimitError) as info:
        sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens=16,
                                          messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["error"]["type"] == "rate_limit_error"
    assert int(info.value.response.headers["retry-after"]) > 0


def test_capacity_is_overloaded_error(proxy_server, fake_kiro):
    fake_kiro.fault("capacity_429", count=10)
    with pytest.raises(anthropic.APIStatusError) as info:
        sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens=16,
                                          messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 529
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_upstream_failure_is_api_error(proxy_server, fake_kiro):
    fake_kiro.fault("server_500", count=10)
    with pytest.raises(anthropic.InternalServerError) as info:
        sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens=16,
                                          messages=[{"role": "user", "content": "hi"}])
    assert info.value.body["error"]["type"] == "api_error"


def test_suspended_only_account_is_permission_safe_and_never_retried(proxy_server, fake_kiro):
    fake_kiro.fault("suspended_403")
    with pytest.raises(anthropic.APIStatusError) as info:
        sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens=16,
                                          messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code in (503, 529)
    # the account is disabled: a second request does not reach Kiro at all
    before = fake_kiro.stats()["totals"]["chat_requests"]
    with pytest.raises(anthropic.APIStatusError):
        sdk(proxy_server).messages.create(model="claude-sonnet-4-6", max_tokens=16,
                                          messages=[{"role": "user", "content": "hi"}])
    assert fake_kiro.stats()["totals"]["chat_requests"] == before


def test_mid_stream_failure_becomes_an_error_event(proxy_server, fake_kiro):
    fake_kiro.fault("exception_frame")
    with pytest.raises(anthropic.APIStatusError) as info:
        with sdk(proxy_server).messages.stream(model="claude-sonnet-4-6", max_tokens=64,
                                               messages=[{"role": "user", "content": "say hello"}]) as stream:
            for _ in stream.text_stream:
                pass
    assert info.value.body["error"]["type"] in ("overloaded_error", "api_error")

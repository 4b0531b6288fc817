"""Tests for tests/fake_kiro/chat.py through the Flask test client."""
import json
import re

from tests.fake_kiro import bodies
from tests.unit.fake_kiro.helpers import (chat_body, events, post_chat, raw, text_of, tool_calls, tool_spec,
                                          tool_turn_body)

BASH = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}


def test_success_stream_headers_and_frames(client, account):
    resp = post_chat(client, account["access_token"], chat_body("hi"))
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/vnd.amazon.eventstream"
    assert re.fullmatch(r"[0-9a-f-]{36}", resp.headers["x-amzn-requestid"])
    evts = events(resp)
    assert text_of(evts) == "Hello! This is the fake Kiro."
    deltas = [p["content"] for t, p in evts if t == "assistantResponseEvent"]
    assert any(a == b for a, b in zip(deltas, deltas[1:]))  # a legitimate repeated chunk
    assert [t for t, _ in evts[-2:]] == ["meteringEvent", "contextUsageEvent"]


def test_context_usage_reflects_estimated_input_tokens(client, account):
    body = chat_body("x" * 10_000)
    evts = events(post_chat(client, account["access_token"], body))
    tokens = len(raw(body)) // 4
    assert evts[-1][1]["contextUsagePercentage"] == round(tokens / 200_000 * 100, 4)


def test_one_million_window_for_1m_models(client, account):
    body = chat_body("x" * 10_000, model="claude-sonnet-4.5-1m")
    evts = events(post_chat(client, account["access_token"], body))
    assert evts[-1][1]["contextUsagePercentage"] == round(len(raw(body)) // 4 / 1_000_000 * 100, 4)


def test_tool_call_stream_reassembles(client, account):
    evts = events(post_chat(client, account["access_token"],
                            chat_body('RUN_TOOL: echo "a\\b"', tools=[tool_spec("Bash", BASH)])))
    [(name, tool_id, args)] = tool_calls(evts)
    assert (name, args) == ("Bash", {"command": 'echo "a\\b"'})
    assert re.fullmatch(r"tooluse_[A-Za-z0-9]{22}", tool_id)
    fragments = [p["input"] for t, p in evts if t == "toolUseEvent" and p.get("input")]
    assert any(f.endswith("\\") for f in fragments)  # split inside an escape
    assert text_of(evts) == "Running the command."


def test_tool_result_turn(client, account):
    evts = events(post_chat(client, account["access_token"], tool_turn_body()))
    assert text_of(evts) == "TOOL_RESULT_SEEN: 18C, cloudy"


def test_adaptive_thinking_emits_reasoning_frames(client, account):
    body = chat_body(additionalModelRequestFields={"thinking": {"type": "adaptive"}}, model="claude-opus-4.6")
    kinds = [t for t, _ in events(post_chat(client, account["access_token"], body))]
    assert kinds[0] == "reasoningContentEvent" and "assistantResponseEvent" in kinds


def test_metadata_event_when_configured(client, account):
    client.post("/__fake/config", json={"emit_metadata": True})
    evts = events(post_chat(client, account["access_token"], chat_body()))
    assert evts[-1][0] == "metadataEvent" and evts[-1][1]["stopReason"] == "END_TURN"


def test_text_chunk_size_is_configurable(client, account):
    client.post("/__fake/config", json={"text_chunk_chars": 50})
    evts = events(post_chat(client, account["access_token"], chat_body()))
    assert [p["content"] for t, p in evts if t == "assistantResponseEvent"] == \
        ["He", "l", "l", "o! This is the fake Kiro."]


def test_unknown_and_expired_tokens_get_403(client, account):
    for token in ("aoaNope", ""):
        resp = post_chat(client, token, chat_body())
        assert (resp.status_code, resp.get_json()) == (403, bodies.BEARER_INVALID)
    client.post(f"/__fake/accounts/{account['account_id']}", json={"expire_access_tokens": True})
    resp = post_chat(client, account["access_token"], chat_body())
    assert resp.status_code == 403 and resp.get_data(as_text=True) == bodies.dumps(bodies.BEARER_INVALID)


def test_validation_errors_are_exact_bodies(client, account):
    resp = post_chat(client, account["access_token"], chat_body(model="nope"))
    assert resp.status_code == 400
    assert resp.get_data(as_text=True) == \
        '{"message":"Invalid model. Please select a different model to continue.","reason":"INVALID_MODEL_ID"}'
    assert resp.headers["x-amzn-errortype"] == "ValidationException"


def test_input_too_long_via_config(client, account):
    client.post("/__fake/config", json={"input_limit_tokens": 10})
    resp = post_chat(client, account["access_token"], chat_body())
    assert (resp.status_code, resp.get_json()) == (400, bodies.INPUT_TOO_LONG)


def test_usage_is_counted_and_limit_gives_402(client, account, state):
    client.post(f"/__fake/accounts/{account['account_id']}", json={"usage_limit": 0.5})
    for _ in range(2):
        assert post_chat(client, account["access_token"], chat_body()).status_code == 200
    resp = post_chat(client, account["access_token"], chat_body())
    assert (resp.status_code, resp.get_json()) == (402, bodies.MONTHLY_LIMIT)
    stats = client.get("/__fake/stats").get_json()["accounts"][account["account_id"]]
    assert (stats["usage"], stats["chat_ok"], stats["chat_errors"], stats["chat_requests"]) == (0.5, 2, 1, 3)


def test_aws_json_style_on_root_path(client, account):
    resp = post_chat(client, account["access_token"], chat_body(), path="/",
                     **{"x-amz-target": "AmazonCodeWhispererStreamingService.GenerateAssistantResponse",
                        "content-type": "application/x-amz-json-1.0"})
    assert resp.status_code == 200 and text_of(events(resp)).startswith("Hello")


def test_send_message_target_is_rejected(client, account):
    resp = post_chat(client, account["access_token"], chat_body(), path="/",
                     **{"x-amz-target": "AmazonQDeveloperStreamingService.SendMessage"})
    assert (resp.status_code, resp.get_json()) == (400, bodies.IMPROPERLY_FORMED)


def test_request_log_masks_the_bearer(client, account):
    post_chat(client, account["access_token"], chat_body("logged"))
    [entry] = client.get("/__fake/requests?limit=1").get_json()["requests"]
    token = account["access_token"]
    assert entry["headers"]["authorization"] == f"Bearer {token[:8]}…{token[-4:]}"
    assert token not in json.dumps(entry)
    assert entry["body"]["conversationState"]["currentMessage"]["userInputMessage"]["content"] == "logged"
    assert (entry["status"], entry["account_id"], entry["directive"]) == (200, account["account_id"], "hello")

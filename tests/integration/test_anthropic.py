"""Anthropic Messages through the in-process app and the fake Kiro: the answer's bytes."""
from __future__ import annotations

import json

import pytest

from tests.integration.helpers import ANTHROPIC_HEADERS, HELLO, anthropic_body, event_names, parse_sse, streamed_text

pytestmark = pytest.mark.integration


def test_streamed_answer_starts_with_message_start_and_ends_with_message_stop(client):
    resp = client.post("/v1/messages?beta=true", json=anthropic_body(stream=True), headers=ANTHROPIC_HEADERS)
    raw = resp.get_data()
    assert resp.status_code == 200
    assert resp.mimetype == "text/event-stream"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert raw.startswith(b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_')
    assert raw.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    names = event_names(raw)
    assert names[:2] == ["message_start", "content_block_start"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert streamed_text(raw) == HELLO
    delta = dict(parse_sse(raw))["message_delta"]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] > 0


def test_whole_answer_is_one_message_object(client):
    resp = client.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.get_data().startswith(b'{"id": "msg_')
    message = json.loads(resp.get_data())
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [{"type": "text", "text": HELLO}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"]["input_tokens"] > 0 and message["usage"]["output_tokens"] > 0


def test_what_kiro_received_is_the_translated_request(client, fake_kiro):
    client.post("/v1/messages", json=anthropic_body("say hello", system="be brief"), headers=ANTHROPIC_HEADERS)
    sent = fake_kiro.requests(limit=1)[0]
    assert sent["status"] == 200
    current = sent["body"]["conversationState"]["currentMessage"]["userInputMessage"]
    assert "say hello" in current["content"]
    assert sent["body"]["profileArn"]

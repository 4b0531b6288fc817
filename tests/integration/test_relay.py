"""The relay against the fake Kiro, in-process: token refresh, failover, account faults,
stop sequences and web-search rounds."""
from __future__ import annotations

import pytest

from tests.integration.helpers import (ANTHROPIC_HEADERS, HELLO, account_stats, anthropic_body, parse_sse,
                                       ready_account, stored, streamed_text)

pytestmark = pytest.mark.integration

WEB_SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}


def ask(client, text: str = "say hello", **overrides):
    """POST a small Anthropic request; returns the response."""
    return client.post("/v1/messages", json=anthropic_body(text, **overrides), headers=ANTHROPIC_HEADERS)


# ---------------------------------------------------------------- tokens

def test_rejected_token_is_refreshed_once_and_the_request_retried(make_app, fake_kiro, fake_account):
    client = make_app([ready_account(fake_account)]).test_client()
    fake_kiro.fault("invalid_token_403", account=fake_account["account_id"])
    resp = ask(client)
    assert resp.status_code == 200
    assert resp.get_json()["content"][0]["text"] == HELLO
    stats = account_stats(fake_kiro, fake_account)
    assert stats["refreshes"] == 1  # the stored token was live, so this is the forced one
    assert stats["chat_requests"] == 2 and stats["chat_ok"] == 1


def test_refreshed_tokens_are_saved(app, client, fake_kiro, fake_account):
    assert ask(client).status_code == 200
    saved = stored(app, fake_account)
    current = next(a for a in fake_kiro.control("GET", "accounts")["accounts"]
                   if a["account_id"] == fake_account["account_id"])
    assert saved.access_token  # the account started without one
    assert saved.refresh_token == current["refresh_token"] != fake_account["refresh_token"]  # rotated


# ---------------------------------------------------------------- account faults and failover

def test_suspended_account_is_banned_and_never_called_again(pair_app, fake_kiro, two_fake_accounts):
    a, b = two_fake_accounts
    fake_kiro.fault("suspended_403", account=a["account_id"])
    client = pair_app.test_client()
    first = ask(client)
    assert first.status_code == 200 and first.get_json()["content"][0]["text"] == HELLO
    record = stored(pair_app, a)
    assert record.status == "banned" and record.enabled is False
    assert "suspended" in record.status_reason
    for _ in range(3):
        assert ask(client).status_code == 200
    assert account_stats(fake_kiro, a)["chat_requests"] == 1
    assert account_stats(fake_kiro, b)["chat_requests"] == 4


def test_server_error_fails_over_without_blaming_the_account(pair_app, fake_kiro, two_fake_accounts):
    a, b = two_fake_accounts
    fake_kiro.fault("server_500", account=a["account_id"])
    resp = ask(pair_app.test_client())
    assert resp.status_code == 200
    assert account_stats(fake_kiro, a)["chat_errors"] == 1
    assert account_stats(fake_kiro, b)["chat_ok"] == 1
    record = stored(pair_app, a)
    assert record.status == "active" and record.enabled is True


def test_every_account_failing_with_500_is_a_502(make_app, fake_kiro, two_fake_accounts):
    app = make_app([ready_account(creds, order) for order, creds in enumerate(two_fake_accounts)],
                   retry_backoff=0.01)
    fake_kiro.fault("server_500", count=-1)
    resp = ask(app.test_client())
    assert resp.status_code == 502
    assert resp.get_json()["error"]["type"] == "api_error"
    assert all(account_stats(fake_kiro, creds)["chat_requests"] >= 1 for creds in two_fake_accounts)


def test_unavailable_503_fails_over(pair_app, fake_kiro, two_fake_accounts):
    a, b = two_fake_accounts
    fake_kiro.fault("unavailable_503", account=a["account_id"])
    assert ask(pair_app.test_client()).status_code == 200
    assert account_stats(fake_kiro, b)["chat_ok"] == 1


def test_capacity_is_retried_on_another_account_after_a_pause(make_app, fake_kiro, two_fake_accounts):
    # kiro-upstream.md §4: capacity is service-wide, so the account is not blamed; a backoff, then a retry
    a, b = two_fake_accounts
    app = make_app([ready_account(creds, order) for order, creds in enumerate(two_fake_accounts)],
                   retry_backoff=0.05)
    fake_kiro.fault("capacity_429", account=a["account_id"])
    assert ask(app.test_client()).status_code == 200
    assert account_stats(fake_kiro, a)["chat_errors"] == 1
    assert account_stats(fake_kiro, b)["chat_ok"] == 1
    assert stored(app, a).status == "active" and stored(app, a).enabled is True


def test_capacity_everywhere_is_overloaded_before_the_stream_starts(make_app, fake_kiro, two_fake_accounts):
    app = make_app([ready_account(creds, order) for order, creds in enumerate(two_fake_accounts)],
                   retry_backoff=0.01, retry_attempts=4)
    fake_kiro.fault("capacity_429", count=-1)
    resp = ask(app.test_client(), stream=True)
    assert resp.status_code == 529  # decided before the stream started: a plain JSON error
    assert resp.mimetype == "application/json"
    assert resp.get_json() == {"type": "error", "error": {
        "type": "overloaded_error", "message": "Kiro is experiencing high traffic, please try again shortly."}}
    assert fake_kiro.stats()["totals"]["chat_requests"] == 4  # retry_attempts, spread over both accounts
    assert all(account_stats(fake_kiro, creds)["chat_requests"] == 2 for creds in two_fake_accounts)


def test_exhausted_account_is_marked_and_the_other_answers(pair_app, fake_kiro, two_fake_accounts):
    a, b = two_fake_accounts
    fake_kiro.fault("quota_402", account=a["account_id"])
    assert ask(pair_app.test_client()).status_code == 200
    assert stored(pair_app, a).status == "exhausted"
    assert stored(pair_app, b).status == "active"
    assert account_stats(fake_kiro, b)["chat_ok"] == 1


def test_quota_exhausted_on_the_only_account_is_a_rate_limit_error(make_app, fake_kiro, fake_account):
    app = make_app([ready_account(fake_account)])
    fake_kiro.fault("quota_402")
    resp = ask(app.test_client())
    assert resp.status_code == 429
    assert resp.get_json()["error"]["type"] == "rate_limit_error"
    assert stored(app, fake_account).status == "exhausted"
    # now nothing is usable: the next request does not reach Kiro at all
    again = ask(app.test_client())
    assert again.status_code == 503 and again.get_json()["error"]["type"] == "api_error"
    assert account_stats(fake_kiro, fake_account)["chat_requests"] == 1


def test_too_long_input_is_prompt_too_long_and_tries_no_other_account(pair_app, fake_kiro, two_fake_accounts):
    fake_kiro.fault("too_long_400", count=-1)
    resp = ask(pair_app.test_client(), stream=True)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("prompt is too long")
    assert fake_kiro.stats()["totals"]["chat_requests"] == 1
    assert all(stored(pair_app, creds).status == "active" for creds in two_fake_accounts)


def test_exception_frame_after_text_is_an_in_stream_error(client, fake_kiro):
    fake_kiro.fault("exception_frame")
    raw = ask(client, stream=True).get_data()
    events = parse_sse(raw)
    assert events[-1][0] == "error"
    assert "message_stop" not in [name for name, _ in events]
    assert streamed_text(raw)  # the two text frames before the exception reached the client


# ---------------------------------------------------------------- stop sequences

def test_stop_sequence_cuts_the_whole_answer(client):
    message = ask(client, stop_sequences=["fake", "never"]).get_json()
    assert message["content"] == [{"type": "text", "text": "Hello! This is the "}]
    assert message["stop_reason"] == "stop_sequence"
    assert message["stop_sequence"] == "fake"


def test_stop_sequence_cuts_the_stream(client):
    raw = ask(client, stream=True, stop_sequences=["is the"]).get_data()
    assert streamed_text(raw) == "Hello! This "
    delta = dict(parse_sse(raw))["message_delta"]
    assert delta["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "is the"}
    assert raw.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')


def test_stop_sequence_that_never_appears_changes_nothing(client):
    message = ask(client, stop_sequences=["zebra"]).get_json()
    assert message["content"][0]["text"] == HELLO
    assert message["stop_reason"] == "end_turn" and message["stop_sequence"] is None


# ---------------------------------------------------------------- web search

def test_web_search_round_is_served_by_mcp_and_the_answer_continues(client, fake_kiro):
    raw = ask(client, "WEB_SEARCH: kiro proxy", stream=True, tools=[WEB_SEARCH_TOOL]).get_data()
    events = parse_sse(raw)
    starts = [data["content_block"] for name, data in events if name == "content_block_start"]
    # the fake says "Searching the web." before its call, as a real model would
    assert [block["type"] for block in starts] == ["text", "server_tool_use", "web_search_tool_result", "text"]
    call, result = starts[1], starts[2]
    assert call["name"] == "web_search"
    assert result["tool_use_id"] == call["id"]
    assert len(result["content"]) == 3
    assert all(item["type"] == "web_search_result" and "kiro proxy" in item["title"].lower() + item["url"]
               for item in result["content"])
    query = "".join(data["delta"]["partial_json"] for name, data in events
                    if name == "content_block_delta" and data["index"] == 1)
    assert query == '{"query":"kiro proxy"}'
    assert streamed_text(raw).startswith("Searching the web.TOOL_RESULT_SEEN: [1] ")  # the model read the results
    delta = dict(events)["message_delta"]
    assert delta["delta"]["stop_reason"] == "end_turn"
    assert delta["usage"]["server_tool_use"]["web_search_requests"] == 1
    assert fake_kiro.stats()["totals"]["chat_requests"] == 2
    mcp = fake_kiro.requests(path="/mcp")
    assert len(mcp) == 1 and mcp[0]["body"]["params"] == {"name": "web_search",
                                                           "arguments": {"query": "kiro proxy"}}


def test_web_search_tool_is_never_forwarded_as_the_clients_tool(client, fake_kiro):
    ask(client, "WEB_SEARCH: kiro proxy", tools=[WEB_SEARCH_TOOL])
    first = fake_kiro.requests()[0]["body"]["conversationState"]["currentMessage"]["userInputMessage"]
    tools = first["userInputMessageContext"]["tools"]
    assert [t["toolSpecification"]["name"] for t in tools] == ["web_search"]
    assert "web_search_20250305" not in str(tools)


def test_failed_web_search_still_answers(client, fake_kiro):
    fake_kiro.fault("server_500", on="mcp")
    message = ask(client, "WEB_SEARCH: kiro proxy", tools=[WEB_SEARCH_TOOL]).get_json()
    types = [block["type"] for block in message["content"]]
    assert types == ["text", "server_tool_use", "web_search_tool_result", "text"]
    assert message["content"][2]["content"]["type"] == "web_search_tool_result_error"
    assert message["stop_reason"] == "end_turn"


# ---------------------------------------------------------------- profile ARN

def test_idc_account_imported_without_profile_arn_finds_it_and_is_answered(make_app, fake_kiro):
    """IdC refreshes return no profileArn and Kiro refuses a chat body without one (§2.2-10)."""
    creds = fake_kiro.add_account(auth_method="idc")
    account = ready_account(creds)
    account.profile_arn = ""  # as an IdC token file carries it: no profileArn at all
    app = make_app([account])
    resp = ask(app.test_client())
    assert resp.status_code == 200 and resp.get_json()["content"][0]["text"] == HELLO
    assert stored(app, creds).profile_arn == creds["profile_arn"]
    sent = fake_kiro.requests()[-1]
    assert sent["status"] == 200 and sent["body"]["profileArn"] == creds["profile_arn"]

"""Tests for tests/fake_kiro/faults.py: the queue and every fault kind over HTTP."""
import pytest

from tests.fake_kiro import bodies
from tests.fake_kiro.chat import MidstreamReset
from tests.fake_kiro.eventstream import FrameError, decode_events, decode_frames
from tests.fake_kiro.faults import HTTP_FAULTS, FaultBook, FaultError
from tests.unit.fake_kiro.helpers import chat_body, events, post_chat, text_of, tool_spec


def add_fault(client, **spec):
    """Queue a fault through the control API."""
    resp = client.post("/__fake/faults", json=spec)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_fault_book_counts_matches_and_fifo():
    book = FaultBook()
    book.add("server_500", count=2, account_id="acc-1")
    book.add("capacity_429")
    assert book.take("chat", "acc-2").kind == "capacity_429"
    assert book.take("chat", "acc-1").kind == "server_500"
    assert book.take("refresh", "acc-1") is None
    assert book.take("chat", "acc-1").kind == "server_500"
    assert book.take("chat", "acc-1") is None


def test_unlimited_fault_stays_until_cleared():
    book = FaultBook()
    book.add("server_500", count=-1)
    assert all(book.take("chat", None) for _ in range(5))
    book.clear()
    assert book.take("chat", None) is None


@pytest.mark.parametrize("spec", [{"kind": "nope"}, {"kind": "server_500", "count": 0},
                                  {"kind": "server_500", "on": "elsewhere"},
                                  {"kind": "bad_crc", "on": "refresh"},
                                  {"kind": "server_500", "delay": -1}])
def test_fault_book_rejects_bad_specs(spec):
    with pytest.raises(FaultError):
        FaultBook().add(**spec)


EXPECTED = {
    "capacity_429": bodies.CAPACITY, "rate_429": bodies.RATE_LIMITED, "quota_402": bodies.MONTHLY_LIMIT,
    "invalid_token_403": bodies.BEARER_INVALID, "server_500": bodies.SERVER_ERROR,
    "too_long_400": bodies.INPUT_TOO_LONG, "malformed_400": bodies.IMPROPERLY_FORMED,
}


@pytest.mark.parametrize("kind", sorted(HTTP_FAULTS))
def test_http_faults_answer_once_then_recover(client, account, kind):
    add_fault(client, kind=kind, account=account["account_id"], retry_after=7)
    resp = post_chat(client, account["access_token"], chat_body())
    assert resp.status_code == HTTP_FAULTS[kind][0]
    assert resp.headers["Retry-After"] == "7"
    if kind in EXPECTED:
        assert resp.get_json() == EXPECTED[kind]
    elif kind == "suspended_403":
        assert resp.get_json() == bodies.suspended(account["user_id"])
    elif kind == "suspicious_429":
        assert resp.get_json() == bodies.suspicious(account["user_id"])
    else:
        assert "503" in resp.get_data(as_text=True) and resp.mimetype == "text/html"
    assert post_chat(client, account["access_token"], chat_body()).status_code == 200


def test_fault_for_one_account_spares_others(client, account):
    other = client.post("/__fake/accounts", json={}).get_json()
    add_fault(client, kind="server_500", account=account["refresh_token"])
    assert post_chat(client, other["access_token"], chat_body()).status_code == 200
    assert post_chat(client, account["access_token"], chat_body()).status_code == 500


def test_bad_crc_corrupts_one_frame(client, account):
    add_fault(client, kind="bad_crc")
    data = post_chat(client, account["access_token"], chat_body()).get_data()
    with pytest.raises(FrameError, match="CRC"):
        decode_frames(data)


def test_exception_frame_mid_stream(client, account):
    add_fault(client, kind="exception_frame")
    evts = events(post_chat(client, account["access_token"], chat_body()))
    assert [t for t, _ in evts] == ["assistantResponseEvent", "assistantResponseEvent", "ThrottlingException"]
    assert "INSUFFICIENT_MODEL_CAPACITY" in evts[-1][1]["message"]


def test_truncated_tool_has_no_stop_and_no_metering(client, account, state):
    add_fault(client, kind="truncated_tool")
    evts = events(post_chat(client, account["access_token"], chat_body(tools=[tool_spec("Write")])))
    tool_events = [p for t, p in evts if t == "toolUseEvent"]
    assert tool_events and all(p["name"] == "Write" for p in tool_events)
    assert not any(p.get("stop") for p in tool_events)
    assert not any(t in ("meteringEvent", "contextUsageEvent") for t, _ in evts)
    assert state.accounts.get(account["account_id"]).usage == 0


def test_reset_midstream_without_socket_raises_after_some_frames(client, account):
    add_fault(client, kind="reset_midstream")
    resp = post_chat(client, account["access_token"], chat_body())
    received = b""
    with pytest.raises(MidstreamReset):
        for chunk in resp.response:
            received += chunk
    evts = decode_events(received)
    assert evts and all(t == "assistantResponseEvent" for t, _ in evts)


def test_slow_first_byte_delays_the_stream(client, account, monkeypatch):
    sleeps = []
    monkeypatch.setattr("tests.fake_kiro.chat.time.sleep", sleeps.append)
    add_fault(client, kind="slow_first_byte", delay=2.5)
    assert text_of(events(post_chat(client, account["access_token"], chat_body()))).startswith("Hello")
    assert sleeps == [2.5]


def test_thinking_fault_adds_reasoning(client, account):
    add_fault(client, kind="thinking")
    kinds = [t for t, _ in events(post_chat(client, account["access_token"], chat_body()))]
    assert kinds[0] == "reasoningContentEvent"


def test_http_fault_delay(client, account, monkeypatch):
    sleeps = []
    monkeypatch.setattr("tests.fake_kiro.web.time.sleep", sleeps.append)
    add_fault(client, kind="capacity_429", delay=0.3)
    assert post_chat(client, account["access_token"], chat_body()).status_code == 429
    assert sleeps == [0.3]


def test_usage_and_refresh_targets(client, account):
    add_fault(client, kind="suspended_403", on="usage")
    resp = client.get("/getUsageLimits", headers={"authorization": f"Bearer {account['access_token']}"})
    assert resp.get_json()["reason"] == "TEMPORARILY_SUSPENDED"
    add_fault(client, kind="unavailable_503", on="refresh", account=account["account_id"])
    resp = client.post("/refreshToken", json={"refreshToken": account["refresh_token"]})
    assert resp.status_code == 503
    assert client.post("/refreshToken", json={"refreshToken": account["refresh_token"]}).status_code == 200

"""Tests for tests/fake_kiro/control.py: the /__fake/ API."""
import pytest

from tests.fake_kiro.app import create_fake_app
from tests.fake_kiro.config import FakeConfig
from tests.unit.fake_kiro.helpers import chat_body, post_chat


def test_register_social_with_given_refresh_token(client):
    resp = client.post("/__fake/accounts", json={"auth_method": "social", "refresh_token": "aorMine"})
    body = resp.get_json()
    assert resp.status_code == 201
    assert (body["account_id"], body["refresh_token"], body["auth_method"]) == ("acc-1", "aorMine", "social")
    assert body["access_token"].startswith("aoa") and body["expires_at"] > 0 and "client_id" not in body
    assert client.post("/refreshToken", json={"refreshToken": "aorMine"}).status_code == 200


def test_register_idc_with_generated_client(client):
    body = client.post("/__fake/accounts", json={"auth_method": "idc"}).get_json()
    assert body["client_id"] and body["client_secret"] and body["refresh_token"].startswith("aor")


@pytest.mark.parametrize("payload", [{"auth_method": "api_key"}, {"bogus": 1}])
def test_register_rejects_bad_input(client, payload):
    assert client.post("/__fake/accounts", json=payload).status_code == 400


def test_duplicate_refresh_token_rejected(client):
    client.post("/__fake/accounts", json={"refresh_token": "aorX"})
    assert client.post("/__fake/accounts", json={"refresh_token": "aorX"}).status_code == 400


def test_list_and_update_accounts(client, account):
    listed = client.get("/__fake/accounts").get_json()["accounts"]
    assert [a["account_id"] for a in listed] == [account["account_id"]]
    updated = client.post(f"/__fake/accounts/{account['account_id']}", json={"usage": 3, "usage_limit": 4})
    assert (updated.get_json()["usage"], updated.get_json()["usage_limit"]) == (3.0, 4.0)
    assert client.post("/__fake/accounts/acc-99", json={}).status_code == 404


def test_fault_api_shapes(client, account):
    resp = client.post("/__fake/faults", json={"kind": "capacity_429", "count": 2, "account": account["account_id"],
                                               "retry_after": 3})
    assert resp.status_code == 201
    assert resp.get_json() == {"fault_id": 1, "kind": "capacity_429", "count": 2, "account_id": account["account_id"],
                               "on": "chat", "delay": None, "retry_after": 3,
                               "exception_type": "ThrottlingException", "hits": 0}
    assert len(client.get("/__fake/faults").get_json()["faults"]) == 1
    assert client.post("/__fake/faults", json={"kind": "x"}).status_code == 400
    assert client.post("/__fake/faults", json={"kind": "server_500", "account": "nobody"}).status_code == 404
    assert client.delete("/__fake/faults").get_json() == {"faults": []}


def test_config_get_and_post(client):
    assert client.get("/__fake/config").get_json()["max_body_bytes"] == 615000
    assert client.post("/__fake/config", json={"max_body_bytes": 100}).get_json()["max_body_bytes"] == 100
    bad = client.post("/__fake/config", json={"max_body_byte": 100})
    assert bad.status_code == 400 and "max_body_byte" in bad.get_json()["error"]


def test_stats_totals(client, account):
    post_chat(client, account["access_token"], chat_body())
    post_chat(client, "aoaNope", chat_body())
    totals = client.get("/__fake/stats").get_json()["totals"]
    assert (totals["chat_requests"], totals["chat_ok"], totals["chat_errors"], totals["unauthorized"]) == (2, 1, 1, 1)
    assert totals["active_streams"] == 0 and totals["max_active_streams"] == 1


def test_requests_log_limit_and_path_filter(client, account):
    for _ in range(3):
        post_chat(client, account["access_token"], chat_body())
    client.post("/refreshToken", json={"refreshToken": account["refresh_token"]})
    assert len(client.get("/__fake/requests?limit=2").get_json()["requests"]) == 2
    [entry] = client.get("/__fake/requests?limit=5&path=/refreshToken").get_json()["requests"]
    token = account["refresh_token"]
    assert entry["body"]["refreshToken"] == f"{token[:8]}…{token[-4:]}"
    assert client.get("/__fake/requests?limit=x").status_code == 400


def test_reset_restores_seed_accounts_and_config():
    app = create_fake_app(FakeConfig(seed_accounts=[{"auth_method": "social", "refresh_token": "aorSeed"}]))
    client = app.test_client()
    client.post("/__fake/accounts", json={})
    client.post("/__fake/config", json={"frame_delay": 1})
    client.post("/__fake/faults", json={"kind": "server_500"})
    assert client.post("/__fake/reset").get_json() == {"ok": True}
    accounts = client.get("/__fake/accounts").get_json()["accounts"]
    assert [a["refresh_token"] for a in accounts] == ["aorSeed"]
    assert client.get("/__fake/config").get_json()["frame_delay"] == 0
    assert client.get("/__fake/faults").get_json()["faults"] == []


def test_reset_can_keep_accounts(client, account):
    post_chat(client, account["access_token"], chat_body())
    client.post("/__fake/reset", json={"keep_accounts": True})
    assert post_chat(client, account["access_token"], chat_body()).status_code == 200
    stats = client.get("/__fake/stats").get_json()
    assert stats["accounts"][account["account_id"]]["chat_requests"] == 1 and stats["totals"]["chat_requests"] == 1


def test_control_calls_are_not_logged(client):
    client.get("/__fake/health")
    assert client.get("/__fake/requests").get_json()["requests"] == []

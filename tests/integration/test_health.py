"""GET /health: in-process and on the real server."""
from __future__ import annotations

import pytest
import requests

from tests.integration.helpers import ready_account

pytestmark = pytest.mark.integration


def test_health_counts_accounts_without_secrets(client, fake_account):
    resp = client.get("/health")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok"
    assert body["accounts"] == 1 and body["usable_accounts"] == 1
    assert fake_account["refresh_token"] not in resp.get_data(as_text=True)


def test_health_needs_no_client_key(make_app, fake_account):
    app = make_app([ready_account(fake_account)], api_keys=["sk-secret"])
    client = app.test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/v1/models").status_code == 401


def test_banned_account_is_not_usable(make_app, fake_kiro, two_fake_accounts):
    app = make_app([ready_account(creds, order) for order, creds in enumerate(two_fake_accounts)])
    app.extensions["kiro_proxy"].stores.accounts.update(app.extensions["kiro_proxy"].stores.accounts.list()[0].id,
                                                        status="banned", enabled=False)
    body = app.test_client().get("/health").get_json()
    assert body["accounts"] == 2 and body["usable_accounts"] == 1


def test_real_server_answers_health(proxy_server):
    resp = requests.get(f"{proxy_server.url}/health", timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json()["status"] == "ok"

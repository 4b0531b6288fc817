"""No secret leaves the proxy: with DEBUG logging on, requests in every protocol, token refreshes
(social and IdC, rotation, a stale access token, failing and refused refreshes), right and wrong
client keys — and then no refresh token, access token, client secret or client key may appear in
the log, in any client response, in /health or in `accounts list`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from tests.integration.helpers import ANTHROPIC_HEADERS
from tests.support import REPO, account_from_fake, run_app, seed_data_dir, stop

pytestmark = pytest.mark.integration

CLIENT_KEY = "sk-proxy-client-key-7f3a9c21d0e84b56"
WRONG_KEY = "sk-someone-elses-key-55d1e0a9b7c64f32"


def windows(secret: str, size: int = 20) -> set[str]:
    """Overlapping pieces of a secret: a leak of part of it counts too."""
    if len(secret) <= size:
        return {secret}
    return {secret[i:i + size] for i in range(0, len(secret) - size + 1, size // 2)}


def leaked(text: str, secrets: set[str]) -> list[str]:
    """The secrets (shortened for the message) any piece of which appears in `text`."""
    return sorted(s[:12] + "…" for s in secrets if any(w in text for w in windows(s)))


def test_no_secret_reaches_logs_responses_health_or_the_account_list(tmp_path, fake_kiro):
    social = fake_kiro.add_account(auth_method="social")
    idc = fake_kiro.add_account(auth_method="idc")
    data_dir = tmp_path / "data"
    # no access tokens stored: the first request on each account refreshes it
    seed_data_dir(data_dir, [account_from_fake(social), account_from_fake(idc)])
    server = run_app(["--port", "0", "--log-level", "DEBUG"], data_dir, tmp_path / "proxy.log",
                     KIRO_UPSTREAM_URL=fake_kiro.url, KIRO_PROXY_API_KEYS=f"{CLIENT_KEY},other-key",
                     KIRO_PROXY_POOL_POLICY="round_robin", KIRO_PROXY_PROBATION_STREAMS="0",
                     KIRO_PROXY_STICKY_SECONDS="0")
    answers: list[str] = []

    def call(method: str, path: str, **kwargs) -> requests.Response:
        resp = requests.request(method, server.url + path, timeout=30, **kwargs)
        answers.append(f"{resp.status_code} {dict(resp.headers)} {resp.text}")
        return resp

    anthropic = {"model": "claude-sonnet-4.5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    gemini = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    try:
        for stream in (False, True, False, True):  # round robin: both accounts, each refreshed
            assert call("POST", "/v1/messages", json={**anthropic, "stream": stream},
                        headers={**ANTHROPIC_HEADERS, "x-api-key": CLIENT_KEY}).status_code == 200
        assert call("POST", "/v1/chat/completions", json=chat,
                    headers={"Authorization": f"Bearer {CLIENT_KEY}"}).status_code == 200
        assert call("POST", "/v1/responses", json={"model": "gpt-5", "input": "hi", "stream": True},
                    headers={"Authorization": f"Bearer {CLIENT_KEY}"}).status_code == 200
        assert call("POST", f"/v1beta/models/gemini-2.5-pro:generateContent?key={CLIENT_KEY}",
                    json=gemini).status_code == 200
        assert call("GET", "/v1beta/models", headers={"x-goog-api-key": CLIENT_KEY}).status_code == 200
        assert call("POST", "/v1/chat/completions", json=chat,
                    headers={"Authorization": f"Bearer {WRONG_KEY}"}).status_code == 401
        assert call("GET", f"/v1/models?key={WRONG_KEY}").status_code == 401
        stats = fake_kiro.stats()["accounts"]
        assert stats[social["account_id"]]["refreshes"] >= 1 and stats[idc["account_id"]]["refreshes"] >= 1

        # Kiro rejects a stored access token: one forced refresh, then the retry
        fake_kiro.fault("invalid_token_403", count=2)
        for _ in range(2):
            assert call("POST", "/v1/chat/completions", json=chat,
                        headers={"x-api-key": CLIENT_KEY}).status_code == 200

        # the social refresh token is rotated behind the proxy's back: its refresh is refused for good
        current = {a["account_id"]: a for a in fake_kiro.control("GET", "accounts")["accounts"]}
        rotated = requests.post(fake_kiro.url + "/refreshToken", timeout=10,
                                json={"refreshToken": current[social["account_id"]]["refresh_token"]})
        assert rotated.status_code == 200
        # and every refresh fails for a while on the IdC one
        fake_kiro.fault("server_500", on="refresh", count=-1, account=idc["account_id"])
        for account in (social, idc):
            fake_kiro.control("POST", f"accounts/{account['account_id']}", expire_access_tokens=True)
        for _ in range(2):
            call("POST", "/v1/messages", json=anthropic, headers={**ANTHROPIC_HEADERS, "x-api-key": CLIENT_KEY})
        assert answers[-1].startswith(("4", "5"))  # no account could serve: an error, with no secret in it
        call("GET", "/health")
    finally:
        stop(server.proc)

    listing = subprocess.run([sys.executable, "app.py", "accounts", "list"], cwd=REPO, capture_output=True,
                             text=True, env={**os.environ, "KIRO_PROXY_HOME": str(data_dir)}, timeout=60)
    assert listing.returncode == 0

    stored = json.loads((data_dir / "accounts.json").read_text())["accounts"].values()
    secrets = {CLIENT_KEY, WRONG_KEY, rotated.json()["refreshToken"], rotated.json()["accessToken"]}
    for creds in (social, idc):
        secrets |= {creds["refresh_token"], creds["access_token"], creds.get("client_secret") or ""}
    for account in stored:
        secrets |= {account["refresh_token"], account["access_token"], account["client_secret"]}
    for account in fake_kiro.control("GET", "accounts")["accounts"]:
        secrets.add(account["refresh_token"])
    secrets.discard("")
    assert len(secrets) >= 8  # initial, rotated and refreshed tokens, the client secret, both keys
    assert any(a["status"] == "needs_login" for a in stored)  # the refused refresh really happened

    log = server.output()
    assert "DEBUG" in log and "POST /refreshToken" in log and "POST /token" in log  # it did log, verbosely
    assert leaked(log, secrets) == []
    assert leaked("\n".join(answers), secrets) == []
    assert leaked(listing.stdout + listing.stderr, secrets) == []
    assert leaked((data_dir / "stats.json").read_text(), secrets) == []

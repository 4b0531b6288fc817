"""The account pool against the fake Kiro: spreading, stickiness, limits, faults, retries, jobs,
and the acceptance burst (200 concurrent requests over three protocols on the real server)."""
from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from jobs.health import check_health, usage_fetcher
from jobs.stats import save_stats
from tests.integration.helpers import ANTHROPIC_HEADERS, HELLO, anthropic_body, ready_account
from tests.support import account_from_fake, seed_data_dir, start_proxy, stop


class Clock:
    """A settable wall clock for the pool (stickiness, cooldowns) instead of sleeping."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def three_fake_accounts(fake_kiro) -> list[dict]:
    """Credentials of three social accounts at the fake."""
    return [fake_kiro.add_account(auth_method="social") for _ in range(3)]


@pytest.fixture
def trio(make_app, three_fake_accounts):
    """Factory: an in-process app over the three accounts (live tokens, oldest first)."""
    def build(**settings):
        return make_app([ready_account(creds, order) for order, creds in enumerate(three_fake_accounts)],
                        **settings)
    return build


def services(app):
    """The app's Services."""
    return app.extensions["kiro_proxy"]


def ask(client, text: str = "say hello", headers=None, **overrides):
    """POST a small Anthropic request."""
    return client.post("/v1/messages", json=anthropic_body(text, **overrides),
                       headers={**ANTHROPIC_HEADERS, **(headers or {})})


def served_by(fake_kiro, n: int) -> list[str]:
    """The fake account ids of the last `n` chat requests, oldest first."""
    return [r["account_id"] for r in fake_kiro.requests(limit=n)]


def chat_counts(fake_kiro) -> dict:
    """chat_requests per fake account."""
    return {k: v["chat_requests"] for k, v in fake_kiro.stats()["accounts"].items()}


# ---------------------------------------------------------------- spreading and stickiness

def test_load_spreads_evenly(trio, fake_kiro):
    client = trio().test_client()
    for i in range(9):
        assert ask(client, f"question {i}").status_code == 200  # different first turns: no stickiness
    assert chat_counts(fake_kiro) == {"acc-1": 3, "acc-2": 3, "acc-3": 3}


def test_a_claude_code_session_sticks_then_expires(trio, fake_kiro):
    app = trio(sticky_seconds=60)
    clock = Clock()
    services(app).pool._clock = clock
    client = app.test_client()
    session = json.dumps({"device_id": "d", "account_uuid": "", "session_id": "5b9c0f4e-sess"})
    for turn in range(4):
        assert ask(client, f"turn {turn}", metadata={"user_id": session}).status_code == 200
        clock.now += 59  # each request renews the minute
    assert set(served_by(fake_kiro, 4)) == {"acc-1"}
    clock.now += 2  # 61 s since the last request: the stickiness is gone
    assert ask(client, "turn 5", metadata={"user_id": session}).status_code == 200
    assert served_by(fake_kiro, 1) == ["acc-2"]  # the policy's pick: the longest idle account


def test_without_a_session_the_client_key_and_first_turn_stick(trio, fake_kiro):
    client = trio().test_client()
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Plan the refactor"}]}
    for _ in range(3):
        assert client.post("/v1/chat/completions", json=body,
                           headers={"Authorization": "Bearer sk-one"}).status_code == 200
    later = {"model": "gpt-4o", "messages": body["messages"] + [
        {"role": "assistant", "content": "Sure."}, {"role": "user", "content": "Go on"}]}
    assert client.post("/v1/chat/completions", json=later, headers={"Authorization": "Bearer sk-one"}).status_code == 200
    assert set(served_by(fake_kiro, 4)) == {"acc-1"}  # one conversation, one account
    assert client.post("/v1/chat/completions", json=body,
                       headers={"Authorization": "Bearer sk-two"}).status_code == 200
    assert served_by(fake_kiro, 1) == ["acc-2"]  # another client's conversation spreads


# ---------------------------------------------------------------- limits

@pytest.mark.parametrize("path, body, error_type", [
    ("/v1/messages", anthropic_body("hi"), "rate_limit_error"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
     "rate_limit_error"),
    ("/v1beta/models/gemini-2.5-pro:generateContent", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
     "RESOURCE_EXHAUSTED"),
])
def test_rate_limit_is_the_protocols_429_with_retry_after(make_app, fake_kiro, fake_account, path, body, error_type):
    app = make_app([ready_account(fake_account)], account_rpm=1, queue_wait=0.0)
    client = app.test_client()
    headers = {"anthropic-version": "2023-06-01"} if path == "/v1/messages" else {}
    assert client.post(path, json=body, headers=headers).status_code == 200
    refused = client.post(path, json=body, headers=headers)
    assert refused.status_code == 429
    assert 55 <= int(refused.headers["Retry-After"]) <= 60  # when the account's minute ends
    assert error_type in refused.get_data(as_text=True)
    assert fake_kiro.stats()["totals"]["chat_requests"] == 1  # refused without calling Kiro


# ---------------------------------------------------------------- faults and retries

def test_suspended_account_is_disabled_and_the_request_still_succeeds(trio, fake_kiro, three_fake_accounts):
    app = trio()
    fake_kiro.fault("suspended_403", count=-1, account="acc-1")
    client = app.test_client()
    for i in range(6):
        resp = ask(client, f"q{i}")
        assert resp.status_code == 200 and resp.get_json()["content"][0]["text"] == HELLO
    banned = services(app).stores.accounts.list()[0]
    assert (banned.enabled, banned.status) == (False, "banned") and "suspended" in banned.status_reason
    assert chat_counts(fake_kiro)["acc-1"] == 1
    assert services(app).pool.stats.get(banned.id).errors == {"suspended": 1}


def test_throttled_account_rests_and_others_serve(trio, fake_kiro):
    app = trio(throttle_cooldown=3600)
    fake_kiro.fault("suspicious_429", count=-1, account="acc-1")
    client = app.test_client()
    for i in range(4):
        assert ask(client, f"q{i}").status_code == 200
    assert chat_counts(fake_kiro)["acc-1"] == 1
    rested = services(app).stores.accounts.list()[0]
    assert rested.status == "cooldown" and rested.enabled


def test_quota_402_exhausts_until_the_reset_kiro_reported(trio, fake_kiro):
    app = trio()
    pool, tokens = services(app).pool, services(app).tokens
    fetch = usage_fetcher(services(app).settings, services(app).session)
    assert check_health(pool, tokens, fetch, everyone=True) == {"skipped": 0, "ok": 3}
    first = services(app).stores.accounts.list()[0]
    reset = pool.stats.get(first.id).usage["reset_at"]
    fake_kiro.fault("quota_402", account="acc-1")
    assert ask(app.test_client()).status_code == 200
    assert services(app).stores.accounts.get(first.id).status == "exhausted"
    assert pool.stats.get(first.id).exhausted_until == reset


def test_retries_never_reuse_an_account_in_a_round(trio, fake_kiro):
    app = trio(retry_attempts=5, retry_backoff=0.1, retry_backoff_max=1.0)
    sleeps = []
    services(app).relay._sleep = sleeps.append
    fake_kiro.fault("server_500", count=-1)
    resp = ask(app.test_client())
    assert resp.status_code == 502
    order = served_by(fake_kiro, 5)
    assert len(order) == 5 and len(set(order[:3])) == 3 and len(set(order[3:])) == 2  # two rounds
    assert len(sleeps) == 1 and 0.05 <= sleeps[0] <= 0.1  # one backoff, before the second round
    assert all(a.status == "active" for a in services(app).stores.accounts.list())  # nobody blamed


def test_backoff_grows_with_jitter(make_app, fake_kiro, fake_account):
    app = make_app([ready_account(fake_account)], retry_attempts=4, retry_backoff=0.2, retry_backoff_max=0.5)
    sleeps = []
    services(app).relay._sleep = sleeps.append
    fake_kiro.fault("unavailable_503", count=-1)
    assert ask(app.test_client()).status_code == 502
    assert fake_kiro.stats()["totals"]["chat_requests"] == 4
    assert len(sleeps) == 3
    for n, pause in enumerate(sleeps):
        ceiling = min(0.5, 0.2 * 2 ** n)
        assert ceiling / 2 <= pause <= ceiling


def test_capacity_retries_elsewhere_after_a_pause_without_blame(trio, fake_kiro):
    app = trio()
    sleeps = []
    services(app).relay._sleep = sleeps.append
    fake_kiro.fault("capacity_429", account="acc-1")
    assert ask(app.test_client()).status_code == 200
    assert served_by(fake_kiro, 2) == ["acc-1", "acc-2"]
    assert len(sleeps) == 1
    first = services(app).stores.accounts.list()[0]
    assert first.status == "active" and services(app).pool.stats.get(first.id).cooldown_until == 0


def test_the_jobs_run_against_the_fake(trio, fake_kiro, settings):
    app = trio()
    svc = services(app)
    fake_kiro.fault("suspended_403", account="acc-2", on="usage")
    counts = check_health(svc.pool, svc.tokens, usage_fetcher(svc.settings, svc.session))
    assert counts == {"skipped": 0, "ok": 2, "banned": 1}  # every account was new, so all were probed
    assert [a.status for a in svc.stores.accounts.list()] == ["active", "banned", "active"]
    assert save_stats(svc.pool.stats, svc.stores.accounts)
    saved = json.loads((settings.data_dir / "stats.json").read_text())
    assert {r["usage"]["limit"] for r in saved["accounts"].values() if r["usage"]} == {1000.0}


# ---------------------------------------------------------------- the acceptance burst

PROTOCOLS = ("anthropic", "openai", "gemini")


def burst_request(base: str, n: int) -> tuple[str, int, dict, object]:
    """Request `n` of the burst, cycling through the three protocols; (protocol, status, headers, body)."""
    protocol = PROTOCOLS[n % 3]
    text = f"burst request {n}"
    if protocol == "anthropic":
        resp = requests.post(f"{base}/v1/messages", json=anthropic_body(text), headers=ANTHROPIC_HEADERS, timeout=60)
    elif protocol == "openai":
        resp = requests.post(f"{base}/v1/chat/completions", timeout=60,
                             json={"model": "gpt-4o", "messages": [{"role": "user", "content": text}]})
    else:
        resp = requests.post(f"{base}/v1beta/models/gemini-2.5-pro:generateContent", timeout=60,
                             json={"contents": [{"role": "user", "parts": [{"text": text}]}]})
    return protocol, resp.status_code, dict(resp.headers), resp.json()


def answer_text(protocol: str, body: dict) -> str:
    """The reply text in each protocol's shape."""
    if protocol == "anthropic":
        return body["content"][0]["text"]
    if protocol == "openai":
        return body["choices"][0]["message"]["content"]
    return body["candidates"][0]["content"]["parts"][0]["text"]


def is_protocol_429(protocol: str, body: dict) -> bool:
    """The 429 error body each protocol's clients expect."""
    if protocol == "anthropic":
        return body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    if protocol == "openai":
        return body["error"]["type"] == "rate_limit_error"
    return body["error"]["status"] == "RESOURCE_EXHAUSTED" and body["error"]["code"] == 429


def run_burst(tmp_path, fake_kiro, name: str, **limits) -> dict:
    """Five accounts (first access tokens need a refresh), one suspended and one throttled at the
    fake, 200 concurrent requests on the real server; returns the figures."""
    creds = [fake_kiro.add_account(auth_method="social") for _ in range(5)]
    fake_kiro.fault("suspended_403", count=-1, account=creds[0]["account_id"])
    fake_kiro.fault("suspicious_429", count=-1, account=creds[1]["account_id"])
    data_dir = tmp_path / name
    seed_data_dir(data_dir, [account_from_fake(c, created_at=1_000_000.0 + i) for i, c in enumerate(creds)])
    server = start_proxy(data_dir, fake_kiro.url, **limits)
    try:
        start = threading.Barrier(200)

        def one(n: int):
            start.wait()
            return burst_request(server.url, n)

        with ThreadPoolExecutor(max_workers=200) as pool:
            results = list(pool.map(one, range(200)))
        fake = fake_kiro.stats()
        accounts = json.loads((data_dir / "accounts.json").read_text())["accounts"].values()
    finally:
        stop(server.proc)
    outcome = Counter()
    for protocol, status, headers, body in results:
        if status == 200:
            assert answer_text(protocol, body) == HELLO
            outcome["ok"] += 1
        else:
            assert status == 429, (protocol, status, body)
            assert is_protocol_429(protocol, body), body
            assert int(headers["Retry-After"]) >= 1
            outcome["429"] += 1
    per_account = {c["account_id"]: {k: fake["accounts"][c["account_id"]][k]
                                     for k in ("chat_requests", "chat_ok", "refreshes")} for c in creds}
    status = {a["name"]: a["status"] for a in accounts}
    figures = {"run": name, "limits": limits, "ok": outcome["ok"], "429": outcome["429"],
               "per_account": per_account, "status": status,
               "by_protocol": dict(Counter(p for p, s, _, _ in results if s == 200))}
    print("\nBURST FIGURES " + json.dumps(figures, sort_keys=True))
    banned, throttled = creds[0]["account_id"], creds[1]["account_id"]
    assert outcome["ok"] + outcome["429"] == 200
    assert all(a["refreshes"] <= 1 for a in per_account.values())  # single-flight refresh
    assert per_account[banned]["chat_requests"] == 1  # never called again after the ban
    assert status[banned] == "banned" and status[throttled] == "cooldown"
    assert per_account[throttled]["chat_requests"] == 1
    return figures


def test_burst_of_200_over_three_protocols_with_rate_limits(tmp_path, fake_kiro):
    figures = run_burst(tmp_path, fake_kiro, "limited", account_rpm="40")
    assert figures["ok"] == 120 and figures["429"] == 80  # 3 healthy accounts x 40 per minute


def test_burst_of_200_over_three_protocols_without_limits(tmp_path, fake_kiro):
    figures = run_burst(tmp_path, fake_kiro, "unlimited")
    assert figures["ok"] == 200


def test_capacity_on_the_only_account_pauses_once_per_retry(make_app, fake_kiro, fake_account):
    app = make_app([ready_account(fake_account)], retry_attempts=3, retry_backoff=0.2, retry_backoff_max=5)
    sleeps = []
    services(app).relay._sleep = sleeps.append
    fake_kiro.fault("capacity_429", count=2)
    assert ask(app.test_client()).status_code == 200
    assert fake_kiro.stats()["totals"]["chat_requests"] == 3
    assert len(sleeps) == 2 and 0.1 <= sleeps[0] <= 0.2 and 0.2 <= sleeps[1] <= 0.4

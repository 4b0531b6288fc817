"""Tests for the health check and quota jobs: who is probed, and what a probe's answer changes."""
import json

from jobs.health import check_health, probe_account, refresh_quota, usage_fetcher
from proxy.kiro.errors import KiroError, KiroErrorKind, classify
from proxy.kiro.usage import Usage
from proxy.settings import Settings
NOW = 1_800_000_000.0  # the clock fixture's time

FINE = Usage(used=10, limit=100, reset_at=NOW + 86400)
USED_UP = Usage(used=100, limit=100, reset_at=NOW + 86400)
SUSPENDED = classify(403, json.dumps({"message": "Your User ID (x) temporarily is suspended. We've locked your "
                                                 "account as a security precaution.",
                                      "reason": "TEMPORARILY_SUSPENDED"}))
SUSPICIOUS = classify(429, json.dumps({"message": "Due to suspicious activity, we are imposing temporary limits "
                                                  "on how frequently your account can send a request.",
                                       "reason": None}))


class Fetcher:
    """getUsageLimits stand-in: per account, a list of answers (Usage or KiroError), last repeats."""

    def __init__(self, **answers):
        self.answers = {k: list(v) if isinstance(v, list) else [v] for k, v in answers.items()}
        self.calls = []

    def __call__(self, account):
        self.calls.append(account.id)
        queue = self.answers.get(account.id) or [FINE]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_probe_records_usage(pool, tokens, add_account):
    account = add_account("a")
    assert probe_account(account, pool, tokens, Fetcher()) == "ok"
    assert pool.stats.get("a").usage["used"] == 10.0 and pool.stats.get("a").usage_checked_at == NOW


def test_probe_marks_exhausted_until_the_reset(pool, tokens, store, add_account):
    account = add_account("a")
    assert probe_account(account, pool, tokens, Fetcher(a=USED_UP)) == "exhausted"
    assert store.get("a").status == "exhausted"
    assert pool.stats.get("a").exhausted_until == NOW + 86400


def test_probe_bans_a_suspended_account(pool, tokens, store, add_account):
    account = add_account("a")
    assert probe_account(account, pool, tokens, Fetcher(a=SUSPENDED)) == "banned"
    assert store.get("a").status == "banned" and not store.get("a").enabled


def test_probe_refreshes_once_on_a_rejected_token(pool, tokens, add_account):
    account = add_account("a")
    stale = KiroError(KiroErrorKind.TOKEN_INVALID, 403, "The bearer token included in the request is invalid.")
    fetch = Fetcher(a=[stale, FINE])
    assert probe_account(account, pool, tokens, fetch) == "ok"
    assert tokens.forced == ["a"] and fetch.calls == ["a", "a"]


def test_probe_network_failure_blames_nobody(pool, tokens, store, add_account):
    account = add_account("a")
    assert probe_account(account, pool, tokens, Fetcher(a=KiroError.network(OSError("down")))) == "failed"
    assert store.get("a").status == "active" and pool.stats.get("a").cooldown_until == 0


def test_health_check_brings_a_cooled_down_account_back(pool, tokens, store, clock, add_account):
    add_account("a")
    pool.cool_down("a", 600, "throttled for suspicious activity", persist=True)
    fetch = Fetcher()
    assert check_health(pool, tokens, fetch, clock=clock)["skipped"] == 1  # still resting: not poked
    assert fetch.calls == []
    clock.now += 600
    counts = check_health(pool, tokens, fetch, clock=clock)
    assert counts == {"skipped": 0, "recovered": 1}
    assert store.get("a").status == "active"


def test_health_check_extends_a_cooldown_when_still_throttled(pool, tokens, store, clock, add_account):
    add_account("a")
    pool.cool_down("a", 10, "throttled", persist=True)
    clock.now += 10
    assert check_health(pool, tokens, Fetcher(a=SUSPICIOUS), clock=clock)["throttled"] == 1
    assert pool.stats.get("a").cooldown_until == NOW + 10 + pool.settings.throttle_cooldown


def test_health_check_recovers_an_exhausted_account_with_credit(pool, tokens, store, clock, add_account):
    add_account("a")
    pool.mark_exhausted("a", NOW + 10**6, "used up")
    assert check_health(pool, tokens, Fetcher(a=FINE), clock=clock)["recovered"] == 1
    assert store.get("a").status == "active"


def test_health_check_skips_banned_disabled_and_login_needing_accounts(pool, tokens, clock, add_account):
    add_account("banned", status="banned", enabled=False)
    add_account("off", enabled=False)
    add_account("login", status="needs_login")
    fetch = Fetcher()
    assert check_health(pool, tokens, fetch, clock=clock, everyone=True) == {"skipped": 3}
    assert fetch.calls == []


def test_health_check_probes_only_accounts_needing_a_look(pool, tokens, clock, add_account):
    for name in ("fine", "failing", "new"):
        add_account(name)
    pool.stats.update("fine", usage_checked_at=NOW - 60, last_ok=NOW - 10)
    pool.stats.update("failing", usage_checked_at=NOW - 60, last_ok=NOW - 100, last_error_at=NOW - 5)
    fetch = Fetcher()
    check_health(pool, tokens, fetch, clock=clock)
    assert sorted(fetch.calls) == ["failing", "new"]
    fetch.calls.clear()
    check_health(pool, tokens, fetch, clock=clock, everyone=True)  # on demand: all of them
    assert sorted(fetch.calls) == ["failing", "fine", "new"]


def test_one_bad_account_does_not_stop_the_check(pool, tokens, clock, add_account):
    add_account("a")
    add_account("b")
    counts = check_health(pool, tokens, Fetcher(a=KiroError.network(OSError("x"))), clock=clock)
    assert counts == {"skipped": 0, "failed": 1, "ok": 1}


def test_quota_refresh_reads_usable_accounts_not_checked_recently(pool, tokens, clock, add_account):
    add_account("stale")
    add_account("recent")
    add_account("resting")
    add_account("off", enabled=False)
    pool.stats.update("recent", usage_checked_at=NOW - 60)
    pool.cool_down("resting", 100)
    fetch = Fetcher(stale=USED_UP)
    counts = refresh_quota(pool, tokens, fetch, clock=clock, max_age=900)
    assert fetch.calls == ["stale"]
    assert counts == {"skipped": 3, "exhausted": 1}


def test_usage_fetcher_binds_settings_and_session():
    class Session:
        def get(self, url, headers=None, timeout=None):
            raise __import__("requests").ConnectionError("offline")
    fetch = usage_fetcher(Settings(upstream_url="http://fake"), Session())
    from proxy.account import Account
    try:
        fetch(Account(id="a", refresh_token="r"))
    except KiroError as e:
        assert e.kind is KiroErrorKind.NETWORK
    else:
        raise AssertionError("expected a KiroError")

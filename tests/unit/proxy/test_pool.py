"""Tests for the account pool: usability, policies, stickiness, limits and refusals, faults, quota."""
import calendar
import threading
import time
from collections import Counter

import pytest

from proxy import pool as pool_module
from proxy.account import Account
from proxy.errors import ErrorKind
from proxy.kiro.errors import KiroError, KiroErrorKind, classify
from proxy.kiro.usage import Usage, next_month_utc
from proxy.pool import NoAccountNow, Pool, derive_session_key
from proxy.settings import Settings
from proxy.stats import Stats
from store.accounts import AccountStore

from tests.support import FIXED_NOW as NOW, Clock


@pytest.fixture
def store(tmp_path):
    """An empty account store."""
    s = AccountStore(tmp_path / "accounts.json")
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    """A fixed clock at NOW."""
    return Clock()


def add(store, name: str, order: int, **fields) -> Account:
    """Store an account named `name`; `order` decides who counts as added first."""
    return store.add(Account(id=name, refresh_token=f"aor-{name}", name=name, created_at=1_000.0 + order,
                             **fields))


def make_pool(store, clock, stats=None, **settings) -> Pool:
    """A pool without waiting or probation unless asked (queue_wait=0, probation_streams=0)."""
    values = {"queue_wait": 0.0, "probation_streams": 0, **settings}
    return Pool(store, Settings(**values), stats=stats or Stats(), clock=clock)


def take(pool, key=None, exclude=frozenset()) -> str:
    """Acquire and release at once; the chosen account's id."""
    lease = pool.acquire(key, frozenset(exclude))
    lease.release()
    return lease.account.id


def kiro_error(status: int, body: dict, headers=None) -> KiroError:
    """A classified Kiro error from an HTTP answer."""
    return classify(status, __import__("json").dumps(body), headers)


SUSPENDED = (403, {"message": "Your User ID (x) temporarily is suspended. We've locked your account as a "
                              "security precaution.", "reason": "TEMPORARILY_SUSPENDED"})
SUSPICIOUS = (429, {"message": "Due to suspicious activity, we are imposing temporary limits on how frequently "
                               "your account (x) can send a request to Kiro while we investigate.", "reason": None})
CAPACITY = (429, {"message": "I am experiencing high traffic, please try again shortly.",
                  "reason": "INSUFFICIENT_MODEL_CAPACITY"})
QUOTA = (402, {"message": "You have reached the limit.", "reason": "MONTHLY_REQUEST_COUNT"})
RATE = (429, {"message": "Too many requests, please wait before trying again.",
              "reason": "USER_REQUEST_RATE_EXCEEDED"})


# ---------------------------------------------------------------- usability

@pytest.mark.parametrize("fields, usable", [
    ({}, True),
    ({"enabled": False}, False),
    ({"status": "banned"}, False),
    ({"status": "needs_login"}, False),
    ({"status": "disabled"}, False),
    ({"status": "exhausted"}, False),  # no known reset date: the health check decides
    ({"status": "cooldown"}, True),  # its cooldown (in stats) is over
])
def test_usable_by_status(store, clock, fields, usable):
    account = add(store, "a", 0, **fields)
    assert make_pool(store, clock).usable(account) is usable


def test_cooling_account_is_unusable_until_its_time(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.cool_down("a", 30)
    assert not pool.usable(account)
    clock.advance(30)
    assert pool.usable(account)


def test_exhausted_account_returns_after_its_reset(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.mark_exhausted("a", NOW + 100, "used up")
    assert not pool.usable(store.get("a"))
    clock.advance(100)
    assert pool.usable(store.get("a"))


# ---------------------------------------------------------------- policies

def test_spread_takes_the_oldest_account_first_then_rotates(store, clock):
    for order, name in enumerate("abc"):
        add(store, name, order)
    pool = make_pool(store, clock)
    picks = []
    for _ in range(6):
        picks.append(take(pool))
        clock.advance(1)
    assert picks == ["a", "b", "c", "a", "b", "c"]


def test_spread_does_not_hammer_a_new_account(store, clock):
    stats = Stats()
    for order, name in enumerate("ab"):
        add(store, name, order)
        for _ in range(1000):  # a long history of use
            stats.record_attempt(name, NOW - 3600)
    pool = make_pool(store, clock, stats)
    for _ in range(10):
        take(pool)
        clock.advance(1)
    add(store, "new", 2)
    picks = Counter()
    for _ in range(30):
        picks[take(pool)] += 1
        clock.advance(1)
    assert picks == {"a": 10, "b": 10, "new": 10}  # its fair share, not a flood


def test_spread_prefers_accounts_with_more_credit_left(store, clock):
    stats = Stats()
    add(store, "low", 0)
    add(store, "full", 1)
    stats.update("low", usage=Usage(used=90, limit=100, reset_at=None).to_dict())
    stats.update("full", usage=Usage(used=0, limit=100, reset_at=None).to_dict())
    pool = make_pool(store, clock, stats)
    picks = Counter()
    for _ in range(100):
        picks[take(pool)] += 1
        clock.advance(1)
    assert picks["full"] > 5 * picks["low"] > 0  # rarely, but still used


def test_spread_avoids_accounts_with_open_streams(store, clock):
    add(store, "a", 0)
    add(store, "b", 1)
    pool = make_pool(store, clock)
    held = pool.acquire(None)
    assert held.account.id == "a"
    assert take(pool) == "b"
    clock.advance(1)
    assert take(pool) == "b"  # a is idle longer but busy
    held.release()


def test_round_robin_cycles_in_the_order_accounts_were_added(store, clock):
    for order, name in enumerate("cab"):
        add(store, name, order)
    pool = make_pool(store, clock, pool_policy="round_robin")
    assert [take(pool) for _ in range(7)] == ["c", "a", "b", "c", "a", "b", "c"]


def test_round_robin_skips_unusable_accounts(store, clock):
    for order, name in enumerate("abc"):
        add(store, name, order)
    store.update("b", status="banned", enabled=False)
    pool = make_pool(store, clock, pool_policy="round_robin")
    assert [take(pool) for _ in range(4)] == ["a", "c", "a", "c"]


def test_priority_fills_the_first_account_then_overflows(store, clock):
    for order, name in enumerate("abc"):
        add(store, name, order)
    pool = make_pool(store, clock, pool_policy="priority", pool_priority=["c", "b"], account_max_streams=1)
    assert [take(pool) for _ in range(3)] == ["c", "c", "c"]
    first = pool.acquire(None)
    second = pool.acquire(None)
    third = pool.acquire(None)
    assert [first.account.id, second.account.id, third.account.id] == ["c", "b", "a"]


def test_unknown_policy_is_refused(store, clock):
    with pytest.raises(ValueError, match="pool_policy"):
        make_pool(store, clock, pool_policy="random")
    from proxy.settings import load_settings
    with pytest.raises(ValueError, match="pool_policy"):
        load_settings(env={"KIRO_PROXY_POOL_POLICY": "random"})
    assert load_settings(env={"KIRO_PROXY_POOL_POLICY": "priority",
                              "KIRO_PROXY_POOL_PRIORITY": "b, a"}).pool_priority == ["b", "a"]


# ---------------------------------------------------------------- stickiness

def test_a_conversation_stays_on_its_account_for_sticky_seconds(store, clock):
    for order, name in enumerate("abc"):
        add(store, name, order)
    pool = make_pool(store, clock)
    assert take(pool, "conv-1") == "a"
    others = Counter()
    for _ in range(5):
        clock.advance(59)  # each request renews the 60 s
        assert take(pool, "conv-1") == "a"
        others[take(pool)] += 1  # other traffic spreads as usual meanwhile
    assert pool.sticky_account("conv-1") == "a"
    assert set(others) == {"b", "c"}


def test_stickiness_expires(store, clock):
    add(store, "a", 0)
    add(store, "b", 1)
    pool = make_pool(store, clock, sticky_seconds=60)
    assert take(pool, "conv") == "a"
    clock.advance(61)
    assert pool.sticky_account("conv") is None
    assert take(pool, "other") == "b"  # a was used more recently
    assert take(pool, "conv") == "a"  # chosen afresh by the policy


def test_sticky_account_that_failed_is_left(store, clock):
    add(store, "a", 0)
    add(store, "b", 1)
    pool = make_pool(store, clock)
    assert take(pool, "conv") == "a"
    assert take(pool, "conv", exclude={"a"}) == "b"
    assert pool.sticky_account("conv") == "b"  # the conversation moved


def test_sticky_entries_are_bounded(store, clock, monkeypatch):
    monkeypatch.setattr(pool_module, "MAX_STICKY_ENTRIES", 5)
    add(store, "a", 0)
    pool = make_pool(store, clock)
    for i in range(20):
        take(pool, f"conv-{i}")
    assert len(pool._sticky) == 5
    assert pool.sticky_account("conv-19") == "a" and pool.sticky_account("conv-0") is None


def test_expired_entries_are_dropped_not_just_ignored(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock)
    for i in range(50):
        take(pool, f"conv-{i}")
    clock.advance(61)
    take(pool, "late")
    assert list(pool._sticky) == ["late"]


def test_derived_session_key():
    key = derive_session_key("sk-1", "Fix the bug in main.py")
    assert key == derive_session_key("sk-1", "Fix the bug in main.py")
    assert key.startswith("derived:") and len(key) == len("derived:") + 32
    assert key != derive_session_key("sk-2", "Fix the bug in main.py")
    assert key != derive_session_key("sk-1", "Something else")
    assert derive_session_key(None, "hi") == derive_session_key("", "hi")
    assert derive_session_key("sk-1", "") is None


# ---------------------------------------------------------------- limits and refusals

def test_rate_limit_refusal_says_when_the_earliest_account_frees_up(store, clock):
    add(store, "a", 0)
    add(store, "b", 1)
    pool = make_pool(store, clock, account_rpm=1)
    assert take(pool) == "a"
    clock.advance(10)
    assert take(pool) == "b"
    clock.advance(5)
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None)
    err = caught.value
    assert err.kind is ErrorKind.RATE_LIMITED and err.status == 429
    assert err.retry_after == 45  # a's minute ends 60 s after its request, 15 s have passed
    clock.advance(45)
    assert take(pool) == "a"


def test_min_interval_refusal_rounds_up(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock, account_min_interval=2.5)
    take(pool)
    clock.advance(0.2)
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None)
    assert caught.value.retry_after == 3


def test_global_rpm(store, clock):
    add(store, "a", 0)
    add(store, "b", 1)
    pool = make_pool(store, clock, global_rpm=2)
    take(pool)
    take(pool)
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None)
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.retry_after == 60


def test_saturated_streams_are_a_503_with_a_short_retry(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock, max_upstream_streams=1)
    lease = pool.acquire(None)
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None)
    assert caught.value.kind is ErrorKind.UNAVAILABLE and caught.value.retry_after == 2
    lease.release()
    lease.release()  # twice is harmless
    assert take(pool) == "a"
    assert pool.limiter.streams() == 0


def test_no_account_at_all(store, clock):
    with pytest.raises(NoAccountNow) as caught:
        make_pool(store, clock).acquire(None)
    assert caught.value.kind is ErrorKind.UNAVAILABLE and not caught.value.soon


def test_all_exhausted_names_the_reset(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock)
    reset = calendar.timegm((2027, 2, 1, 0, 0, 0))
    pool.mark_exhausted("a", reset, "used up")
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None)
    assert "2027-02-01 00:00 UTC" in caught.value.message
    assert caught.value.retry_after == pool_module.MAX_RETRY_AFTER


def test_resting_accounts_give_a_429_until_the_first_is_back(store, clock):
    add(store, "a", 0)
    add(store, "b", 1)
    pool = make_pool(store, clock)
    pool.cool_down("a", 100)
    pool.cool_down("b", 40)
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None, frozenset({"a"}))  # even an account already tried tells when to come back
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.retry_after == 40


def test_tried_usable_flags_a_possible_new_round(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock)
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None, frozenset({"a"}))
    assert caught.value.tried_usable and not caught.value.soon


def test_new_accounts_are_on_probation_until_they_answer(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock, probation_streams=1)
    first = pool.acquire(None)
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None)
    assert caught.value.kind is ErrorKind.UNAVAILABLE and caught.value.retry_after == 2
    pool.succeeded(first.account)
    more = [pool.acquire(None) for _ in range(5)]  # proven: no cap any more
    assert len(more) == 5


def test_a_waiting_request_gets_the_account_when_it_proves_itself(store):
    add(store, "a", 0)
    pool = Pool(store, Settings(queue_wait=5.0, probation_streams=1), stats=Stats())
    first = pool.acquire(None)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(None)))
    started = time.monotonic()
    waiter.start()
    time.sleep(0.1)
    assert not got
    pool.succeeded(first.account)
    waiter.join(5)
    assert got and got[0].account.id == "a"
    assert time.monotonic() - started < 2


def test_waiting_is_bounded(store):
    add(store, "a", 0)
    pool = Pool(store, Settings(queue_wait=0.2, max_upstream_streams=1), stats=Stats())
    pool.acquire(None)
    started = time.monotonic()
    with pytest.raises(NoAccountNow):
        pool.acquire(None)
    assert 0.15 < time.monotonic() - started < 2


def test_a_short_rate_wait_is_waited_out(store):
    add(store, "a", 0)
    pool = Pool(store, Settings(queue_wait=2.0, account_min_interval=0.2), stats=Stats())
    pool.acquire(None).release()
    started = time.monotonic()
    assert pool.acquire(None).account.id == "a"
    assert 0.15 < time.monotonic() - started < 1.5


def test_a_long_rate_wait_is_not(store):
    add(store, "a", 0)
    pool = Pool(store, Settings(queue_wait=1.0, account_min_interval=30), stats=Stats())
    pool.acquire(None).release()
    started = time.monotonic()
    with pytest.raises(NoAccountNow) as caught:
        pool.acquire(None)
    assert time.monotonic() - started < 0.5  # no point waiting 1 s for a 30 s limit
    assert caught.value.retry_after == 30


def test_a_burst_never_overshoots_a_limit(store):
    for order, name in enumerate("abc"):
        add(store, name, order)
    pool = Pool(store, Settings(queue_wait=0.0, account_rpm=5, probation_streams=0), stats=Stats())
    results = Counter()
    lock = threading.Lock()

    def one():
        try:
            account = pool.acquire(None).account.id
        except NoAccountNow as e:
            account = f"refused-{e.status}"
        with lock:
            results[account] += 1

    threads = [threading.Thread(target=one) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a": 5, "b": 5, "c": 5, "refused-429": 25}


# ---------------------------------------------------------------- faults

def test_suspension_bans_and_disables(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.failed(account, kiro_error(*SUSPENDED))
    stored = store.get("a")
    assert (stored.enabled, stored.status) == (False, "banned")
    assert "suspended" in stored.status_reason
    assert pool.stats.get("a").errors == {"suspended": 1}


def test_suspicious_activity_rests_the_account_long(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock, throttle_cooldown=3600)
    pool.failed(account, kiro_error(*SUSPICIOUS))
    assert pool.stats.get("a").cooldown_until == NOW + 3600
    assert store.get("a").status == "cooldown"
    assert store.get("a").enabled


def test_per_account_rate_limit_rests_for_retry_after(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.failed(account, kiro_error(*RATE, headers={"Retry-After": "12"}))
    assert pool.stats.get("a").cooldown_until == NOW + 12
    assert store.get("a").status == "active"  # short: not worth a status change
    other = add(store, "b", 1)
    pool.failed(other, kiro_error(*RATE))
    assert pool.stats.get("b").cooldown_until == NOW + 60


def test_capacity_does_not_blame_the_account(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.failed(account, kiro_error(*CAPACITY))
    record = pool.stats.get("a")
    assert record.cooldown_until == 0 and record.errors == {"capacity": 1} and record.last_fault_at == 0
    assert pool.usable(store.get("a"))


def test_quota_exhausted_until_the_reset_from_usage(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.stats.update("a", usage=Usage(used=10, limit=100, reset_at=NOW + 5000).to_dict())
    pool.failed(account, kiro_error(*QUOTA))
    assert store.get("a").status == "exhausted"
    assert pool.stats.get("a").exhausted_until == NOW + 5000


def test_quota_without_usage_data_waits_for_next_month(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.failed(account, kiro_error(*QUOTA))
    assert pool.stats.get("a").exhausted_until == next_month_utc(NOW)


def test_a_token_still_rejected_after_refresh_rests_the_account(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.failed(account, KiroError(KiroErrorKind.TOKEN_INVALID, 403, "bad token"))
    assert pool.stats.get("a").cooldown_until == NOW + pool_module.TOKEN_COOLDOWN


def test_refresh_failure_rests_briefly_and_needs_login_is_counted(store, clock):
    account = add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.unavailable(account, RuntimeError("auth down"), needs_login=False)
    assert pool.stats.get("a").cooldown_until == NOW + pool_module.REFRESH_COOLDOWN
    pool.unavailable(account, RuntimeError("refused"), needs_login=True)
    assert pool.stats.get("a").errors == {"refresh_failed": 1, "needs_login": 1}


def test_success_brings_a_resting_account_back(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock)
    pool.cool_down("a", 10, "throttled", persist=True)
    clock.advance(10)
    pool.succeeded(store.get("a"))
    assert store.get("a").status == "active" and store.get("a").status_reason == ""
    assert pool.stats.get("a").proven


# ---------------------------------------------------------------- usage

def test_usage_marks_exhausted_and_brings_back(store, clock):
    add(store, "a", 0)
    pool = make_pool(store, clock)
    assert pool.record_usage(store.get("a"), Usage(used=100, limit=100, reset_at=NOW + 99)) == "exhausted"
    assert store.get("a").status == "exhausted" and pool.stats.get("a").exhausted_until == NOW + 99
    assert pool.stats.get("a").usage["percentage"] == 100.0
    assert pool.record_usage(store.get("a"), Usage(used=100, limit=200, reset_at=NOW + 99)) == "recovered"
    assert store.get("a").status == "active"
    assert pool.record_usage(store.get("a"), Usage(used=1, limit=200, reset_at=None)) == "ok"
    assert pool.stats.get("a").usage_checked_at == NOW


# ---------------------------------------------------------------- token refresh through the pool

class SlowRefresh:
    """A refresh endpoint that answers after a pause (to widen races) and counts calls per token."""

    def __init__(self):
        self.calls = Counter()
        self._lock = threading.Lock()

    def post(self, url, json=None, headers=None, timeout=None):
        """Rotate the refresh token, like Kiro."""
        import requests
        with self._lock:
            self.calls[json["refreshToken"]] += 1
            n = sum(self.calls.values())
        time.sleep(0.05)
        response = requests.Response()
        response.status_code = 200
        response._content = __import__("json").dumps(
            {"accessToken": f"aoa-{n}", "refreshToken": f"{json['refreshToken']}-rotated",
             "expiresIn": 3600}).encode()
        return response


def test_concurrent_requests_refresh_each_account_once(store):
    from proxy.kiro.tokens import TokenManager
    for order, name in enumerate("abc"):
        add(store, name, order)  # no access token yet: the first use must refresh
    pool = Pool(store, Settings(queue_wait=0.0, probation_streams=0), stats=Stats())
    session = SlowRefresh()
    tokens = TokenManager(store, Settings(), session)
    used = []

    def request():
        lease = pool.acquire(None)
        try:
            used.append(tokens.fresh(lease.account.id).access_token)
        finally:
            lease.release()

    threads = [threading.Thread(target=request) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(used) == 30 and all(used)
    assert session.calls == {"aor-a": 1, "aor-b": 1, "aor-c": 1}
    assert {store.get(n).refresh_token for n in "abc"} == {"aor-a-rotated", "aor-b-rotated", "aor-c-rotated"}


def test_two_greenlets_closing_one_stream_release_its_slot_once(store, clock):
    """The ping pump and the request greenlet may both close an upstream; if the first one is
    switched out inside the release (waiting for the pool lock), the second must not free the
    slot a second time: that would hand out a stream another request still holds."""
    import gevent

    class YieldingPool(Pool):
        def _release(self, account_id):
            gevent.sleep(0)  # where a contended lock would switch greenlets
            super()._release(account_id)

    add(store, "a", 0)
    pool = YieldingPool(store, Settings(queue_wait=0.0, probation_streams=0, account_max_streams=2),
                        stats=Stats(), clock=clock)
    lease = pool.acquire(None)
    other = pool.acquire(None)
    gevent.joinall([gevent.spawn(lease.release), gevent.spawn(lease.release)])
    assert pool.limiter.streams("a") == 1  # `other` still holds its stream
    other.release()
    assert pool.limiter.streams("a") == 0


def test_a_release_interrupted_before_it_took_the_lock_can_be_done_again(store, clock):
    class DyingPool(Pool):
        fail = True

        def _release(self, account_id):
            if self.fail:
                self.fail = False
                raise KeyboardInterrupt  # stands in for GreenletExit while waiting for the lock
            super()._release(account_id)

    add(store, "a", 0)
    pool = DyingPool(store, Settings(queue_wait=0.0, probation_streams=0), stats=Stats(), clock=clock)
    lease = pool.acquire(None)
    with pytest.raises(KeyboardInterrupt):
        lease.release()
    lease.release()
    assert pool.limiter.streams("a") == 0

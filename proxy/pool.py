"""Which account serves a request: usable accounts only, a selection policy, stickiness, limits.

`Pool.acquire(session_key, exclude)` returns a `Lease` (the account plus its stream slot) or
raises `NoAccountNow`, a ProxyError that says when to come back (429 while accounts are
rate-limited or cooling down, 503 when every stream slot is taken or nothing is usable).
Choosing and admitting happen under one lock, so a burst cannot overshoot a limit. What
upstream answers say about an account (banned, throttled, out of quota) is recorded here too.
"""
from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from proxy.account import Account
from proxy.errors import ErrorKind, ProxyError
from proxy.kiro.errors import NO_ACCOUNT_RETRY_AFTER, KiroError, KiroErrorKind
from proxy.kiro.usage import Usage, next_month_utc
from proxy.limits import Block, LimitConfig, Limiter
from proxy.settings import Settings
from proxy.stats import Stats

log = logging.getLogger(__name__)

POLICIES = ("spread", "round_robin", "priority")
MAX_STICKY_ENTRIES = 10_000  # bound memory: the least recently used conversations go first
SATURATED_RETRY_AFTER = 2  # seconds a client is told to wait when every stream slot is taken
MAX_RETRY_AFTER = 3600  # never tell a client to come back in days; it would rather ask again
TOKEN_COOLDOWN = 300.0  # a token Kiro still rejects right after a refresh: rest the account
REFRESH_COOLDOWN = 60.0  # the auth service failed for a passing reason: do not hammer it
MIN_QUOTA_WEIGHT = 0.05  # an almost empty account is still chosen, just rarely
UNUSABLE = ("banned", "needs_login", "disabled")


class NoAccountNow(ProxyError):
    """No account may take the request now; `retry_after` says when one may."""

    def __init__(self, kind: ErrorKind, message: str, retry_after: Optional[int], *,
                 soon: bool, tried_usable: bool = False, wait: Optional[float] = None):
        super().__init__(kind, message, retry_after=retry_after)
        self.soon = soon  # a limit or cooldown, not a lack of accounts: the answer is "come back"
        self.tried_usable = tried_usable  # an account excluded by the caller could be used again
        self.wait = wait  # seconds until an account frees up (None: when a stream ends / unknown)


class Lease:
    """An account admitted for one upstream stream; release() frees the slot (idempotent)."""

    def __init__(self, pool: "Pool", account: Account):
        self.pool = pool
        self.account = account
        self._released = False

    def release(self) -> None:
        """Give the stream slot back."""
        if self._released:
            return
        # flag first: a second closer (the ping pump and the request greenlet both close
        # upstreams) arriving while this one waits for the pool lock must not release twice
        self._released = True
        try:
            self.pool._release(self.account.id)
        except BaseException:
            # killed before the slot was freed: leave it releasable by whoever closes next
            self._released = False
            raise


def derive_session_key(client_key: Optional[str], first_user_turn: str) -> Optional[str]:
    """A conversation key for clients that send none: hash of their key and first user turn."""
    if not first_user_turn:
        return None
    digest = hashlib.sha256(f"{client_key or ''}\0{first_user_turn}".encode("utf-8", "replace"))
    return "derived:" + digest.hexdigest()[:32]


@dataclass
class _Candidates:
    """One scan of the accounts: who may serve now, and why the others may not."""
    ready: list = field(default_factory=list)  # (account, stats record) pairs
    blocks: list = field(default_factory=list)  # Block of each account a limit or a cooldown holds back
    tried_blocks: list = field(default_factory=list)  # the same for accounts the caller excluded
    quota_waits: list = field(default_factory=list)  # seconds until the reset of each exhausted account
    tried_usable: bool = False  # an excluded account could serve again (a new round may use it)


class Pool:
    """Chooses among the accounts the store holds; stickiness and limits in memory, state in Stats."""

    def __init__(self, accounts, settings: Settings, stats: Optional[Stats] = None,
                 clock: Callable[[], float] = time.time, limiter: Optional[Limiter] = None):
        self.accounts = accounts  # AccountStore (list/update)
        self.settings = settings
        self.stats = stats if stats is not None else Stats()
        self.limiter = limiter or Limiter(LimitConfig.from_settings(settings))
        self._clock = clock
        self._sticky: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._last_pick: Optional[tuple] = None  # round robin's position: (created_at, id) of the last pick
        self._cond = threading.Condition(threading.Lock())
        if settings.pool_policy not in POLICIES:
            raise ValueError(f"pool_policy must be one of {', '.join(POLICIES)}, not {settings.pool_policy!r}")

    # ------------------------------------------------------------------ choosing

    def usable(self, account: Account, now: Optional[float] = None) -> bool:
        """Enabled, not banned / needing login, not cooling down, quota left (or its reset passed)."""
        now = self._clock() if now is None else now
        if not account.enabled or account.status in UNUSABLE:
            return False
        record = self.stats.get(account.id)
        if record.cooldown_until > now:
            return False
        if account.status == "exhausted":
            return 0 < record.exhausted_until <= now  # unknown reset: the health check decides
        return True

    def acquire(self, session_key: Optional[str], exclude: frozenset = frozenset(),
                wait: Optional[float] = None) -> Lease:
        """Choose and admit an account, waiting up to `wait` (default: queue_wait) for one to free up."""
        budget = self.settings.queue_wait if wait is None else wait
        deadline = time.monotonic() + max(0.0, budget)  # real time: this is how long the client waits
        with self._cond:
            while True:
                now = self._clock()
                accounts = self.accounts.list()
                found = self._scan(accounts, exclude, now)
                if found.ready:
                    return self._admit(self._pick(found.ready, session_key, now), session_key, now)
                refusal = self._refusal(found, now)
                left = deadline - time.monotonic()
                if not refusal.soon or left <= 0 or (refusal.wait is not None and refusal.wait > left):
                    raise refusal
                # woken early by a released slot or a first answer; else when the earliest limit lifts
                self._cond.wait(timeout=left if refusal.wait is None else min(left, refusal.wait + 0.001))

    def _scan(self, accounts: Iterable[Account], exclude: frozenset, now: float) -> _Candidates:
        """Sort every account into ready, held back (with when), out of quota, or never."""
        found = _Candidates()
        global_block = self.limiter.global_block(now)
        for account in accounts:
            if not account.enabled or account.status in UNUSABLE:
                continue
            record = self.stats.get(account.id)
            tried = account.id in exclude
            if record.cooldown_until > now:
                (found.tried_blocks if tried else found.blocks).append(Block("cooldown", record.cooldown_until - now))
                continue
            if account.status == "exhausted" and not 0 < record.exhausted_until <= now:
                if record.exhausted_until > now:
                    found.quota_waits.append(record.exhausted_until - now)
                continue
            if tried:
                found.tried_usable = True
                continue
            cap = 0
            if self.settings.probation_streams and not record.proven:
                # an account that has not answered yet gets few requests at a time: a dead or
                # banned one then costs one request, not a burst
                cap = self.settings.probation_streams
                if self.settings.account_max_streams:
                    cap = min(cap, self.settings.account_max_streams)
            block = global_block or self.limiter.account_block(account.id, now, max_streams=cap)
            if block is not None:
                found.blocks.append(block)
                continue
            found.ready.append((account, record))
        return found

    def _refusal(self, found: _Candidates, now: float) -> NoAccountNow:
        """The client's answer when nobody is ready: 429 with the earliest free time, else 503.

        Only accounts the caller did not exclude are worth waiting for (`soon`); a tried
        account that is resting still tells the client when to come back.
        """
        blocks = found.blocks + found.tried_blocks
        soon = bool(found.blocks)
        timed = [max(0.0, b.wait) for b in blocks if not b.saturated]
        saturated = any(b.saturated for b in blocks)
        if saturated and (not timed or min(timed) > SATURATED_RETRY_AFTER):
            # a stream ends any moment; that beats a long cooldown as the answer
            return NoAccountNow(ErrorKind.UNAVAILABLE, "Every Kiro account is busy with as many streams as allowed.",
                                SATURATED_RETRY_AFTER, soon=soon, tried_usable=found.tried_usable)
        if timed:
            wait = min(timed)
            return NoAccountNow(ErrorKind.RATE_LIMITED, "Every Kiro account is at its rate limit or resting; "
                                "retry after the time given.", _seconds(wait), soon=soon,
                                tried_usable=found.tried_usable, wait=wait)
        if found.quota_waits:
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now + min(found.quota_waits)))
            return NoAccountNow(ErrorKind.UNAVAILABLE, f"Every usable Kiro account is out of credits until {when}.",
                                _seconds(min(found.quota_waits)), soon=False, tried_usable=found.tried_usable)
        return NoAccountNow(ErrorKind.UNAVAILABLE, "No usable Kiro account is available; add or re-login an account.",
                            NO_ACCOUNT_RETRY_AFTER, soon=False, tried_usable=found.tried_usable)

    def _pick(self, ready: list, session_key: Optional[str], now: float) -> Account:
        """The sticky account if it is ready, else the policy's choice."""
        if session_key:
            self._expire_sticky(now)
            entry = self._sticky.get(session_key)
            if entry is not None:
                sticky = next((a for a, _ in ready if a.id == entry[0]), None)
                if sticky is not None:
                    return sticky
        policy = self.settings.pool_policy
        if policy == "round_robin":
            return self._round_robin([a for a, _ in ready])
        if policy == "priority":
            order = {account_id: i for i, account_id in enumerate(self.settings.pool_priority)}
            return min((a for a, _ in ready), key=lambda a: (order.get(a.id, len(order)), *_order(a)))
        return self._spread(ready, now)

    def _spread(self, ready: list, now: float) -> Account:
        """Longest idle wins, idle time scaled by quota left and divided by open streams.

        Idle time (not a lifetime request count) is what keeps a new account from being
        hammered: after its first request it waits its turn like every other account.
        """
        def key(item) -> tuple:
            account, record = item
            idle = max(0.0, now - record.last_used)
            score = idle * _quota_weight(record.usage) / (1 + self.limiter.streams(account.id))
            return (-score, *_order(account))  # ties: the oldest account first
        return min(ready, key=key)[0]

    def _round_robin(self, ready: list) -> Account:
        """The next ready account after the last one picked, in the order accounts were added."""
        ordered = sorted(ready, key=_order)
        if self._last_pick is not None:
            later = [a for a in ordered if _order(a) > self._last_pick]
            if later:
                return later[0]
        return ordered[0]

    def _admit(self, account: Account, session_key: Optional[str], now: float) -> Lease:
        """Record the start (limits, stats, stickiness) and hand out the lease."""
        self.limiter.admit(account.id, now)
        self.stats.record_attempt(account.id, now)
        self._last_pick = _order(account)
        if session_key:
            self._sticky[session_key] = (account.id, now)
            self._sticky.move_to_end(session_key)
            while len(self._sticky) > MAX_STICKY_ENTRIES:
                self._sticky.popitem(last=False)
        return Lease(self, account)

    def _release(self, account_id: str) -> None:
        with self._cond:
            self.limiter.release(account_id)
            self._cond.notify_all()

    def _expire_sticky(self, now: float) -> None:
        """Forget conversations idle longer than sticky_seconds (oldest are first in the dict)."""
        limit = now - self.settings.sticky_seconds
        while self._sticky:
            key, (_, last) = next(iter(self._sticky.items()))
            if last >= limit:
                break
            del self._sticky[key]

    def sticky_account(self, session_key: str) -> Optional[str]:
        """The account a conversation is stuck to right now, if any."""
        with self._cond:
            self._expire_sticky(self._clock())
            entry = self._sticky.get(session_key)
            return entry[0] if entry else None

    def forget_session(self, session_key: str) -> None:
        """Drop a conversation's stickiness (its account failed)."""
        with self._cond:
            self._sticky.pop(session_key, None)

    # ------------------------------------------------------------------ outcomes

    def succeeded(self, account: Account) -> None:
        """The account answered: it is proven (probation over) and, if it was resting, back."""
        self.stats.record_ok(account.id, self._clock())
        if account.status in ("cooldown", "exhausted"):
            self.restore(account.id)
        with self._cond:
            self._cond.notify_all()  # waiters held back by probation may go now

    def failed(self, account: Account, err: KiroError) -> None:
        """Record a Kiro failure and act on what it says about the account."""
        now = self._clock()
        fault = err.account_fault
        if fault == "banned":
            self.ban(account.id, err.message)
        elif fault == "quota":
            self.mark_exhausted(account.id, self._reset_after(account.id, now), err.message)
        elif fault == "throttled":
            if err.kind is KiroErrorKind.SUSPICIOUS_ACTIVITY:
                # a ban precursor: rest long, and say so in the account's status
                self.cool_down(account.id, self.settings.throttle_cooldown, "throttled for suspicious activity",
                               persist=True)
            else:
                self.cool_down(account.id, err.retry_after or self.settings.rate_limit_cooldown,
                               f"rate limited by Kiro ({err.reason or err.status})")
        elif fault == "token":
            self.cool_down(account.id, TOKEN_COOLDOWN, "access token rejected right after a refresh")
        self.stats.record_error(account.id, err.kind.value, err.message, now,
                                fault=fault in ("banned", "quota", "throttled"))

    def unavailable(self, account: Account, err: Exception, *, needs_login: bool) -> None:
        """The account could not get a token: needs a login (already marked) or refresh failed for now."""
        now = self._clock()
        if not needs_login:
            self.cool_down(account.id, REFRESH_COOLDOWN, "token refresh failed")
        self.stats.record_error(account.id, "needs_login" if needs_login else "refresh_failed", str(err), now,
                                fault=needs_login)

    def ban(self, account_id: str, message: str) -> None:
        """Kiro suspended the account: disable it for good, with Kiro's words as the reason."""
        log.error("account %s suspended by Kiro: disabled", account_id)
        self.accounts.update(account_id, enabled=False, status="banned", status_reason=message[:300])

    def mark_exhausted(self, account_id: str, until: float, reason: str) -> None:
        """Out of credits until `until` (unix seconds)."""
        log.warning("account %s is out of credits until %s", account_id,
                    time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(until)))
        self.stats.update(account_id, exhausted_until=until)
        self.accounts.update(account_id, status="exhausted", status_reason=reason[:300])

    def cool_down(self, account_id: str, seconds: float, reason: str = "", persist: bool = False) -> None:
        """Keep an account out of selection for a while; `persist` shows it in the account's status."""
        self.stats.update(account_id, cooldown_until=self._clock() + seconds, cooldown_reason=reason)
        if persist:
            log.warning("account %s cooling down for %.0f s: %s", account_id, seconds, reason)
            self.accounts.update(account_id, status="cooldown", status_reason=reason)

    def restore(self, account_id: str) -> None:
        """Back to work: cooldown and exhaustion cleared."""
        self.stats.update(account_id, cooldown_until=0.0, cooldown_reason="", exhausted_until=0.0)
        self.accounts.update(account_id, status="active", status_reason="")
        with self._cond:
            self._cond.notify_all()

    def record_usage(self, account: Account, usage: Usage) -> str:
        """Store a usage check and act on it: 'exhausted', 'recovered' or 'ok'."""
        now = self._clock()
        self.stats.update(account.id, usage=usage.to_dict(), usage_checked_at=now)
        if usage.exhausted:
            if account.status != "exhausted":
                self.mark_exhausted(account.id, usage.reset_at or next_month_utc(now), "monthly credits used up")
            else:
                self.stats.update(account.id, exhausted_until=usage.reset_at or next_month_utc(now))
            return "exhausted"
        if account.status in ("exhausted", "cooldown"):
            self.restore(account.id)
            return "recovered"
        return "ok"

    def _reset_after(self, account_id: str, now: float) -> float:
        """When a 402'd account gets credits again: the usage data's reset date, else next month."""
        usage = self.stats.get(account_id).usage
        reset = usage.get("reset_at") if usage else None
        return float(reset) if reset and reset > now else next_month_utc(now)


def _order(account: Account) -> tuple:
    """The order accounts were added in (ids break ties)."""
    return (account.created_at, account.id)


def _quota_weight(usage: Optional[dict]) -> float:
    """Share of credits left (unknown = full), floored so nearly empty accounts still get a turn."""
    if not usage or not usage.get("limit"):
        return 1.0
    left = max(0.0, float(usage["limit"]) - float(usage["used"])) / float(usage["limit"])
    return max(MIN_QUOTA_WEIGHT, min(1.0, left))


def _seconds(wait: float) -> int:
    """A Retry-After value: whole seconds, at least 1, at most MAX_RETRY_AFTER."""
    return int(min(MAX_RETRY_AFTER, max(1, math.ceil(wait))))

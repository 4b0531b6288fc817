"""Account health and quota: one cheap getUsageLimits call per account, and what it says applied.

`check_health` (every 10 minutes, and later on demand from the admin API) probes the accounts
that are not known to be fine: resting ones whose cooldown is over, exhausted ones, ones whose
last request failed and ones never checked; a good answer brings them back. `refresh_quota`
keeps the usage of working accounts current, which the pool's spread policy weighs.
"""
from __future__ import annotations

import functools
import logging
import time
from typing import Callable, Optional

from proxy.account import Account
from proxy.kiro.errors import KiroError
from proxy.kiro.tokens import AccountUnavailable, RefreshFailed, TokenManager
from proxy.kiro.usage import Usage, fetch_usage
from proxy.pool import UNUSABLE, Pool

log = logging.getLogger(__name__)

UsageFetcher = Callable[[Account], Usage]


def usage_fetcher(settings, session, timeout: Optional[float] = None) -> UsageFetcher:
    """fetch_usage bound to the app's settings and HTTP session."""
    return functools.partial(fetch_usage, settings=settings, session=session,
                             timeout=timeout or settings.refresh_timeout)


def probe_account(account: Account, pool: Pool, tokens: TokenManager, fetch: UsageFetcher) -> str:
    """Check one account with getUsageLimits; returns ok | recovered | exhausted | banned |
    throttled | needs_login | failed."""
    try:
        fresh = tokens.fresh(account.id)
        try:
            usage = fetch(fresh)
        except KiroError as e:
            if e.account_fault != "token":
                raise
            fresh = tokens.force_refresh(account.id, fresh.access_token)  # refresh once, as the relay does
            usage = fetch(fresh)
    except AccountUnavailable:
        return "needs_login"  # TokenManager has marked it, with the reason
    except RefreshFailed as e:
        log.warning("health check of account %s: %s", account.id, e)
        return "failed"
    except KiroError as e:
        pool.failed(account, e)
        log.warning("health check of account %s failed: %s", account.id, e.kind.value)
        return {"banned": "banned", "throttled": "throttled", "quota": "exhausted"}.get(e.account_fault or "",
                                                                                        "failed")
    return pool.record_usage(account, usage)


def check_health(pool: Pool, tokens: TokenManager, fetch: UsageFetcher, clock: Callable[[], float] = time.time,
                 everyone: bool = False) -> dict[str, int]:
    """Probe every account that needs a look (all of them with `everyone`); counts per outcome."""
    now = clock()
    counts: dict[str, int] = {"skipped": 0}
    for account in pool.accounts.list():
        record = pool.stats.get(account.id)
        if not account.enabled or account.status in UNUSABLE or record.cooldown_until > now:
            counts["skipped"] += 1  # never poke a banned account, nor a resting one before its time
            continue
        troubled = account.status != "active" or record.last_error_at > record.last_ok \
            or record.usage_checked_at == 0
        if not (everyone or troubled):
            counts["skipped"] += 1
            continue
        outcome = probe_account(account, pool, tokens, fetch)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def refresh_quota(pool: Pool, tokens: TokenManager, fetch: UsageFetcher, clock: Callable[[], float] = time.time,
                  max_age: float = 0.0) -> dict[str, int]:
    """Refresh the usage of each usable account not checked within `max_age` seconds."""
    now = clock()
    counts: dict[str, int] = {"skipped": 0}
    for account in pool.accounts.list():
        if not pool.usable(account, now) or account.status != "active" \
                or now - pool.stats.get(account.id).usage_checked_at < max_age:
            counts["skipped"] += 1
            continue
        outcome = probe_account(account, pool, tokens, fetch)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts

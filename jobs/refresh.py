"""The token refresh job: refresh every enabled account whose access token is about to expire."""
from __future__ import annotations

import logging
import time
from typing import Callable

from proxy.kiro.tokens import AccountUnavailable, RefreshFailed, TokenManager
from proxy.pool import UNUSABLE
from store.accounts import AccountStore

log = logging.getLogger(__name__)


def refresh_expiring(accounts: AccountStore, tokens: TokenManager, before_seconds: float,
                     clock: Callable[[], float] = time.time) -> dict[str, int]:
    """Refresh tokens expiring within `before_seconds`; one bad account never stops the loop."""
    counts = {"refreshed": 0, "failed": 0, "skipped": 0}
    now = clock()
    for account in accounts.list():
        if not account.enabled or account.status in UNUSABLE:
            counts["skipped"] += 1
            continue
        if not account.needs_refresh(now, before_seconds):
            counts["skipped"] += 1
            continue
        try:
            tokens.fresh(account.id)
            counts["refreshed"] += 1
        except (AccountUnavailable, RefreshFailed) as e:
            counts["failed"] += 1
            log.warning("scheduled refresh of account %s failed: %s", account.id, e)
    return counts

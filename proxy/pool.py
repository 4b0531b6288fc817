"""Which account serves a request: usable accounts only, sticky per conversation, cooldowns.

This is the one place that chooses an account. Selection policies, quota weighting and
rate limits arrive with the account-pool work; the interface stays `choose()`.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Iterable, Optional

from proxy.account import Account

STICKY_SECONDS = 60.0  # a conversation keeps its account this long after its last request
MAX_STICKY_ENTRIES = 10_000  # bound memory: the oldest conversations are forgotten first


class Pool:
    """Chooses among the accounts the store holds; remembers stickiness and cooldowns in memory."""

    def __init__(self, list_accounts: Callable[[], Iterable[Account]],
                 clock: Callable[[], float] = time.monotonic, sticky_seconds: float = STICKY_SECONDS):
        self._list = list_accounts
        self._clock = clock
        self._sticky_seconds = sticky_seconds
        self._sticky: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._cooldown: dict[str, float] = {}
        self._last_used: dict[str, float] = {}
        self._lock = threading.Lock()

    def usable(self, account: Account, now: float) -> bool:
        """Enabled, not banned / out of quota / needing login, and not cooling down."""
        if not account.enabled or account.status in ("banned", "needs_login", "exhausted", "disabled"):
            return False
        return self._cooldown.get(account.id, 0.0) <= now

    def choose(self, session_key: Optional[str], exclude: frozenset[str] = frozenset()) -> Optional[Account]:
        """The account for this request, or None when no usable account is left."""
        now = self._clock()
        candidates = [a for a in self._list() if a.id not in exclude and self.usable(a, now)]
        if not candidates:
            return None
        with self._lock:
            chosen = None
            if session_key:
                entry = self._sticky.get(session_key)
                if entry and now - entry[1] <= self._sticky_seconds:
                    chosen = next((a for a in candidates if a.id == entry[0]), None)
            if chosen is None:
                # least recently used first: spreads load and never hammers one account
                chosen = min(candidates, key=lambda a: (self._last_used.get(a.id, 0.0), a.created_at))
            self._last_used[chosen.id] = now
            if session_key:
                self._sticky[session_key] = (chosen.id, now)
                self._sticky.move_to_end(session_key)
                while len(self._sticky) > MAX_STICKY_ENTRIES:
                    self._sticky.popitem(last=False)
        return chosen

    def cool_down(self, account_id: str, seconds: float) -> None:
        """Keep an account out of selection for a while (throttled by Kiro)."""
        with self._lock:
            self._cooldown[account_id] = self._clock() + seconds

    def forget_session(self, session_key: str) -> None:
        """Drop a conversation's stickiness (its account failed)."""
        with self._lock:
            self._sticky.pop(session_key, None)

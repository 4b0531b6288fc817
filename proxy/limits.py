"""Rate limits: who may call Kiro now, and if not, for how long not (all settings; 0 = off).

Per account: a minimum interval between requests, requests per minute and concurrent
streams; overall: requests per minute and concurrent streams. The limiter only answers and
records; the pool decides (and holds the lock that makes check-then-admit atomic).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional

WINDOW = 60.0  # seconds of a requests-per-minute window


@dataclass(frozen=True)
class LimitConfig:
    """The limits; 0 disables one."""
    account_min_interval: float = 0.0
    account_rpm: int = 0
    global_rpm: int = 0
    account_max_streams: int = 0
    max_streams: int = 0

    @classmethod
    def from_settings(cls, settings) -> "LimitConfig":
        """The limits a Settings object names."""
        return cls(account_min_interval=settings.account_min_interval, account_rpm=settings.account_rpm,
                   global_rpm=settings.global_rpm, account_max_streams=settings.account_max_streams,
                   max_streams=settings.max_upstream_streams)


@dataclass(frozen=True)
class Block:
    """Why a request may not start now, and in how many seconds it may (None: when a stream ends)."""
    reason: str  # interval | account_rpm | global_rpm | account_streams | streams
    wait: Optional[float]

    @property
    def saturated(self) -> bool:
        """Blocked by concurrent streams: nobody knows when one ends."""
        return self.wait is None


class Limiter:
    """Sliding windows and stream counters; not locked itself (the pool serialises calls)."""

    def __init__(self, config: LimitConfig):
        self.config = config
        self._starts: dict[str, deque] = {}  # account -> start times inside the window (bounded by rpm)
        self._last_start: dict[str, float] = {}
        self._global: deque = deque()
        self._streams: dict[str, int] = {}
        self._total_streams = 0

    def global_block(self, now: float) -> Optional[Block]:
        """The overall limit that stops any request now, if one does."""
        cfg = self.config
        if cfg.max_streams and self._total_streams >= cfg.max_streams:
            return Block("streams", None)
        if cfg.global_rpm:
            _trim(self._global, now)
            if len(self._global) >= cfg.global_rpm:
                return Block("global_rpm", self._global[0] + WINDOW - now)
        return None

    def account_block(self, account_id: str, now: float, max_streams: int = 0) -> Optional[Block]:
        """The per-account limit that stops this account now; `max_streams` overrides the setting."""
        cfg = self.config
        cap = max_streams or cfg.account_max_streams
        if cap and self._streams.get(account_id, 0) >= cap:
            return Block("account_streams", None)
        waits = []
        last = self._last_start.get(account_id)
        if cfg.account_min_interval and last is not None and now - last < cfg.account_min_interval:
            waits.append(("interval", last + cfg.account_min_interval - now))
        starts = self._starts.get(account_id)
        if cfg.account_rpm and starts is not None:
            _trim(starts, now)
            if len(starts) >= cfg.account_rpm:
                waits.append(("account_rpm", starts[0] + WINDOW - now))
        if not waits:
            return None
        reason, wait = max(waits, key=lambda w: w[1])
        return Block(reason, wait)

    def admit(self, account_id: str, now: float) -> None:
        """Record a request start on this account and one more open stream."""
        cfg = self.config
        self._last_start[account_id] = now
        if cfg.account_rpm:
            starts = self._starts.setdefault(account_id, deque())
            starts.append(now)
            _trim(starts, now)
        if cfg.global_rpm:
            self._global.append(now)
            _trim(self._global, now)
        self._streams[account_id] = self._streams.get(account_id, 0) + 1
        self._total_streams += 1

    def release(self, account_id: str) -> None:
        """One stream of this account ended."""
        count = self._streams.get(account_id, 0)
        if count <= 0:
            return
        if count == 1:
            del self._streams[account_id]  # idle accounts hold no entry
        else:
            self._streams[account_id] = count - 1
        self._total_streams -= 1

    def streams(self, account_id: Optional[str] = None) -> int:
        """Open streams of one account, or of all."""
        return self._total_streams if account_id is None else self._streams.get(account_id, 0)


def _trim(window: deque, now: float) -> None:
    """Drop start times older than the window."""
    while window and window[0] <= now - WINDOW:
        window.popleft()

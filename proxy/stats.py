"""Per-account stats and pool state: requests, errors by kind, last use, cooldowns, quota.

Kept in memory (one small record per account, so memory is bounded by the account count)
and written to `stats.json` by a job. Cooldowns and exhaustion dates live here too, so a
restart does not put a throttled account straight back to work.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from store.stats import StatsFile
from store.tiny import StoreCorrupt, StoreError

log = logging.getLogger(__name__)

MAX_ERROR_TEXT = 300  # Kiro messages can be long; the panel needs the gist


@dataclass
class AccountStats:
    """What the proxy has seen of one account."""
    requests: int = 0  # upstream attempts (chat calls) made with this account
    ok: int = 0  # attempts that got a first event back
    errors: dict = field(default_factory=dict)  # error kind -> count
    last_used: float = 0.0  # unix seconds of the last attempt
    last_ok: float = 0.0
    last_error: str = ""  # "kind: message" of the last failure
    last_error_at: float = 0.0
    last_fault_at: float = 0.0  # the last failure that was the account's fault (ban, throttle, quota)
    cooldown_until: float = 0.0  # unix seconds; the pool skips the account until then
    cooldown_reason: str = ""
    exhausted_until: float = 0.0  # unix seconds of the quota reset after a 402
    usage: Optional[dict] = None  # proxy.kiro.usage.Usage.to_dict() of the last check
    usage_checked_at: float = 0.0

    @property
    def proven(self) -> bool:
        """It has answered since its last account fault (new accounts are not proven)."""
        return self.last_ok > 0 and self.last_ok >= self.last_fault_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe copy."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AccountStats":
        """From a saved record, ignoring unknown keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class Stats:
    """All accounts' stats; every change runs under one lock, reads get copies."""

    def __init__(self, file: Optional[StatsFile] = None):
        self._file = file
        self._lock = threading.Lock()
        self._records: dict[str, AccountStats] = {}
        if file is not None:
            self._load()

    def get(self, account_id: str) -> AccountStats:
        """A copy of one account's record (an empty one if never seen)."""
        with self._lock:
            record = self._records.get(account_id)
            return dataclasses.replace(record, errors=dict(record.errors)) if record else AccountStats()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every record as JSON-safe dicts (for the admin panel and the file)."""
        with self._lock:
            return {account_id: record.to_dict() for account_id, record in self._records.items()}

    def update(self, account_id: str, **fields: Any) -> None:
        """Set some fields of one record."""
        with self._lock:
            record = self._records.setdefault(account_id, AccountStats())
            for name, value in fields.items():
                setattr(record, name, value)

    def record_attempt(self, account_id: str, now: float) -> None:
        """An upstream call is about to be made with this account."""
        with self._lock:
            record = self._records.setdefault(account_id, AccountStats())
            record.requests += 1
            record.last_used = now

    def record_ok(self, account_id: str, now: float) -> None:
        """The account answered (first event arrived)."""
        with self._lock:
            record = self._records.setdefault(account_id, AccountStats())
            record.ok += 1
            record.last_ok = now

    def record_error(self, account_id: str, kind: str, message: str, now: float, fault: bool = False) -> None:
        """A failure of one attempt; `fault` when it says something bad about the account itself."""
        with self._lock:
            record = self._records.setdefault(account_id, AccountStats())
            record.errors[kind] = record.errors.get(kind, 0) + 1
            record.last_error = f"{kind}: {message}"[:MAX_ERROR_TEXT]
            record.last_error_at = now
            if fault:
                record.last_fault_at = now

    def prune(self, known_ids: Iterable[str]) -> None:
        """Forget records of accounts that no longer exist."""
        keep = set(known_ids)
        with self._lock:
            for account_id in [a for a in self._records if a not in keep]:
                del self._records[account_id]

    def save(self) -> bool:
        """Write the snapshot to the stats file; False when there is no file or writing failed."""
        if self._file is None:
            return False
        try:
            self._file.save(self.snapshot())
        except (OSError, StoreError) as e:  # stats are cheap to lose; the proxy keeps serving
            log.warning("could not save stats to %s: %s", self._file.path, e)
            return False
        return True

    def _load(self) -> None:
        """Start from the saved snapshot; a broken file is set aside by the next save."""
        try:
            saved = self._file.load()
        except (OSError, StoreCorrupt) as e:
            log.warning("ignoring unreadable stats file: %s", e)
            return
        for account_id, data in saved.items():
            try:
                self._records[account_id] = AccountStats.from_dict(data)
            except TypeError as e:
                log.warning("ignoring bad stats record for account %s: %s", account_id, e)

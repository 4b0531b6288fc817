"""What Kiro has told us about its input limit, per model: the smallest size it refused and
the largest it accepted (calibrated estimated tokens), so a long conversation is fitted before
it is sent instead of failing on every request. Kiro's limit sits well below the advertised
window and is not published; learned figures expire so a raised limit is noticed again.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional

LEARNED_MARGIN = 0.9  # fit later requests this far below the smallest refused size
LEARNED_TTL = 3600.0  # seconds a learned figure is trusted
MAX_MODELS = 64


@dataclass
class _Seen:
    refused: Optional[int] = None  # smallest size Kiro called too long
    refused_at: float = 0.0
    accepted: Optional[int] = None  # largest size Kiro took
    accepted_at: float = 0.0


class LearnedLimits:
    """Per-model refused / accepted sizes, bounded in memory and expiring."""

    def __init__(self, clock: Callable[[], float], ttl: float = LEARNED_TTL, max_models: int = MAX_MODELS):
        self._clock = clock
        self._ttl = ttl
        self._max = max_models
        self._seen: OrderedDict[str, _Seen] = OrderedDict()
        self._lock = threading.Lock()

    def refused(self, model_id: str, tokens: int) -> None:
        """Kiro said a request of `tokens` was too long."""
        with self._lock:
            seen = self._get(model_id)
            if seen.refused is None or tokens < seen.refused:
                seen.refused = tokens
            seen.refused_at = self._clock()
            if seen.accepted is not None and seen.accepted >= tokens:
                seen.accepted = None  # contradicted: the newer answer wins

    def accepted(self, model_id: str, tokens: int) -> None:
        """Kiro took a request of `tokens`."""
        with self._lock:
            seen = self._get(model_id)
            if seen.refused is not None and tokens >= seen.refused:
                seen.refused = None  # the limit was raised (or our estimate moved)
            if seen.accepted is None or tokens > seen.accepted:
                seen.accepted = tokens
            seen.accepted_at = self._clock()

    def budget(self, model_id: str) -> Optional[int]:
        """The size to fit requests under; None when Kiro has refused nothing lately.

        The limit lies between the largest size accepted and the smallest refused. Aiming at
        the middle finds it in a few refusals (each costs one quick retry) without settling on
        a size far below it; once the accepted size is within the margin, it is used.
        """
        with self._lock:
            seen = self._fresh(model_id)
            if seen is None or seen.refused is None:
                return None
            refused, accepted = seen.refused, seen.accepted
            if accepted is None or accepted >= refused:
                return int(refused * LEARNED_MARGIN)
            if accepted >= refused * LEARNED_MARGIN:
                return accepted  # close enough: stop probing
            return min(int(refused * LEARNED_MARGIN), (accepted + refused) // 2)

    def known_good(self, model_id: str) -> Optional[int]:
        """The largest size Kiro accepted recently, if any."""
        with self._lock:
            seen = self._fresh(model_id)
            return seen.accepted if seen else None

    def snapshot(self) -> dict:
        """{model id: {"refused", "accepted"}} for the panel and tests."""
        with self._lock:
            return {k: {"refused": v.refused, "accepted": v.accepted} for k, v in self._seen.items()}

    def _get(self, model_id: str) -> _Seen:
        seen = self._seen.pop(model_id, None) or _Seen()
        self._seen[model_id] = seen
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return seen

    def _fresh(self, model_id: str) -> Optional[_Seen]:
        """The entry with expired figures cleared."""
        seen = self._seen.get(model_id)
        if seen is None:
            return None
        now = self._clock()
        if seen.refused is not None and now - seen.refused_at > self._ttl:
            seen.refused = None
        if seen.accepted is not None and now - seen.accepted_at > self._ttl:
            seen.accepted = None
        return seen

"""What fitting did to a request: the chat to send and the record for its flow entry."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

from proxy.chat import Chat
from proxy.kiro.models import KiroModel
from proxy.kiro.request import BuiltRequest


@dataclass
class FitRecord:
    """Everything dropped, shortened or summarised, and the sizes before and after."""
    strategies: list[str] = field(default_factory=list)  # pre_estimate | auto_truncate | retry, + summary
    attempt: int = 0  # 0 for the first send, n for the n-th retry after a length error
    fits: bool = True  # False: even the most that may be dropped left it over a target
    messages_before: int = 0
    messages_after: int = 0
    tokens_before: int = 0  # calibrated estimates
    tokens_after: int = 0
    bytes_before: int = 0  # measured Kiro body sizes (0 = not measured)
    bytes_after: int = 0
    dropped_messages: int = 0
    shortened_tool_results: int = 0
    shortened_tool_arguments: int = 0
    shortened_texts: int = 0
    removed_images: int = 0
    removed_thinking: int = 0
    chars_removed: int = 0
    summary: Optional[str] = None  # new | cache | failed | None (no summary: a note or nothing dropped)
    summary_reason: Optional[str] = None  # the cache decision (hit, grown, expired, ...) or the failure
    summary_calls: int = 0
    summarised_messages: int = 0  # dropped messages the summary covers
    uncovered_messages: int = 0  # dropped since the cached summary, below the cache's deltas

    @property
    def changed(self) -> bool:
        """True when the request sent differs from the client's."""
        return bool(self.dropped_messages or self.shortened_tool_results or self.shortened_tool_arguments
                    or self.shortened_texts or self.removed_images or self.removed_thinking)

    def as_dict(self) -> dict:
        """The record as plain JSON for the flow store."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Fitted:
    """The chat to send (possibly shortened), the client's original, and what was done."""
    chat: Chat
    original: Chat
    model: KiroModel
    record: FitRecord
    tokens: int  # calibrated estimate of `chat`: the usage figure until Kiro reports its own
    raw_tokens: int  # uncalibrated estimate of `chat`: the calibration sample's left side
    bytes: int = 0  # measured Kiro body size of `chat`, 0 when not measured
    # the measuring build itself, which the relay turns into each account's body; dropped once sent
    built: Optional[BuiltRequest] = field(default=None, repr=False, compare=False)

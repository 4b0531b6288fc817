"""Long conversations: keep every request under Kiro's input limit without losing what matters.

Four strategies, each a setting, freely combined (issue 6, README settings table):

- **retry on length error** (`history_retry_on_too_long`): when Kiro answers "Input is too
  long" (or the body is over `max_body_bytes`), `shrink` gives a smaller request to retry
  before the client sees anything; refused sizes are remembered per model so later requests
  are fitted below them instead of failing again.
- **pre-estimate** (`history_pre_estimate`): `fit` estimates tokens (calibrated against
  Kiro's own figures) and measures the real body bytes, and shrinks ahead of time.
- **auto-truncate** (`history_auto_truncate`): message-count and character limits.
- **smart summary** (`history_smart_summary`): dropped turns are replaced by a summary made by
  a Kiro call of its own (the injected `summarize`), with a per-conversation summary cache.

How a request is shrunk is the same whatever triggered it (`truncate.py`): system prompt,
tools and first user turn kept; old tool output, images and reasoning shortened first; then
whole turns dropped oldest first, never splitting a tool call from its result. Everything
operates on `Chat`, never on protocol JSON, so every protocol gets it.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter
from typing import Callable, Iterable, Iterator, Optional

from proxy.chat import Chat, ServerToolCall, StreamEvent, Usage
from proxy.errors import ErrorKind, ProxyError
from proxy.estimate import CHARS_PER_TOKEN, Estimator, estimate_tokens, fixed_tokens
from proxy.history.costs import BODY_MARGIN, Cost, body_bytes, measuring_build, text_cost
from proxy.history.limits import LearnedLimits
from proxy.history.record import FitRecord, Fitted
from proxy.history.summary import (CacheEntry, Decision, SummaryCache, SummaryFailed, conversation_key,
                                   decide, marker_text, note_text, prefix_digests, rolling_summary)
from proxy.history.truncate import Plan, Planner, Targets
from proxy.kiro.errors import KiroError, KiroErrorKind
from proxy.kiro.models import KiroModel
from proxy.kiro.request import BuiltRequest
from proxy.settings import Settings

__all__ = ["History", "Fitted", "FitRecord", "is_length_error"]

log = logging.getLogger(__name__)

BODY_TOO_LARGE = "BODY_TOO_LARGE"  # build_request's code for a body over max_body_bytes
TOO_LONG = "CONTENT_LENGTH_EXCEEDS_THRESHOLD"
RETRY_FACTOR = 0.5  # each retry aims at half the refused size (or the largest size Kiro took)
RETRY_BYTES_FACTOR = 0.9  # a body still too large after fitting: tighten the byte target
BYTE_FIT_ROUNDS = 3  # re-plans when the measured body misses the byte target
SUMMARY_INPUT_SHARE = 0.5  # of the request budget, for one summary call's input
SUMMARY_MIN_CHARS = 4_000
SUMMARY_MAX_CHARS = 100_000
RESERVE_DROPPED = 99_999  # the marker's message count, at its widest, while planning


def is_length_error(err: BaseException) -> bool:
    """True for the errors `shrink` can fix: Kiro's "Input is too long" and an oversized body."""
    if isinstance(err, KiroError):
        return err.kind is KiroErrorKind.CONTENT_TOO_LONG
    return isinstance(err, ProxyError) and err.kind is ErrorKind.CONTEXT_TOO_LONG \
        and err.code in (TOO_LONG, BODY_TOO_LARGE)


class History:
    """Fits requests under Kiro's limits; shrinks them further when Kiro still refuses."""

    def __init__(self, settings: Settings, summarize: Optional[Callable[[Chat], str]] = None, *,
                 clock: Callable[[], float] = time.monotonic, estimator: Optional[Estimator] = None):
        """`summarize(chat) -> text` sends one request as is (never fitted again) and returns the
        answer's text; it raises ProxyError or KiroError on failure."""
        self.settings = settings
        self.summarize = summarize
        self.clock = clock
        self.estimator = estimator or Estimator(calibrate=settings.token_calibration)
        self.cache = SummaryCache(settings.summary_cache_max_entries)
        self.limits = LearnedLimits(clock)
        self._stats: Counter = Counter()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public

    def fit(self, chat: Chat, model: KiroModel, raw_estimate: Optional[int] = None) -> Fitted:
        """The request to send first: `chat` itself when it fits, else a shortened copy.
        `raw_estimate` is `estimate_tokens(chat)` when the caller has it already."""
        self._count("requests")
        return self._fit(chat, model, self._targets(model), attempt=0, raw_before=raw_estimate)

    def shrink(self, fitted: Fitted, attempt: int, error: Optional[BaseException] = None) -> Optional[Fitted]:
        """A smaller request after `fitted` was refused as too long (attempt = 1, 2, ...);
        None when retrying is off, attempts are used up, or nothing more can be dropped."""
        s = self.settings
        if not s.history_retry_on_too_long or attempt > s.history_max_retries:
            return None
        model = fitted.model
        targets = self._targets(model)
        body_error = isinstance(error, ProxyError) and error.code == BODY_TOO_LARGE
        if body_error:
            sent_bytes = fitted.bytes or self._bytes(fitted.chat, model)
            cap = int((s.max_body_bytes - BODY_MARGIN) * RETRY_BYTES_FACTOR ** (attempt - 1))
            targets.bytes = min(cap, targets.bytes or cap, sent_bytes - 1)
        else:
            self.limits.refused(model.id, fitted.tokens)
            targets.tokens = min(self._retry_goal(model.id, fitted.tokens), targets.tokens or float("inf"))
        self._count("retries")
        smaller = self._fit(fitted.original, model, targets, attempt=attempt)
        if body_error:
            shrunk = smaller.bytes < (fitted.bytes or sent_bytes)
        else:
            shrunk = smaller.raw_tokens < fitted.raw_tokens
        if not shrunk:
            self._count("retry_gave_up")
            return None
        return smaller

    def accepted(self, fitted: Fitted) -> None:
        """Kiro took this request: remember its size as known to fit."""
        self.limits.accepted(fitted.model.id, fitted.tokens)

    def observe(self, fitted: Fitted, usage: Usage) -> bool:
        """Calibrate the estimator from the answer's Usage; False when Kiro gave no figure of its own."""
        if usage.input_tokens <= 0 or usage.input_tokens in (fitted.tokens, fitted.raw_tokens):
            return False  # the parser fell back to our own estimate: nothing to learn
        return self.estimator.observe(fitted.model.id, fitted.raw_tokens, usage.input_tokens)

    def tap(self, fitted: Fitted, events: Iterable[StreamEvent]) -> Iterator[StreamEvent]:
        """Pass the answer's events through, calibrating from its last Usage when it ends."""
        usage: Optional[Usage] = None
        searched = False  # web-search rounds send a longer chat: their usage is not this one's
        try:
            for event in events:
                if isinstance(event, Usage):
                    usage = event
                elif isinstance(event, ServerToolCall):
                    searched = True
                yield event
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # release the upstream now, not when the generator is collected
            if usage is not None and not searched:
                self.observe(fitted, usage)

    def stats(self) -> dict:
        """Counters: requests, changed, retries, summary_calls, summary_cache_hits, ..."""
        with self._lock:
            counts = dict(self._stats)
        counts["summary_cache_entries"] = len(self.cache)
        return counts

    # ------------------------------------------------------------------ fitting

    def _targets(self, model: KiroModel) -> Targets:
        """The bounds in force for a model (tokens are calibrated here, raw once planned)."""
        s = self.settings
        targets = Targets()
        if s.history_pre_estimate:
            targets.tokens = model.context_window * s.history_window_fraction
            if s.history_max_input_tokens > 0:
                targets.tokens = min(targets.tokens, s.history_max_input_tokens)
            targets.bytes = s.max_body_bytes - BODY_MARGIN
        if s.history_pre_estimate or s.history_retry_on_too_long:
            learned = self.limits.budget(model.id)
            if learned is not None:
                targets.tokens = min(targets.tokens or float("inf"), learned)
        if s.history_auto_truncate:
            targets.messages = s.history_max_messages or None
            targets.chars = s.history_max_chars or None
        return targets

    def _retry_goal(self, model_id: str, refused: int) -> float:
        """Half the refused size, or the largest size Kiro took if that is closer."""
        goal = refused * RETRY_FACTOR
        good = self.limits.known_good(model_id)
        if good is not None and goal < good < refused:
            goal = good
        return goal

    def _bytes(self, chat: Chat, model: KiroModel) -> int:
        return body_bytes(chat, model.id, self.settings.max_tool_description)

    def _measure(self, chat: Chat, model: KiroModel) -> BuiltRequest:
        return measuring_build(chat, model.id, self.settings.max_tool_description)

    def _fit(self, chat: Chat, model: KiroModel, targets: Targets, attempt: int,
             raw_before: Optional[int] = None) -> Fitted:
        """Plan against `targets`, summarise what is dropped, and measure the result."""
        s = self.settings
        factor = self.estimator.factor(model.id)
        if raw_before is None:
            raw_before = estimate_tokens(chat)
        record = FitRecord(attempt=attempt, messages_before=len(chat.messages),
                           tokens_before=self.estimator.scale(raw_before, model.id))
        if all(v is None for v in dataclasses.astuple(targets)):
            return self._unchanged(chat, model, record, raw_before, None)
        built = self._measure(chat, model) if targets.bytes is not None else None
        measured = len(built.body) if built is not None else 0
        record.bytes_before = measured
        if targets.messages is None and targets.chars is None and \
                (targets.tokens is None or raw_before <= targets.tokens / factor) and \
                (targets.bytes is None or measured <= targets.bytes):
            return self._unchanged(chat, model, record, raw_before, built)  # the common case, quickly
        planner = Planner(chat.messages, fixed=Cost(fixed_tokens(chat), 0, 0), keep_recent=s.history_keep_recent,
                          limit=s.history_tool_result_max_chars)
        if measured:  # what the per-message approximation does not see: system, tools, framing
            planner.fixed = Cost(planner.fixed.tokens, measured - sum(c.bytes for c in planner.costs), 0)
        raw = Targets(None if targets.tokens is None else targets.tokens / factor, targets.bytes,
                      targets.messages, targets.chars)
        summarising = s.history_smart_summary and self.summarize is not None
        filler = summary_filler(s) if summarising else note_text(RESERVE_DROPPED)
        plan = self._plan(chat, model, planner, raw, targets, filler)
        summary, cut = None, plan.cut
        if plan.dropped and summarising:
            plan, summary, cut = self._summarised(chat, model, planner, raw, targets, plan, record)
        if not plan.changed:
            record.fits = plan.fits
            return self._unchanged(chat, model, record, raw_before, built)
        record.strategies = self._triggers(planner, raw_before, measured, raw, attempt)
        if summarising and plan.dropped:
            record.strategies.append("summary")
        marker = (marker_text(summary, cut - plan.head) if summary else note_text(cut - plan.head)) \
            if cut > plan.head else None
        sent = dataclasses.replace(chat, messages=plan.assemble(marker, cut))
        raw_after = estimate_tokens(sent)
        after = self._measure(sent, model) if targets.bytes is not None else None
        after_bytes = len(after.body) if after is not None else 0
        self._fill(record, plan, cut, sent, raw_after, after_bytes, model)
        self._count("changed")
        if not plan.fits:
            self._count("not_fitting")
        log.info("history fitted a request for %s: %s", model.id, record.as_dict())
        return Fitted(sent, chat, model, record, record.tokens_after, raw_after, after_bytes, after)

    def _plan(self, chat: Chat, model: KiroModel, planner: Planner, raw: Targets, targets: Targets,
              filler: str) -> Plan:
        """Plan with room for `filler` (the marker at its largest) in place of dropped turns; when
        bytes are bounded, check the real body and re-plan if the approximation fell short."""
        reserve = text_cost(filler)
        plan = planner.plan(raw, reserve)
        for _ in range(BYTE_FIT_ROUNDS):
            if targets.bytes is None or not plan.fits or not plan.changed:
                break
            size = self._bytes(dataclasses.replace(chat, messages=plan.assemble(filler)), model)
            if size <= targets.bytes:
                break
            raw = dataclasses.replace(raw, bytes=raw.bytes - (size - targets.bytes) - BODY_MARGIN // 4)
            plan = planner.plan(raw, reserve)
        return plan

    @staticmethod
    def _triggers(planner: Planner, raw_tokens: int, measured: int, raw: Targets, attempt: int) -> list[str]:
        """Which strategies found the request over a bound."""
        found = []
        if (raw.tokens is not None and raw_tokens > raw.tokens) or (raw.bytes is not None and measured > raw.bytes):
            found.append("retry" if attempt else "pre_estimate")
        chars = sum(c.chars for c in planner.costs)
        if (raw.messages is not None and len(planner.costs) > raw.messages) or \
                (raw.chars is not None and chars > raw.chars):
            found.append("auto_truncate")
        return found or (["retry"] if attempt else [])

    def _unchanged(self, chat: Chat, model: KiroModel, record: FitRecord, raw: int,
                   built: Optional[BuiltRequest]) -> Fitted:
        """The client's chat, sent as it is."""
        measured = len(built.body) if built is not None else 0
        record.messages_after = record.messages_before
        record.tokens_after = record.tokens_before
        record.bytes_after = measured
        return Fitted(chat, chat, model, record, record.tokens_before, raw, measured, built)

    def _fill(self, record: FitRecord, plan: Plan, cut: int, sent: Chat, raw_after: int, after_bytes: int,
              model: KiroModel) -> None:
        """Sizes and counts of what was done, into the record."""
        record.fits = plan.fits
        record.messages_after = len(sent.messages)
        record.tokens_after = self.estimator.scale(raw_after, model.id)
        record.bytes_after = after_bytes
        record.dropped_messages = cut - plan.head
        counts = plan.counts(cut)  # only what the sent turns lost; dropped turns count as dropped
        record.shortened_tool_results = counts.tool_results
        record.shortened_tool_arguments = counts.tool_arguments
        record.shortened_texts = counts.texts
        record.removed_images = counts.images
        record.removed_thinking = counts.thinking
        record.chars_removed = counts.chars_removed

    # ------------------------------------------------------------------ summary

    def _summarised(self, chat: Chat, model: KiroModel, planner: Planner, raw: Targets, targets: Targets,
                    plan: Plan, record: FitRecord) -> tuple[Plan, Optional[str], int]:
        """The plan to send, the summary standing in for its dropped turns and the cut: the cached one
        when the cache rules allow, else a new one covering a deeper cut, so that the next
        turns fit under it and reuse it (and the prefix Kiro sees stays the same)."""
        s = self.settings
        head, tail = plan.head, chat.messages[plan.head:]
        key = conversation_key(chat, head)
        entry = self.cache.get(key) if s.summary_cache_enabled else None
        digests = prefix_digests(tail, len(tail))
        chars = [0]
        for cost in planner.costs[head:]:
            chars.append(chars[-1] + cost.chars)

        def rule(dropped: int) -> Decision:
            return decide(entry, enabled=s.summary_cache_enabled, now=self.clock(),
                          max_age=s.summary_cache_max_age_seconds, dropped=dropped, digests=digests,
                          chars=chars, min_delta_messages=s.summary_cache_min_delta_messages,
                          min_delta_chars=s.summary_cache_min_delta_chars)

        decision = rule(plan.dropped)
        if entry is not None and decision.reason not in ("changed", "expired"):
            # plan again with the cached summary's real size instead of the largest one
            exact = self._plan(chat, model, planner, raw, targets, marker_text(entry.summary, RESERVE_DROPPED))
            if not exact.dropped:
                return exact, None, exact.cut
            decision = rule(exact.dropped)
            if decision.hit and entry.covered > exact.dropped and head + entry.covered not in exact.cuts:
                decision = Decision(False, "changed")  # its cut no longer keeps tool pairs together
            if decision.hit:
                self._count("summary_cache_hits")
                record.summary, record.summary_reason = "cache", decision.reason
                record.summarised_messages = entry.covered
                record.uncovered_messages = max(0, exact.dropped - entry.covered)
                return exact, entry.summary, max(exact.cut, head + entry.covered)
        record.summary_reason = decision.reason
        self._count("summary_cache_misses")
        deeper = plan
        if s.history_drop_slack > 0 and s.summary_cache_enabled:
            roomy = self._plan(chat, model, planner, _scaled(raw, s.history_drop_slack),
                               _scaled(targets, s.history_drop_slack), summary_filler(s))
            if roomy.fits and roomy.dropped >= plan.dropped:
                deeper = roomy
        base = decision.base
        start, previous = (base.covered, base.summary) if base else (0, "")
        try:
            text, calls = rolling_summary(self.summarize, s.history_summary_model or chat.model,
                                          tail[start:deeper.dropped], previous, budget=self._summary_budget(raw),
                                          max_calls=s.history_summary_max_calls,
                                          max_chars=s.history_summary_max_chars)
        except (SummaryFailed, ProxyError, KiroError) as e:
            log.warning("history summary failed, dropping turns with a note instead: %s", e)
            self._count("summary_failures")
            record.summary, record.summary_reason = "failed", f"{decision.reason}; {e}"[:300]
            return plan, None, plan.cut
        self._count("summary_calls", calls)
        dropped = deeper.dropped
        if s.summary_cache_enabled:
            self.cache.put(key, CacheEntry(text, dropped, digests[dropped], chars[dropped], self.clock()))
        record.summary, record.summary_calls, record.summarised_messages = "new", calls, dropped
        return deeper, text, deeper.cut

    @staticmethod
    def _summary_budget(raw: Targets) -> int:
        """Characters of conversation one summary call may read: half the request budget."""
        limits = [SUMMARY_MAX_CHARS]
        if raw.tokens is not None:
            limits.append(int(raw.tokens * CHARS_PER_TOKEN * SUMMARY_INPUT_SHARE))
        if raw.bytes is not None:
            limits.append(int(raw.bytes * SUMMARY_INPUT_SHARE))
        return max(SUMMARY_MIN_CHARS, min(limits))

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._stats[name] += n


def summary_filler(settings: Settings) -> str:
    """What planning sets room aside for when a summary is not written yet: the largest allowed."""
    return marker_text("x" * settings.history_summary_max_chars, RESERVE_DROPPED)


def _scaled(targets: Targets, slack: float) -> Targets:
    """`targets` lowered by the share `slack` (a message count by at least one)."""
    keep = 1.0 - slack
    return Targets(None if targets.tokens is None else targets.tokens * keep,
                   None if targets.bytes is None else int(targets.bytes * keep),
                   None if targets.messages is None else min(targets.messages - 1, int(targets.messages * keep)),
                   None if targets.chars is None else int(targets.chars * keep))

"""Auto-truncation: plan which old context to shorten or drop so a request fits its targets.

Rules (issue 6): the system prompt and tools are never touched; the first user turn (it often
holds the task and its constraints) and the newest turns are kept; old tool results, tool
arguments, images and replayed reasoning are shortened before any whole turn is dropped; turns
are dropped oldest first and only at cut points that keep every tool call with its result, so
Kiro's pairing rule holds without relying on the request builder's repairs. The client's
messages are never modified: shortened turns are copies.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

from proxy.chat import ImagePart, Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.history.costs import ZERO, Cost, message_cost

IMAGE_REMOVED = "[image removed by the proxy to fit the model's input limit]"
CUT_MARK = "\n[... {n} characters cut here by the proxy to fit the model's input limit ...]\n"
MIN_KEEP_CHARS = 200  # below this a cut saves too little to be worth the lost meaning
HARD_DIVISOR = 4  # the last-resort pass keeps a quarter of what the normal pass keeps


@dataclass
class Counts:
    """What shortening did, for the flow record."""
    tool_results: int = 0  # tool results cut
    tool_arguments: int = 0  # tool calls whose long string arguments were cut
    texts: int = 0  # text parts cut (last resort only)
    images: int = 0  # images removed
    thinking: int = 0  # replayed reasoning parts removed
    chars_removed: int = 0

    def add(self, other: "Counts") -> None:
        """Accumulate another message's counts."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def any(self) -> bool:
        """True when anything was shortened or removed."""
        return any(getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "chars_removed")


@dataclass
class Targets:
    """Upper bounds a request must meet; None = no bound. Tokens are raw (uncalibrated) estimates."""
    tokens: Optional[float] = None
    bytes: Optional[int] = None
    messages: Optional[int] = None
    chars: Optional[int] = None


def cut_middle(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters: head and tail kept, a visible mark in between."""
    if len(text) <= limit:
        return text
    head = (limit * 2) // 3
    tail = limit - head
    removed = len(text) - head - tail
    return text[:head] + CUT_MARK.format(n=removed) + (text[-tail:] if tail else "")


def _cut_value(value: Any, limit: int, counts: Counts) -> Any:
    """Tool arguments with every long string cut (nested objects and arrays included)."""
    if isinstance(value, str) and len(value) > limit:
        cut = cut_middle(value, limit)
        counts.chars_removed += len(value) - len(cut)
        return cut
    if isinstance(value, dict):
        return {k: _cut_value(v, limit, counts) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_value(v, limit, counts) for v in value]
    return value


def lighten(message: Message, limit: int, *, texts: bool = False) -> tuple[Message, Counts]:
    """A copy without images or replayed reasoning, tool output and arguments cut to `limit`
    characters (and, when `texts`, plain text too); the same object if nothing changed."""
    limit = max(MIN_KEEP_CHARS, limit)
    counts = Counts()
    parts: list = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            counts.images += 1
            parts.append(TextPart(IMAGE_REMOVED))
        elif isinstance(part, ThinkingPart):
            counts.thinking += 1
            counts.chars_removed += len(part.text)
        elif isinstance(part, ToolResultPart):
            content = part.content
            if len(content) > limit:
                content = cut_middle(content, limit)
                counts.tool_results += 1
                counts.chars_removed += len(part.content) - len(content)
            if part.images:
                counts.images += len(part.images)
                content = f"{content}\n{IMAGE_REMOVED}" if content else IMAGE_REMOVED
            parts.append(part if content == part.content and not part.images else
                         ToolResultPart(part.call_id, content, part.is_error, []))
        elif isinstance(part, ToolCallPart):
            before = counts.chars_removed
            args = _cut_value(part.arguments, limit, counts)
            if counts.chars_removed != before:
                counts.tool_arguments += 1
                part = ToolCallPart(part.id, part.name, args)
            parts.append(part)
        elif isinstance(part, TextPart) and texts and len(part.text) > limit:
            counts.texts += 1
            cut = cut_middle(part.text, limit)
            counts.chars_removed += len(part.text) - len(cut)
            parts.append(TextPart(cut))
        else:
            parts.append(part)
    if not counts.any():
        return message, counts
    return Message(message.role, parts), counts


def head_end(messages: list[Message]) -> int:
    """Index after the first user turn: everything before it is kept as it is."""
    for i, message in enumerate(messages):
        if message.role == "user":
            return i + 1
    return 0


def valid_cuts(messages: list[Message], start: int) -> list[int]:
    """Indices c (start < c < len) where dropping messages[start:c] orphans no tool result:
    no result at or after c answers a call before c. The last message is always kept."""
    n = len(messages)
    # answers[i]: the earliest call a result in message i answers. A result answers the nearest
    # earlier call with its id: clients that number calls per turn reuse `call_0` every round.
    answers = [n] * n
    last_call: dict[str, int] = {}
    for i, message in enumerate(messages):
        for part in message.parts:
            if isinstance(part, ToolResultPart) and part.call_id in last_call:
                answers[i] = min(answers[i], last_call[part.call_id])
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                last_call[part.id] = i
    earliest = n  # the earliest call answered at or after the index being looked at
    ok = [False] * n
    for i in range(n - 1, -1, -1):
        earliest = min(earliest, answers[i])
        ok[i] = earliest >= i
    return [c for c in range(start + 1, n) if ok[c]]


@dataclass
class Plan:
    """Where to cut and which messages were shortened; `assemble` gives the messages to send."""
    messages: list[Message]  # every original index, shortened copies where shortened
    head: int  # messages[:head] is the kept head (first user turn and anything before it)
    cut: int  # first kept index after the head; == head when nothing is dropped
    fits: bool
    shortened: dict[int, Counts] = field(default_factory=dict)  # index -> what shortening did there
    cuts: list[int] = field(default_factory=list)  # every valid cut, ascending

    def counts(self, cut: Optional[int] = None) -> Counts:
        """What shortening did in the turns that are sent (the head and those from `cut` on)."""
        cut = self.cut if cut is None else cut
        total = Counts()
        for i, counts in self.shortened.items():
            if i < self.head or i >= cut:
                total.add(counts)
        return total

    @property
    def changed(self) -> bool:
        """True when anything is dropped or any sent turn was shortened."""
        return self.cut > self.head or self.counts().any()

    @property
    def dropped(self) -> int:
        """How many messages are dropped."""
        return self.cut - self.head

    def assemble(self, marker: Optional[str], cut: Optional[int] = None) -> list[Message]:
        """Head, the marker (summary or note) in place of the dropped turns, then the kept turns."""
        cut = self.cut if cut is None else cut
        inserted = [Message("user", [TextPart(marker)])] if marker and cut > self.head else []
        return self.messages[: self.head] + inserted + self.messages[cut:]


class Planner:
    """Plans one conversation against different targets (pre-estimate, then each retry)."""

    def __init__(self, messages: list[Message], *, fixed: Cost, keep_recent: int, limit: int):
        self.messages = messages
        self.fixed = fixed  # what is not in the messages: system, tools, body framing
        self.limit = limit  # tool_result_max_chars
        self.costs = [message_cost(m) for m in messages]
        self.head = head_end(messages)
        self.cuts = valid_cuts(messages, self.head)
        n = len(messages)
        self.recent = max(self.head, n - max(1, keep_recent))  # first index of the newest turns

    def plan(self, targets: Targets, marker: Cost) -> Plan:
        """The least shortening, then the fewest dropped turns, that meet `targets`."""
        state = _State(self, targets, marker)
        if not state.over(self.head):
            return state.result(self.head, fits=True)
        last = self.cuts[-1] if self.cuts else self.head
        # 1. The turns that are kept whatever happens must fit on their own; shorten them
        #    first, or everything older would be dropped and the request still not fit.
        keep = list(range(last, len(self.messages))) + list(range(self.head))
        for hard in (False, True):
            if not state.over(last, size_only=True):
                break
            for i in keep:
                state.lighten(i, hard)
                if not state.over(last, size_only=True):
                    break
        if state.over(last, size_only=True):
            return state.result(last, fits=False)
        # 2. Old tool output, images and reasoning, oldest first, before any whole turn.
        if state.over(self.head, size_only=True):
            for i in range(self.head, self.recent):
                state.lighten(i, False)
                if not state.over(self.head, size_only=True):
                    break
        if not state.over(self.head):
            return state.result(self.head, fits=True)
        # 3. Whole turns, oldest first, at cut points that keep tool pairs together.
        for c in self.cuts:
            if not state.over(c):
                return state.result(c, fits=True)
        return state.result(last, fits=not state.over(last))


class _State:
    """One planning run: the shortened messages so far and their running costs."""

    def __init__(self, planner: Planner, targets: Targets, marker: Cost):
        self.p = planner
        self.targets = targets
        self.marker = marker
        self.messages = list(planner.messages)
        self.costs = list(planner.costs)
        self.shortened: dict[int, Counts] = {}
        self.head_cost = sum(self.costs[: planner.head], ZERO)
        self.tail_cost = sum(self.costs[planner.head:], ZERO)  # all after the head
        self._prefix: Optional[list[Cost]] = None  # running sums over the tail, per version

    def lighten(self, i: int, hard: bool) -> None:
        """Shorten message i (hard: a quarter of the limit, plain text too)."""
        limit = self.p.limit // HARD_DIVISOR if hard else self.p.limit
        message, counts = lighten(self.messages[i], limit, texts=hard)
        if message is self.messages[i]:
            return
        cost = message_cost(message)
        delta = cost - self.costs[i]
        if i < self.p.head:
            self.head_cost = self.head_cost + delta
        else:
            self.tail_cost = self.tail_cost + delta
        self.messages[i], self.costs[i] = message, cost
        self.shortened.setdefault(i, Counts()).add(counts)
        self._prefix = None

    def _dropped(self, cut: int) -> Cost:
        """The cost of messages[head:cut]."""
        if cut <= self.p.head:
            return ZERO
        if self._prefix is None:
            running, sums = ZERO, [ZERO]
            for cost in self.costs[self.p.head:]:
                running = running + cost
                sums.append(running)
            self._prefix = sums
        return self._prefix[cut - self.p.head]

    def over(self, cut: int, size_only: bool = False) -> bool:
        """Whether the request cut at `cut` still breaks a target."""
        t = self.targets
        total = self.p.fixed + self.head_cost + self.tail_cost - self._dropped(cut)
        if cut > self.p.head:
            total = total + self.marker
        if (t.tokens is not None and total.tokens > t.tokens) or \
                (t.bytes is not None and total.bytes > t.bytes) or \
                (t.chars is not None and total.chars > t.chars):
            return True
        if size_only or t.messages is None:
            return False
        count = len(self.messages) - (cut - self.p.head) + (1 if cut > self.p.head else 0)
        return count > t.messages

    def result(self, cut: int, fits: bool) -> Plan:
        """The plan for cutting at `cut`."""
        return Plan(self.messages, self.p.head, cut, fits, self.shortened, list(self.p.cuts))

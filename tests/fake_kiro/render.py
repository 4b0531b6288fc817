"""Turn a ReplyPlan into event-stream frames: text deltas, tool-call fragments, usage frames.

The pieces are kept apart (`StreamParts`) so faults can cut or corrupt the stream precisely.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import secrets
import string
from dataclasses import dataclass, field
from typing import Optional

from .eventstream import event_frame
from .script import ReplyPlan, ToolCall

_BASE62 = string.ascii_letters + string.digits


def tool_use_id() -> str:
    """A Kiro-style id: `tooluse_` + 22 base62 characters."""
    return "tooluse_" + "".join(secrets.choice(_BASE62) for _ in range(22))


def split_text(text: str, size: int) -> list[str]:
    """Deltas of `size` chars, except that the first doubled character (`ll` in Hello) becomes
    two identical consecutive one-char deltas - a legitimate repeat that catches dedup bugs."""
    def chunks(part: str) -> list[str]:
        return [part[i:i + size] for i in range(0, len(part), size)]
    for i in range(len(text) - 1):
        if text[i] == text[i + 1] and not text[i].isspace():
            return chunks(text[:i]) + [text[i], text[i + 1]] + chunks(text[i + 2:])
    return chunks(text)


def split_arguments(arguments: str, max_size: int, seed: str) -> list[str]:
    """Split tool-argument JSON at arbitrary positions (seeded), always once right after the
    first backslash so an escape sequence straddles two fragments."""
    rng = random.Random(seed)
    cuts = set()
    pos = 0
    while True:
        pos += rng.randint(1, max(1, max_size))
        if pos >= len(arguments):
            break
        cuts.add(pos)
    backslash = arguments.find("\\")
    if backslash >= 0:
        cuts.add(backslash + 1)
    edges = [0] + sorted(cuts) + [len(arguments)]
    return [arguments[a:b] for a, b in zip(edges, edges[1:]) if b > a]


def tool_frames(call: ToolCall, use_id: str, max_fragment: int, complete: bool = True) -> list[bytes]:
    """Start frames, input fragments and (unless truncated) the stop frame; keys alphabetical (§3.2).

    A truncated call keeps only the first half of its fragments and no stop frame."""
    name = call.name
    frames = [event_frame("toolUseEvent", {"name": name, "toolUseId": use_id}),
              event_frame("toolUseEvent", {"input": "", "name": name, "toolUseId": use_id})]
    fragments = split_arguments(json.dumps(call.input, ensure_ascii=False), max_fragment, use_id)
    if not complete:
        fragments = fragments[:max(1, len(fragments) // 2)]
    frames += [event_frame("toolUseEvent", {"input": f, "name": name, "toolUseId": use_id}) for f in fragments]
    if complete:
        frames.append(event_frame("toolUseEvent", {"name": name, "stop": True, "toolUseId": use_id}))
    return frames


def reasoning_frames(text: str, size: int) -> list[bytes]:
    """reasoningContentEvent text deltas followed by a signature frame."""
    signature = base64.b64encode(hashlib.sha256(text.encode()).digest() * 3).decode()
    frames = [event_frame("reasoningContentEvent", {"text": part}) for part in split_text(text, size)]
    return frames + [event_frame("reasoningContentEvent", {"signature": signature})]


def output_tokens(plan: ReplyPlan) -> int:
    """Output-token estimate: (text + reasoning + tool arguments) characters / 4, rounded up."""
    chars = len(plan.text) + len(plan.reasoning or "")
    chars += sum(len(json.dumps(c.input)) for c in plan.tool_calls)
    return max(1, math.ceil(chars / 4))


def context_percentage(input_tokens: int, window: int) -> float:
    """contextUsagePercentage = input_tokens / window * 100, 4 decimals."""
    return round(input_tokens / window * 100, 4)


@dataclass
class StreamParts:
    """The frames of one response, in order: reasoning, text, tools, then the usage tail."""
    reasoning: list = field(default_factory=list)
    text: list = field(default_factory=list)
    tools: list = field(default_factory=list)
    tail: list = field(default_factory=list)
    tool_ids: list = field(default_factory=list)

    def body(self) -> list[bytes]:
        """Everything before the usage tail."""
        return self.reasoning + self.text + self.tools

    def all(self) -> list[bytes]:
        """The complete stream."""
        return self.body() + self.tail


def render(plan: ReplyPlan, *, input_tokens: int, window: int, credits: float, text_chunk: int,
           fragment_chars: int, emit_metadata: bool, truncate_tools: bool = False) -> StreamParts:
    """All frames for a plan; `truncate_tools` cuts the first tool call short and drops everything after."""
    parts = StreamParts()
    if plan.reasoning:
        parts.reasoning = reasoning_frames(plan.reasoning, text_chunk)
    parts.text = [event_frame("assistantResponseEvent", {"content": d}) for d in split_text(plan.text, text_chunk)]
    for call in plan.tool_calls:
        use_id = tool_use_id()
        parts.tool_ids.append(use_id)
        parts.tools += tool_frames(call, use_id, fragment_chars, complete=not truncate_tools)
        if truncate_tools:
            return parts  # upstream truncation: no stop, no metering, no context usage (§3.6)
    pct = context_percentage(input_tokens, window)
    parts.tail = [event_frame("meteringEvent", {"unit": "credit", "unitPlural": "credits", "usage": credits}),
                  event_frame("contextUsageEvent", {"contextUsagePercentage": pct})]
    if emit_metadata:
        out = output_tokens(plan)
        parts.tail.append(event_frame("metadataEvent", {
            "tokenUsage": {"uncachedInputTokens": input_tokens, "outputTokens": out,
                           "totalTokens": input_tokens + out, "cacheReadInputTokens": 0,
                           "cacheWriteInputTokens": 0, "contextUsagePercentage": pct},
            "stopReason": "TOOL_USE" if plan.tool_calls else "END_TURN"}))
    return parts


def truncated_plan(plan: ReplyPlan, fallback: Optional[ToolCall] = None) -> ReplyPlan:
    """The plan to use for the truncated_tool fault: keep its tool call or add a large Write-like one."""
    if plan.tool_calls:
        return plan
    call = fallback or ToolCall("fake_write", {"path": "notes.txt", "content": "line\n" * 40})
    return ReplyPlan("Writing the file.", [call], plan.reasoning, directive="truncated_tool")

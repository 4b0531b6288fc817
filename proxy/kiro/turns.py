"""Chat messages shaped into the turn sequence Kiro accepts (kiro-upstream §2.2).

Kiro rejects with `Improperly formed request` any history that does not start with a user
turn, strictly alternate, and end with an assistant turn before the current user message;
any empty content outside tool turns; any tool call not answered in the very next user
turn and any tool result not answering the turn just before; duplicate ids in one list;
ids outside `[a-zA-Z0-9_-]{1,64}`. `shape_turns` repairs all of these. Nothing is dropped
silently: unpaired tool calls and results become plain text the model can still read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Union

from proxy.chat import (ImagePart, Message, TextPart, ThinkingPart, ToolCallPart,
                        ToolResultPart)
from proxy.kiro.naming import hashed_name, safe_tool_use_id

# Placeholders for content Kiro would reject as empty (§2.2-3 lists what proxies use and
# what is known to work).
TOOL_RESULTS_TEXT = "Tool results provided."  # user turn carrying only tool results (§8)
EMPTY_USER_TEXT = "(empty)"  # user turn with nothing to say (image only, filler turn)
CONTINUE_TEXT = "Continue"  # current message after a trailing assistant prefill (§2.2-2)
TOOL_ONLY_ASSISTANT_TEXT = " "  # assistant turn with only tool calls; kiro.rs sends this
EMPTY_ASSISTANT_TEXT = "(empty)"  # assistant turn with nothing at all
EMPTY_TOOL_RESULT_TEXT = "(empty)"  # a tool that returned nothing; Kiro wants text
ASSISTANT_IMAGE_TEXT = "[image omitted]"  # Kiro's assistant turns carry no images
UNSUPPORTED_IMAGE_TEXT = "[image of unsupported type {media_type} omitted]"

# The only image formats Kiro takes (§2.3), by the media type clients send.
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg",
                 "image/gif": "gif", "image/webp": "webp"}

PART_SEPARATOR = "\n\n"  # between text blocks of one turn and between merged turns


@dataclass
class UserTurn:
    """A Kiro user turn: text, images and results (ids already Kiro-safe)."""
    text: str = ""
    images: list[ImagePart] = field(default_factory=list)
    results: list[ToolResultPart] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when the turn carries nothing at all."""
        return not (self.text.strip() or self.images or self.results)


@dataclass
class AssistantTurn:
    """A Kiro assistant turn: replayed thinking, text and tool calls (ids already Kiro-safe)."""
    text: str = ""
    thinking: str = ""
    calls: list[ToolCallPart] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when the turn carries nothing at all."""
        return not (self.text.strip() or self.thinking.strip() or self.calls)

    def content(self) -> str:
        """The `content` Kiro gets: earlier thinking replayed as a tag block, then the text."""
        if self.thinking.strip():
            return f"<thinking>{self.thinking}</thinking>{PART_SEPARATOR}{self.text}".rstrip()
        return self.text


Turn = Union[UserTurn, AssistantTurn]


def shape_turns(messages: list[Message]) -> list[Turn]:
    """Turns alternating user/assistant, starting and ending with a user turn, tools paired."""
    turns = _merge([t for t in (_convert(m) for m in messages) if not t.is_empty()])
    if turns and isinstance(turns[0], AssistantTurn):
        turns.insert(0, UserTurn())
    if not turns or isinstance(turns[-1], AssistantTurn):
        turns.append(UserTurn(text=CONTINUE_TEXT))
    _pair_tools(turns)
    _renumber_reused_ids(turns)
    for turn in turns:
        _fill_placeholder(turn)
    return turns


def join_text(*pieces: str) -> str:
    """Non-empty pieces joined with the block separator."""
    return PART_SEPARATOR.join(p for p in pieces if p.strip())


def call_as_text(call: ToolCallPart) -> str:
    """A tool call the upstream may not see as a call, written out for the model."""
    args = json.dumps(call.arguments, ensure_ascii=False)
    return f"[Called {call.name} with args: {args}]"


def result_as_text(result: ToolResultPart, name: str) -> str:
    """A tool result the upstream may not see as a result, written out for the model."""
    label = "Tool error" if result.is_error else "Tool result"
    return f"[{label} for {name}]: {result.content}"


def _convert(message: Message) -> Turn:
    """One message as a turn of its role; parts the role cannot carry become text."""
    texts: list[str] = []
    if message.role == "assistant":
        turn = AssistantTurn()
        thinking: list[str] = []
        for part in message.parts:
            if isinstance(part, TextPart):
                texts.append(part.text)
            elif isinstance(part, ThinkingPart):
                thinking.append(part.text)
            elif isinstance(part, ToolCallPart):
                turn.calls.append(_safe_call(part))
            elif isinstance(part, ToolResultPart):
                texts.append(result_as_text(part, part.call_id))
            elif isinstance(part, ImagePart):
                texts.append(ASSISTANT_IMAGE_TEXT)
        turn.text, turn.thinking = join_text(*texts), join_text(*thinking)
        return turn
    user = UserTurn()
    for part in message.parts:
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, ImagePart):
            if part.media_type.lower() in IMAGE_FORMATS:
                user.images.append(part)
            else:
                texts.append(UNSUPPORTED_IMAGE_TEXT.format(media_type=part.media_type))
        elif isinstance(part, ToolResultPart):
            user.results.append(_safe_result(part))
        elif isinstance(part, ToolCallPart):
            texts.append(call_as_text(part))
        # a ThinkingPart in a user turn has no meaning upstream and is left out
    user.text = join_text(*texts)
    return user


def _safe_call(call: ToolCallPart) -> ToolCallPart:
    """The call with a Kiro-safe id and an object for arguments."""
    args = call.arguments if isinstance(call.arguments, dict) else \
        ({} if call.arguments is None else {"value": call.arguments})
    return ToolCallPart(id=safe_tool_use_id(call.id), name=call.name, arguments=args)


def _safe_result(result: ToolResultPart) -> ToolResultPart:
    """The result with a Kiro-safe id; images Kiro cannot take become a note in its text."""
    images = [i for i in result.images if i.media_type.lower() in IMAGE_FORMATS]
    notes = [UNSUPPORTED_IMAGE_TEXT.format(media_type=i.media_type)
             for i in result.images if i not in images]
    return ToolResultPart(call_id=safe_tool_use_id(result.call_id),
                          content=join_text(result.content or "", *notes),
                          is_error=result.is_error, images=images)


def _merge(turns: list[Turn]) -> list[Turn]:
    """Same-role neighbours folded into one turn (a retried assistant turn, split user turns)."""
    merged: list[Turn] = []
    for turn in turns:
        last = merged[-1] if merged else None
        if isinstance(turn, UserTurn) and isinstance(last, UserTurn):
            last.text = join_text(last.text, turn.text)
            last.images += turn.images
            last.results += turn.results
        elif isinstance(turn, AssistantTurn) and isinstance(last, AssistantTurn):
            last.text = join_text(last.text, turn.text)
            last.thinking = join_text(last.thinking, turn.thinking)
            last.calls += turn.calls
        else:
            merged.append(turn)
    return merged


def _pair_tools(turns: list[Turn]) -> None:
    """Keep only calls answered by the next turn and results answering the previous one."""
    names = {c.id: c.name for t in turns if isinstance(t, AssistantTurn) for c in t.calls}
    for turn in turns:
        if isinstance(turn, AssistantTurn):
            turn.calls = _unique_calls(turn.calls)
    for i, turn in enumerate(turns):
        if not isinstance(turn, UserTurn):
            continue
        previous = turns[i - 1] if i > 0 else None
        offered = {c.id for c in previous.calls} if isinstance(previous, AssistantTurn) else set()
        kept, orphans, seen = [], [], set()
        for result in turn.results:
            if result.call_id in seen:
                continue  # Kiro rejects a repeated toolUseId in one list (§2.2-5); first wins
            seen.add(result.call_id)
            (kept if result.call_id in offered else orphans).append(result)
        for result in turn.results:
            turn.images += result.images  # tool images travel on the user turn (§2.1)
        turn.results = kept
        orphan_text = [result_as_text(r, names.get(r.call_id, r.call_id)) for r in orphans]
        turn.text = join_text(*orphan_text, turn.text)
        if isinstance(previous, AssistantTurn):
            answered = {r.call_id for r in kept}
            unanswered = [c for c in previous.calls if c.id not in answered]
            previous.calls = [c for c in previous.calls if c.id in answered]
            previous.text = join_text(previous.text, *(call_as_text(c) for c in unanswered))


def _renumber_reused_ids(turns: list[Turn]) -> None:
    """Give a toolUseId already used by an earlier turn a fresh one, in its result too.

    Clients that number calls per turn (`call_0` every time) reuse ids; one id naming two
    different calls in a conversation is ambiguous, and the fake Kiro rejects it.
    """
    seen: set[str] = set()
    for i, turn in enumerate(turns):
        if not isinstance(turn, AssistantTurn):
            continue
        renamed: dict[str, str] = {}
        for call in turn.calls:
            if call.id in seen:
                new_id = safe_tool_use_id(f"{call.id}_{i}")
                while new_id in seen:
                    new_id = hashed_name(new_id)
                renamed[call.id], call.id = new_id, new_id
            seen.add(call.id)
        answer = turns[i + 1]  # pairing guarantees a user turn follows with the results
        for result in answer.results if isinstance(answer, UserTurn) else []:
            result.call_id = renamed.get(result.call_id, result.call_id)


def _unique_calls(calls: list[ToolCallPart]) -> list[ToolCallPart]:
    """Calls with repeated ids removed (a merged retry repeats them); first wins."""
    seen: set[str] = set()
    unique = []
    for call in calls:
        if call.id not in seen:
            seen.add(call.id)
            unique.append(call)
    return unique


def _fill_placeholder(turn: Turn) -> None:
    """Give a turn whose content would be empty the placeholder Kiro accepts for its kind."""
    if isinstance(turn, UserTurn):
        if not turn.text.strip():
            turn.text = TOOL_RESULTS_TEXT if turn.results else EMPTY_USER_TEXT
    elif not turn.content().strip():
        turn.text = TOOL_ONLY_ASSISTANT_TEXT if turn.calls else EMPTY_ASSISTANT_TEXT

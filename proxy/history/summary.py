"""Smart summary: the dropped early turns become a summary written by a Kiro call of its own.

The summary request must itself fit under Kiro's limit (a wedged session cannot compact
because its compaction request is as long as the session), so dropped turns are rendered as
condensed text, packed into chunks of a bounded size and summarised as a rolling summary:
each call gets the previous summary plus the next chunk. The cache remembers the last
summary per conversation, with the prefix it covers, so the next request of a growing
conversation reuses it or only summarises what was dropped since.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional

from proxy.chat import Chat, ImagePart, Message, TextPart, ToolCallPart, ToolResultPart
from proxy.history.truncate import cut_middle

SUMMARY_SYSTEM = (
    "You write the working memory of an AI assistant. The earliest part of its conversation "
    "with a user has to be removed to stay within the model's input limit, and your summary "
    "takes its place. Keep everything the assistant needs to continue correctly: the user's "
    "goals, requirements, constraints and preferences (quote rules and exact values word for "
    "word), decisions and their reasons, facts learned, names of files, functions, commands, "
    "URLs and identifiers, errors met and how they were resolved, and what is done versus still "
    "to do. Leave out pleasantries and anything later superseded. Write concise plain notes in "
    "the conversation's language, with no preamble.")
PART_PROMPT = "<conversation_part>\n{part}\n</conversation_part>\n\n"
PREVIOUS_PROMPT = "<previous_summary>\n{previous}\n</previous_summary>\n\n"
FIRST_ASK = "Summarise this part of the conversation. Answer with the summary only."
UPDATE_ASK = ("Update the previous summary so it also covers this part of the conversation. "
              "Answer with the updated summary only.")
OMITTED_NOTE = "[{n} older messages could not be included in the summary.]\n"

MARKER = ("<conversation_summary>\nThe proxy replaced {n} earlier messages with this summary to "
          "keep the request within the model's input limit.\n{summary}\n</conversation_summary>")
NOTE = ("[The proxy removed {n} earlier messages here to keep the request within the model's "
        "input limit.]")

SUMMARY_MAX_TOKENS = 4096  # the summary's own answer budget (Kiro may ignore it)
# How much of each dropped turn the summariser reads: first normal, then condensed when the
# dropped part would need more calls than allowed.
RENDER_LIMITS = ((4000, 1500), (1000, 300))  # (text chars, tool output / argument chars)


class SummaryFailed(Exception):
    """The summary call failed or said nothing; the caller falls back to a plain note."""


def marker_text(summary: str, dropped: int) -> str:
    """The user-turn text that stands in for the dropped messages, summary included."""
    return MARKER.format(n=dropped, summary=summary.strip())


def note_text(dropped: int) -> str:
    """The honest note left when turns are dropped without a summary."""
    return NOTE.format(n=dropped)


def render(messages: list[Message], names: dict[str, str], text_chars: int, tool_chars: int) -> list[str]:
    """Each message as condensed text for the summariser (images and reasoning left out)."""
    pieces = []
    for message in messages:
        who = "USER" if message.role == "user" else "ASSISTANT"
        lines = []
        for part in message.parts:
            if isinstance(part, TextPart) and part.text.strip():
                lines.append(f"{who}: {cut_middle(part.text.strip(), text_chars)}")
            elif isinstance(part, ImagePart):
                lines.append(f"{who}: [image]")
            elif isinstance(part, ToolCallPart):
                args = json.dumps(part.arguments, ensure_ascii=False)
                lines.append(f"ASSISTANT called tool {part.name}: {cut_middle(args, tool_chars)}")
            elif isinstance(part, ToolResultPart):
                label = "TOOL ERROR" if part.is_error else "TOOL RESULT"
                name = names.get(part.call_id, "tool")
                lines.append(f"{label} ({name}): {cut_middle(part.content.strip(), tool_chars)}")
        if lines:
            pieces.append("\n".join(lines))
    return pieces


def pack(pieces: list[str], budget: int) -> list[str]:
    """Pieces joined into chunks of at most about `budget` characters (a longer piece is cut)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        piece = cut_middle(piece, budget)
        if current and size + len(piece) + 2 > budget:
            chunks.append("\n\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += len(piece) + 2
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def summary_chat(model: str, previous: str, part: str) -> Chat:
    """The request that summarises one chunk (plus the summary so far)."""
    text = (PREVIOUS_PROMPT.format(previous=previous) if previous else "") + \
        PART_PROMPT.format(part=part) + (UPDATE_ASK if previous else FIRST_ASK)
    return Chat(model=model, messages=[Message("user", [TextPart(text)])], system=SUMMARY_SYSTEM,
                max_tokens=SUMMARY_MAX_TOKENS, temperature=0)


def rolling_summary(summarize: Callable[[Chat], str], model: str, messages: list[Message],
                    previous: str, *, budget: int, max_calls: int, max_chars: int) -> tuple[str, int]:
    """Summarise `messages` onto `previous` in at most `max_calls` calls; (summary, calls)."""
    names = {p.id: p.name for m in messages for p in m.parts if isinstance(p, ToolCallPart)}
    room = max(1000, budget - max(len(previous), max_chars))  # later calls carry a summary
    for text_chars, tool_chars in RENDER_LIMITS:
        chunks = pack(render(messages, names, text_chars, tool_chars), room)
        if len(chunks) <= max_calls:
            break
    omitted = max(0, len(chunks) - max_calls)
    chunks = chunks[omitted:]  # the newest parts matter most; the first user turn is kept anyway
    summary, calls = previous, 0
    for i, chunk in enumerate(chunks):
        if i == 0 and omitted:
            chunk = OMITTED_NOTE.format(n=omitted) + chunk
        answer = (summarize(summary_chat(model, summary, chunk)) or "").strip()
        calls += 1
        if not answer:
            raise SummaryFailed("the summary call returned no text")
        summary = cut_middle(answer, max_chars)
    return summary, calls


# ---------------------------------------------------------------- cache

@dataclass(frozen=True)
class CacheEntry:
    """The last summary of one conversation and the prefix of dropped turns it covers."""
    summary: str
    covered: int  # messages after the head that the summary covers
    digest: bytes  # of those messages: a changed prefix invalidates the entry
    chars: int  # their characters, to measure how much was dropped since
    created: float  # clock time


@dataclass(frozen=True)
class Decision:
    """hit: reuse `entry` as is; otherwise summarise again, onto `base` when it is still valid."""
    hit: bool
    reason: str  # hit | hit_small_delta | empty | disabled | changed | expired | grown
    entry: Optional[CacheEntry] = None
    base: Optional[CacheEntry] = None


def message_digest(message: Message) -> bytes:
    """A stable fingerprint of one message (every part, every field)."""
    return hashlib.sha256(repr(message).encode("utf-8", "backslashreplace")).digest()


def prefix_digests(messages: list[Message], upto: int) -> list[bytes]:
    """Digests of messages[:k] for k = 0..upto (chained, so each covers the whole prefix)."""
    digests = [b""]
    for message in messages[:upto]:
        digests.append(hashlib.sha256(digests[-1] + message_digest(message)).digest())
    return digests


def conversation_key(chat: Chat, head: int) -> str:
    """Cache key: the client's session key, else a hash of the system prompt and first user turn."""
    if chat.session_key:
        return "session:" + chat.session_key
    first = repr(chat.messages[head - 1]) if head > 0 else ""
    return "first:" + hashlib.sha256((chat.system + "\0" + first).encode("utf-8", "backslashreplace")).hexdigest()


def decide(entry: Optional[CacheEntry], *, enabled: bool, now: float, max_age: float,
           dropped: int, digests: list[bytes], chars: list[int],
           min_delta_messages: int, min_delta_chars: int) -> Decision:
    """The cache rule: reuse the last summary while its prefix is unchanged, it is younger than
    `max_age`, and fewer than `min_delta_messages` messages and `min_delta_chars` characters
    were dropped beyond it. A summary whose prefix is unchanged but which grew past those
    deltas is the base of an incremental summary; a changed or expired one is not used."""
    if not enabled:
        return Decision(False, "disabled")
    if entry is None:
        return Decision(False, "empty")
    if entry.covered >= len(digests) or digests[entry.covered] != entry.digest:
        return Decision(False, "changed")
    if now - entry.created > max_age:
        return Decision(False, "expired")
    if dropped <= entry.covered:
        return Decision(True, "hit", entry)
    if dropped - entry.covered < min_delta_messages and chars[dropped] - entry.chars < min_delta_chars:
        return Decision(True, "hit_small_delta", entry)
    return Decision(False, "grown", base=entry)


class SummaryCache:
    """Last summary per conversation key; least recently used keys go first (bounded memory)."""

    def __init__(self, max_entries: int):
        self._max = max(1, max_entries)
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Optional[CacheEntry]:
        """The entry for a conversation, if any."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        """Remember a conversation's latest summary."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

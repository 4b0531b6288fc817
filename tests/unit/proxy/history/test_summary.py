"""Tests for proxy/history/summary.py: rendering, rolling summaries and the cache rules."""
from __future__ import annotations

import pytest

from proxy.chat import Chat, ImagePart, Message, TextPart, ToolCallPart, ToolResultPart
from proxy.history.summary import (MARKER, OMITTED_NOTE, SUMMARY_SYSTEM, CacheEntry, SummaryCache, SummaryFailed,
                                   conversation_key, decide, marker_text, note_text, pack, prefix_digests, render,
                                   rolling_summary)
from tests.unit.proxy.history.convo import conversation, tool_round


class Recorder:
    """A summarize callable that records its requests and answers with numbered summaries."""

    def __init__(self, answer: str = "summary {n}"):
        self.chats: list[Chat] = []
        self.answer = answer

    def __call__(self, chat: Chat) -> str:
        self.chats.append(chat)
        return self.answer.format(n=len(self.chats))


def entry(covered: int = 4, chars: int = 100, created: float = 0.0, digests=None) -> CacheEntry:
    """A cache entry covering `covered` messages of the digests given."""
    digests = digests or [bytes([i]) for i in range(20)]
    return CacheEntry("old summary", covered, digests[covered], chars, created)


def rule(found, **overrides):
    """`decide` with the default settings of the issue and 10 dropped messages of 10 chars each."""
    values = dict(enabled=True, now=100.0, max_age=180.0, dropped=10,
                  digests=[bytes([i]) for i in range(20)], chars=[i * 10 for i in range(20)],
                  min_delta_messages=3, min_delta_chars=4000)
    values.update(overrides)
    return decide(found, **values)


def test_render_condenses_turns_with_tool_names_and_no_image_data():
    messages = tool_round(1, result_chars=5000, image=True)
    names = {"toolu_0001": "Bash"}
    pieces = render(messages, names, text_chars=4000, tool_chars=300)
    joined = "\n".join(pieces)
    assert "USER: Step 1: continue with the next file." in joined
    assert 'ASSISTANT called tool Bash: {"command": "cat src/file_1.py"}' in joined
    assert "TOOL RESULT (Bash): # file 1" in joined
    assert "[image]" in joined and "iVBOR" not in joined
    assert len(joined) < 2000


def test_pack_respects_the_budget():
    chunks = pack(["a" * 400, "b" * 400, "c" * 400], 900)
    assert [len(c) for c in chunks] == [802, 400]
    assert len(pack(["x" * 5000], 1000)[0]) < 1100


def test_rolling_summary_sends_previous_summary_and_each_chunk():
    summarize = Recorder()
    messages = conversation(20, result_chars=2000).messages[1:]
    text, calls = rolling_summary(summarize, "claude-x", messages, "earlier summary", budget=12_000,
                                  max_calls=10, max_chars=6000)
    assert calls == len(summarize.chats) > 1 and text == f"summary {calls}"
    first, second = summarize.chats[0], summarize.chats[1]
    assert first.system == SUMMARY_SYSTEM and first.model == "claude-x" and not first.tools
    assert "<previous_summary>\nearlier summary\n</previous_summary>" in first.messages[0].text()
    assert "<previous_summary>\nsummary 1\n</previous_summary>" in second.messages[0].text()
    assert all(len(c.messages[0].text()) < 12_000 + 2000 for c in summarize.chats)


def test_rolling_summary_condenses_then_omits_the_oldest_past_max_calls():
    summarize = Recorder()
    messages = conversation(200, result_chars=3000).messages[1:]
    _, calls = rolling_summary(summarize, "m", messages, "", budget=8000, max_calls=2, max_chars=1000)
    assert calls == 2
    assert OMITTED_NOTE.split("{n}")[1].strip() in summarize.chats[0].messages[0].text()


def test_an_empty_answer_is_a_failure():
    with pytest.raises(SummaryFailed):
        rolling_summary(Recorder("  "), "m", conversation(2).messages, "", budget=50_000, max_calls=3, max_chars=100)


def test_marker_and_note_say_what_the_proxy_did():
    assert marker_text(" s ", 7) == MARKER.format(n=7, summary="s")
    assert "removed 7 earlier messages" in note_text(7)


def test_conversation_key_prefers_the_session():
    chat = conversation(1, session_key="abc")
    assert conversation_key(chat, 1) == "session:abc"
    anonymous = conversation(1)
    other = conversation(2)
    assert conversation_key(anonymous, 1) == conversation_key(other, 1)  # same system and first turn
    anonymous.messages[0] = Message("user", [TextPart("another task")])
    assert conversation_key(anonymous, 1) != conversation_key(other, 1)


def test_prefix_digests_change_with_any_earlier_message():
    messages = conversation(3).messages
    before = prefix_digests(messages, 6)
    changed = list(messages)
    changed[2] = Message("assistant", [TextPart("edited")])
    after = prefix_digests(changed, 6)
    assert before[:3] == after[:3] and before[3] != after[3] and before[6] != after[6]
    assert len(before) == 7


def test_cache_rule_empty_disabled_changed():
    assert rule(None).reason == "empty"
    assert rule(entry(), enabled=False).reason == "disabled"
    stale = CacheEntry("s", 4, b"other", 40, 0.0)
    assert rule(stale) == rule(stale) and not rule(stale).hit and rule(stale).reason == "changed"


def test_cache_hit_when_no_more_was_dropped():
    found = entry(covered=12, chars=120)
    decision = rule(found)
    assert decision.hit and decision.reason == "hit" and decision.entry is found


def test_cache_hit_on_a_small_delta():
    decision = rule(entry(covered=8, chars=80))  # 2 more messages, 20 more chars
    assert decision.hit and decision.reason == "hit_small_delta"


def test_cache_miss_on_three_more_messages_with_the_entry_as_base():
    found = entry(covered=7, chars=70)
    decision = rule(found)
    assert not decision.hit and decision.reason == "grown" and decision.base is found


def test_cache_miss_on_4000_more_characters():
    chars = [0] * 9 + [100, 4100] + [4100] * 9
    decision = rule(entry(covered=9, chars=100), chars=chars)
    assert not decision.hit and decision.reason == "grown"
    assert rule(entry(covered=9, chars=101), chars=chars).hit  # 3999 more: still a hit


def test_cache_miss_after_max_age_without_a_base():
    decision = rule(entry(covered=12, created=0.0), now=180.5)
    assert not decision.hit and decision.reason == "expired" and decision.base is None
    assert rule(entry(covered=12, created=0.0), now=180.0).hit


def test_summary_cache_is_bounded_least_recently_used_first():
    cache = SummaryCache(max_entries=2)
    cache.put("a", entry())
    cache.put("b", entry())
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", entry())
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2


def test_render_skips_empty_messages():
    assert render([Message("user", [ImagePart("image/png", "x")]), Message("assistant", [TextPart(" ")])],
                  {}, 100, 100) == ["USER: [image]"]
    assert render([Message("user", [ToolResultPart("c", "boom", is_error=True)])], {"c": "Bash"}, 100, 100) == \
        ["TOOL ERROR (Bash): boom"]
    assert render([Message("assistant", [ToolCallPart("c", "Bash", {})])], {}, 100, 100) == \
        ["ASSISTANT called tool Bash: {}"]

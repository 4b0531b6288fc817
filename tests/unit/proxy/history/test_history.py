"""Tests for proxy/history: the four strategies through `History.fit` / `shrink`, on long
synthetic conversations with tools and images, checked against the fake Kiro's own rules."""
from __future__ import annotations

import dataclasses

import pytest

from proxy.chat import Chat, Message, ServerToolCall, Stop, TextDelta, TextPart, Usage
from proxy.errors import ErrorKind, ProxyError
from proxy.history import History, is_length_error
from proxy.history.costs import BODY_MARGIN
from proxy.history.summary import MARKER
from proxy.kiro.errors import KiroError, KiroErrorKind
from proxy.kiro.request import build_request
from tests.fake_kiro.config import FakeConfig
from tests.fake_kiro.validation import check_chat
from tests.unit.proxy.history.convo import (FIRST_TASK, body_size, conversation, model, pairs_intact, settings,
                                            texts)

PROFILE_ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
TOO_LONG = ProxyError(ErrorKind.CONTEXT_TOO_LONG, "Input is too long.", code="CONTENT_LENGTH_EXCEEDS_THRESHOLD")


class Clock:
    """A settable clock."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Summarizer:
    """A summarize callable that records each request and answers with a numbered summary."""

    def __init__(self, fail: bool = False):
        self.chats: list[Chat] = []
        self.fail = fail

    def __call__(self, chat: Chat) -> str:
        self.chats.append(chat)
        if self.fail:
            raise ProxyError(ErrorKind.OVERLOADED, "Kiro is busy")
        return f"SUMMARY-{len(self.chats)}: the user wants the parser refactored."


def kiro_accepts(chat: Chat, **config) -> bool:
    """True when the fake Kiro's validator takes the request built from `chat` (raises on a rule break)."""
    body = build_request(chat, model_id="claude-sonnet-4.5", profile_arn=PROFILE_ARN, conversation_id="c-1").body
    check_chat(body, FakeConfig(**config))
    return True


def plain_chat(n: int, chars: int = 20, session_key: str = "s") -> Chat:
    """The first task, then n alternating plain turns, ending on a user turn."""
    messages = [Message("user", [TextPart(FIRST_TASK)])]
    for i in range(n):
        role = "assistant" if i % 2 == 0 else "user"
        messages.append(Message(role, [TextPart(f"{role} {i} " + "w" * chars)]))
    if messages[-1].role == "assistant":
        messages.append(Message("user", [TextPart("go on")]))
    return Chat(model="claude-sonnet-4-5", messages=messages, session_key=session_key)


def grown(chat: Chat, extra: int, chars: int = 20) -> Chat:
    """`chat` with `extra` more plain turns before its last user turn."""
    body = chat.messages[:-1]
    more = [Message("user" if body[-1].role == "assistant" and i % 2 == 0 or
                    body[-1].role == "user" and i % 2 == 1 else "assistant",
                    [TextPart(f"more {i} " + "v" * chars)]) for i in range(extra)]
    messages = body + more
    if messages[-1].role == "user":
        messages.append(Message("assistant", [TextPart("ok")]))
    return dataclasses.replace(chat, messages=messages + [chat.messages[-1]])


# ---------------------------------------------------------------- pre-estimate

def test_a_small_request_is_sent_as_it_is():
    chat = conversation(3)
    fitted = History(settings()).fit(chat, model())
    assert fitted.chat is chat and not fitted.record.changed and fitted.record.strategies == []
    assert body_size(chat) < fitted.bytes < body_size(chat) + 200  # measured, with a profile ARN


def test_pre_estimate_fits_tokens_keeping_the_first_turn_rules_and_pairs():
    chat = conversation(120, result_chars=4000, images_every=7, thinking=True)
    history = History(settings(history_max_input_tokens=30_000))
    fitted = history.fit(chat, model())
    record = fitted.record
    assert fitted.tokens <= 30_000 < record.tokens_before
    assert record.strategies == ["pre_estimate"] and record.dropped_messages > 0 and record.fits
    assert fitted.chat.messages[0].parts[0].text == FIRST_TASK
    assert "removed" in fitted.chat.messages[1].parts[0].text  # the honest note
    assert fitted.chat.messages[-3:] == chat.messages[-3:]
    assert pairs_intact(fitted.chat) and kiro_accepts(fitted.chat)
    assert chat.messages[0].parts[0].text == FIRST_TASK and len(chat.messages) == record.messages_before
    assert history.stats()["changed"] == 1


def test_pre_estimate_uses_the_window_fraction_by_default():
    chat = conversation(60, result_chars=4000)
    fitted = History(settings(history_window_fraction=0.5)).fit(chat, model(window=100_000))
    assert fitted.tokens <= 50_000 < fitted.record.tokens_before


def test_pre_estimate_keeps_the_body_under_the_byte_cap():
    chat = conversation(40, result_chars=1000, images_every=2)  # images make bytes, not tokens
    cap = 120_000
    fitted = History(settings(max_body_bytes=cap)).fit(chat, model())
    assert fitted.record.bytes_before > cap
    assert fitted.bytes == fitted.record.bytes_after <= cap - BODY_MARGIN
    assert body_size(fitted.chat) <= cap - BODY_MARGIN
    assert fitted.record.removed_images > 0 or fitted.record.dropped_messages > 0
    assert pairs_intact(fitted.chat) and kiro_accepts(fitted.chat)


def test_pre_estimate_off_sends_even_a_huge_request_unchanged():
    chat = conversation(80, result_chars=4000)
    fitted = History(settings(history_pre_estimate=False, history_max_input_tokens=1000)).fit(chat, model())
    assert fitted.chat is chat


# ---------------------------------------------------------------- auto-truncate

def test_auto_truncate_limits_the_message_count():
    chat = conversation(30)
    fitted = History(settings(history_auto_truncate=True, history_max_messages=25, history_max_chars=0)).fit(
        chat, model())
    assert len(fitted.chat.messages) <= 25 and fitted.record.strategies == ["auto_truncate"]
    assert fitted.record.shortened_tool_results == 0  # a count limit drops turns, it does not shorten
    assert pairs_intact(fitted.chat) and kiro_accepts(fitted.chat)


def test_auto_truncate_limits_characters_shortening_old_results_first():
    chat = conversation(12, result_chars=6000)
    limit = sum(len(texts(chat)) for _ in [0]) // 2
    fitted = History(settings(history_auto_truncate=True, history_max_messages=0, history_max_chars=limit,
                              history_pre_estimate=False)).fit(chat, model())
    assert fitted.record.shortened_tool_results > 0
    assert fitted.record.strategies == ["auto_truncate"]
    assert pairs_intact(fitted.chat) and kiro_accepts(fitted.chat)


def test_auto_truncate_off_keeps_everything():
    chat = conversation(30)
    assert History(settings(history_max_messages=5)).fit(chat, model()).chat is chat


# ---------------------------------------------------------------- smart summary

def test_dropped_turns_are_replaced_by_a_summary_from_a_kiro_call():
    summarize = Summarizer()
    chat = conversation(100, result_chars=4000, images_every=5, session_key="sess")
    history = History(settings(history_smart_summary=True, history_max_input_tokens=30_000), summarize)
    fitted = history.fit(chat, model())
    record = fitted.record
    assert record.strategies == ["pre_estimate", "summary"] and record.summary == "new"
    assert record.summary_calls == len(summarize.chats) >= 1
    assert record.summarised_messages == record.dropped_messages
    summary = fitted.chat.messages[1].parts[0].text
    assert summary == MARKER.format(n=record.dropped_messages, summary=f"SUMMARY-{len(summarize.chats)}: "
                                                                       "the user wants the parser refactored.")
    assert fitted.tokens <= 30_000
    # every summary request fits the same budget: a stuck session can still be summarised
    assert all(History(settings()).estimator.estimate(c) <= 30_000 for c in summarize.chats)
    assert pairs_intact(fitted.chat) and kiro_accepts(fitted.chat)


def test_a_failed_summary_falls_back_to_the_note():
    chat = conversation(80, result_chars=4000)
    history = History(settings(history_smart_summary=True, history_max_input_tokens=30_000), Summarizer(fail=True))
    fitted = history.fit(chat, model())
    assert fitted.record.summary == "failed" and "Kiro is busy" in fitted.record.summary_reason
    assert "removed" in fitted.chat.messages[1].parts[0].text
    assert history.stats()["summary_failures"] == 1


def test_no_summarize_callable_means_a_note():
    chat = conversation(80, result_chars=4000)
    fitted = History(settings(history_smart_summary=True, history_max_input_tokens=30_000)).fit(chat, model())
    assert fitted.record.summary is None and "summary" not in fitted.record.strategies


@pytest.fixture
def cached():
    """A History with summaries, a count limit of 10 messages, no slack and a settable clock."""
    clock, summarize = Clock(), Summarizer()
    history = History(settings(history_smart_summary=True, history_auto_truncate=True, history_max_messages=10,
                               history_max_chars=0, history_pre_estimate=False, history_drop_slack=0),
                      summarize, clock=clock)
    return history, summarize, clock


def test_summary_cache_hit_when_nothing_more_is_dropped(cached):
    history, summarize, clock = cached
    chat = plain_chat(40)
    first = history.fit(chat, model())
    clock.now += 10
    again = history.fit(chat, model())
    assert (first.record.summary, first.record.summary_reason) == ("new", "empty")
    assert (again.record.summary, again.record.summary_reason) == ("cache", "hit")
    assert len(summarize.chats) == 1 and again.chat.messages == first.chat.messages
    assert history.stats()["summary_cache_hits"] == 1


def test_summary_cache_hit_on_fewer_than_three_more_messages(cached):
    history, summarize, clock = cached
    history.fit(plain_chat(40), model())
    clock.now += 10
    fitted = history.fit(grown(plain_chat(40), 2), model())
    assert fitted.record.summary_reason == "hit_small_delta" and fitted.record.uncovered_messages == 2
    assert len(summarize.chats) == 1


def test_summary_cache_miss_on_three_more_messages_is_incremental(cached):
    history, summarize, clock = cached
    history.fit(plain_chat(40), model())
    clock.now += 10
    fitted = history.fit(grown(plain_chat(40), 4), model())
    assert (fitted.record.summary, fitted.record.summary_reason) == ("new", "grown")
    assert len(summarize.chats) == 2
    prompt = summarize.chats[1].messages[0].text()
    assert "<previous_summary>\nSUMMARY-1" in prompt and "user 0 " not in prompt  # only the new part


@pytest.mark.parametrize("chars, reason", [(2010, "grown"), (1980, "hit_small_delta")])
def test_summary_cache_miss_on_4000_more_characters(cached, chars, reason):
    history, summarize, clock = cached
    chat = plain_chat(40, chars=chars)  # two more dropped turns of ~2000 characters each
    first = history.fit(chat, model())
    fitted = history.fit(grown(chat, 2), model())
    assert fitted.record.dropped_messages == 2 + first.record.dropped_messages
    assert fitted.record.summary_reason == reason


def test_summary_cache_expires_after_max_age(cached):
    history, summarize, clock = cached
    chat = plain_chat(40)
    history.fit(chat, model())
    clock.now += 181
    fitted = history.fit(chat, model())
    assert fitted.record.summary_reason == "expired" and len(summarize.chats) == 2
    assert "<previous_summary>" not in summarize.chats[1].messages[0].text()


def test_summary_cache_miss_when_an_early_message_changed(cached):
    history, summarize, _ = cached
    chat = plain_chat(40)
    history.fit(chat, model())
    edited = dataclasses.replace(chat, messages=list(chat.messages))
    edited.messages[3] = Message("user", [TextPart("edited")])
    assert history.fit(edited, model()).record.summary_reason == "changed"


def test_a_new_summary_drops_deeper_so_the_next_turns_reuse_it():
    summarize = Summarizer()
    history = History(settings(history_smart_summary=True, history_auto_truncate=True, history_max_messages=20,
                               history_pre_estimate=False, history_drop_slack=0.25), summarize)
    chat = plain_chat(40)
    first = history.fit(chat, model())
    assert len(first.chat.messages) <= 15  # 25% below the limit of 20
    reasons = [history.fit(grown(chat, 2 * n), model()).record.summary_reason for n in range(1, 5)]
    assert reasons == ["hit", "hit", "hit_small_delta", "grown"] and len(summarize.chats) == 2


def test_the_cached_summary_is_used_at_its_real_size():
    history = History(settings(history_smart_summary=True, history_max_input_tokens=12_000), Summarizer())
    chat = conversation(40, result_chars=1500, session_key="k")
    first = history.fit(chat, model())
    again = history.fit(chat, model())
    assert again.record.summary == "cache" and again.tokens <= 12_000
    assert again.record.dropped_messages <= first.record.dropped_messages


def test_summary_cache_disabled_summarises_every_time():
    summarize = Summarizer()
    history = History(settings(history_smart_summary=True, summary_cache_enabled=False, history_auto_truncate=True,
                               history_max_messages=10, history_pre_estimate=False), summarize)
    chat = plain_chat(40)
    history.fit(chat, model())
    assert history.fit(chat, model()).record.summary_reason == "disabled" and len(summarize.chats) == 2


def test_summary_cache_is_per_conversation(cached):
    history, summarize, _ = cached
    history.fit(plain_chat(40, session_key="a"), model())
    history.fit(plain_chat(40, session_key="b"), model())
    assert len(summarize.chats) == 2 and history.stats()["summary_cache_entries"] == 2


# ---------------------------------------------------------------- retry on length error

def test_shrink_halves_the_refused_request_and_remembers_the_refusal():
    chat = conversation(60, result_chars=4000)
    history = History(settings())
    fitted = history.fit(chat, model())
    assert fitted.chat is chat
    smaller = history.shrink(fitted, 1, TOO_LONG)
    assert smaller.tokens <= fitted.tokens * 0.5 and smaller.record.strategies == ["retry"]
    assert smaller.record.attempt == 1 and smaller.original is chat
    assert pairs_intact(smaller.chat) and kiro_accepts(smaller.chat)
    later = history.fit(chat, model())  # the next request of this conversation is fitted ahead
    assert later.tokens <= fitted.tokens * 0.9


def test_shrink_aims_at_the_largest_size_kiro_took():
    history = History(settings())
    small = history.fit(conversation(45, result_chars=4000), model())
    history.accepted(small)
    big = history.fit(conversation(60, result_chars=4000), model())
    smaller = history.shrink(big, 1, TOO_LONG)
    assert big.tokens * 0.5 < smaller.tokens <= small.tokens


def test_shrink_gives_up_when_off_exhausted_or_nothing_left():
    chat = conversation(60, result_chars=4000)
    off = History(settings(history_retry_on_too_long=False))
    assert off.shrink(off.fit(chat, model()), 1, TOO_LONG) is None
    history = History(settings(history_max_retries=2))
    assert history.shrink(history.fit(chat, model()), 3, TOO_LONG) is None
    tiny = History(settings())
    assert tiny.shrink(tiny.fit(Chat(model="m", messages=[Message("user", [TextPart("hi")])]), model()),
                       1, TOO_LONG) is None
    assert tiny.stats()["retry_gave_up"] == 1


def test_shrink_after_an_oversized_body_fits_the_byte_cap():
    chat = conversation(60, result_chars=4000, images_every=3)
    history = History(settings(history_pre_estimate=False, max_body_bytes=150_000))
    fitted = history.fit(chat, model())
    with pytest.raises(ProxyError) as info:
        build_request(fitted.chat, model_id="claude-sonnet-4.5", profile_arn=PROFILE_ARN, conversation_id="c",
                      max_body_bytes=150_000)
    smaller = history.shrink(fitted, 1, info.value)
    assert body_size(smaller.chat) + 75 <= 150_000 - BODY_MARGIN
    assert pairs_intact(smaller.chat) and kiro_accepts(smaller.chat)


def test_length_errors_are_recognised():
    assert is_length_error(TOO_LONG)
    assert is_length_error(ProxyError(ErrorKind.CONTEXT_TOO_LONG, "big", code="BODY_TOO_LARGE"))
    assert is_length_error(KiroError(KiroErrorKind.CONTENT_TOO_LONG, 400, "Input is too long."))
    assert not is_length_error(ProxyError(ErrorKind.CONTEXT_TOO_LONG, "x", code="CONVERSATION_LIMIT_EXCEEDED"))
    assert not is_length_error(ProxyError(ErrorKind.INVALID_REQUEST, "x"))


# ---------------------------------------------------------------- usage and calibration

def test_tap_learns_the_factor_from_kiro_usage_and_passes_events_through():
    history = History(settings())
    fitted = history.fit(conversation(10), model())
    events = [TextDelta("hi"), Usage(round(fitted.raw_tokens * 1.25), 5), Stop("end_turn")]
    assert list(history.tap(fitted, iter(events))) == events
    assert history.estimator.factor("claude-sonnet-4.5") == pytest.approx(1.25, rel=1e-3)
    again = history.fit(conversation(10), model())
    assert again.tokens == pytest.approx(fitted.raw_tokens * 1.25, rel=1e-3)  # count_tokens follows Kiro


def test_tap_does_not_learn_from_our_own_estimate_or_search_rounds():
    history = History(settings())
    fitted = history.fit(conversation(10), model())
    list(history.tap(fitted, iter([Usage(fitted.tokens, 5), Stop("end_turn")])))
    list(history.tap(fitted, iter([ServerToolCall("s", "web_search", {}), Usage(fitted.tokens * 3, 5)])))
    assert history.estimator.calibration.snapshot() == {}


def test_tap_closes_the_upstream_events_when_the_client_goes_away():
    closed = []

    def upstream():
        try:
            yield TextDelta("a")
            yield TextDelta("b")
        finally:
            closed.append(True)

    history = History(settings())
    tapped = history.tap(history.fit(conversation(1), model()), upstream())
    next(tapped)
    tapped.close()
    assert closed == [True]

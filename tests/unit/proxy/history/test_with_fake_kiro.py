"""History against the fake Kiro in-process: its "Input is too long" at a configurable size,
its pairing rules, and calibration from its contextUsageEvent. A small send loop stands in
for the relay (fit, send, shrink and retry on a length error, tap the answer)."""
from __future__ import annotations

import dataclasses

import pytest

from proxy.chat import Chat, StreamEvent, TextDelta
from proxy.history import Fitted, History, is_length_error
from proxy.errors import ProxyError
from proxy.kiro.errors import KiroError, classify
from proxy.kiro.events import KiroEventParser
from proxy.kiro.eventstream import EventStreamDecoder
from proxy.kiro.request import build_request
from tests.fake_kiro.app import create_fake_app
from tests.fake_kiro.config import FakeConfig
from tests.unit.proxy.history.convo import conversation, model, settings


class FakeUpstream:
    """Sends built requests to an in-process fake Kiro and decodes its answers."""

    def __init__(self, limit: int):
        self.app = create_fake_app(FakeConfig(input_limit_tokens=limit, text_chunk_chars=4000))
        self.client = self.app.test_client()
        account = self.client.post("/__fake/accounts", json={"auth_method": "social"}).get_json()
        self.token, self.arn = account["access_token"], account["profile_arn"]
        self.sent = 0

    def send(self, chat: Chat, estimate: int) -> list[StreamEvent]:
        """The answer's events; raises the classified KiroError on an error status."""
        body = build_request(chat, model_id="claude-sonnet-4.5", profile_arn=self.arn, conversation_id="c-1").body
        self.sent += 1
        resp = self.client.post("/generateAssistantResponse", data=body,
                                headers={"authorization": f"Bearer {self.token}"})
        if resp.status_code != 200:
            raise classify(resp.status_code, resp.get_data(), dict(resp.headers))
        parser = KiroEventParser(thinking_tags=False, context_window=200_000, input_tokens_estimate=estimate)
        events = [e for frame in EventStreamDecoder().feed(resp.get_data()) for e in parser.feed(frame)]
        return events + parser.finish()

    def stats(self) -> dict:
        """The fake's totals."""
        return self.client.get("/__fake/stats").get_json()["totals"]


def answer(history: History, upstream: FakeUpstream, chat: Chat) -> tuple[Fitted, list[StreamEvent]]:
    """What the relay does with history: fit, send, shrink and retry on a length error, tap."""
    fitted = history.fit(chat, model())
    attempt = 0
    while True:
        try:
            events = upstream.send(fitted.chat, fitted.tokens)
            break
        except (KiroError, ProxyError) as e:  # only length errors are retried, the rest re-raised
            attempt += 1
            smaller = history.shrink(fitted, attempt, e) if is_length_error(e) else None
            if smaller is None:
                raise
            fitted = smaller
    history.accepted(fitted)
    return fitted, list(history.tap(fitted, iter(events)))


def summarizer(upstream: FakeUpstream):
    """The summary call: one request sent as it is, its text returned."""
    def summarize(chat: Chat) -> str:
        return "".join(e.text for e in upstream.send(chat, 0) if isinstance(e, TextDelta))
    return summarize


@pytest.mark.parametrize("limit", [8_000, 20_000])
def test_too_long_at_the_configured_size_is_retried_until_it_fits(limit):
    upstream = FakeUpstream(limit)
    history = History(settings())
    chat = conversation(80, result_chars=3000)  # far over either limit
    fitted, events = answer(history, upstream, chat)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "TOOL_RESULT_SEEN: 5 passed"
    assert fitted.record.attempt >= 1 and fitted.record.strategies == ["retry"]
    totals = upstream.stats()
    assert totals["chat_errors"] == fitted.record.attempt and totals["chat_ok"] == 1
    # refusals teach the limit: within a few requests they are fitted first and go through at once
    for _ in range(5):
        answer(history, upstream, chat)
    errors = upstream.stats()["chat_errors"]
    assert errors <= totals["chat_errors"] + 4
    again, _ = answer(history, upstream, chat)
    assert again.record.attempt == 0 and again.record.strategies == ["pre_estimate"]
    assert upstream.stats()["chat_errors"] == errors
    assert again.tokens > 0.8 * limit  # without settling far below the limit


def test_a_request_under_the_limit_is_untouched():
    upstream = FakeUpstream(200_000)
    fitted, _ = answer(History(settings()), upstream, conversation(5))
    assert not fitted.record.changed and upstream.stats()["chat_errors"] == 0


def test_calibration_learns_the_fakes_byte_based_count():
    upstream = FakeUpstream(200_000)
    history = History(settings())
    fitted, _ = answer(history, upstream, conversation(20, result_chars=2000))
    body = build_request(fitted.chat, model_id="claude-sonnet-4.5", profile_arn=upstream.arn,
                         conversation_id="c-1").body
    fake_count = len(body) // 4
    assert history.estimator.estimate(fitted.chat, "claude-sonnet-4.5") == pytest.approx(fake_count, rel=0.01)


def test_a_session_ten_times_the_limit_keeps_getting_answers_with_few_summaries():
    limit = 20_000
    upstream = FakeUpstream(limit)
    history = History(settings(history_smart_summary=True), summarizer(upstream))
    full = conversation(160, result_chars=5000, images_every=9, session_key="long")
    turns = [i + 1 for i, m in enumerate(full.messages) if m.role == "user"]
    for end in turns:
        chat = dataclasses.replace(full, messages=full.messages[:end])
        fitted, events = answer(history, upstream, chat)
        assert [e for e in events if isinstance(e, TextDelta)], f"no answer at turn {end}"
    full_size = len(build_request(full, model_id="claude-sonnet-4.5", profile_arn=upstream.arn,
                                  conversation_id="c-1", max_body_bytes=10 ** 9).body) // 4
    stats, totals = history.stats(), upstream.stats()
    assert full_size >= 10 * limit
    assert totals["chat_ok"] == len(turns) + stats["summary_calls"]
    assert totals["chat_errors"] <= 3  # a refusal or two until the limit is learned
    assert 0 < stats["summary_calls"] < len(turns) / 2 and stats["summary_cache_hits"] > 0
    assert fitted.record.summary in ("new", "cache")

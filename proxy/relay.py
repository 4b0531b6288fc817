"""Runs one request against Kiro: choose an account, open the stream, fail over, decode.

`Relay.start(chat)` returns an iterator of StreamEvents once the first upstream event has
arrived. Every error before that point is handled here — another account is tried when
one may succeed — so the client's status line is decided on a real answer. After that,
errors travel as a final `StreamError` event.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import random
import time
import uuid
from typing import Iterator, Optional

import gevent
from gevent import monkey

from proxy.account import Account
from proxy.chat import (Chat, Thinking, StreamError,
                        StreamEvent, TextDelta)
from proxy.errors import ErrorKind, ProxyError
from proxy.history import Fitted, History, is_length_error
from proxy.kiro.errors import NO_ACCOUNT_RETRY_AFTER, KiroError, KiroErrorKind
from proxy.kiro.eventstream import EventStreamDecoder, EventStreamError
from proxy.kiro.events import KiroEventParser
from proxy.kiro.models import KiroModel, resolve_model
from proxy.kiro.request import BuiltRequest, build_request, for_account
from proxy.kiro.tokens import AccountUnavailable, RefreshFailed, TokenManager
from proxy.pool import Lease, NoAccountNow, Pool
from proxy.settings import Settings
from proxy.keepalive import with_pings
from proxy.streamops import apply_stop_sequences
from proxy.websearch import with_web_search

log = logging.getLogger(__name__)

CONVERSATION_NS = uuid.UUID("6f6b6e0e-3c1d-4b5e-9a7e-6b69726f7072")


class FirstByteTimeout(Exception):
    """Kiro accepted the request but sent nothing in time."""


@dataclasses.dataclass
class Upstream:
    """One open Kiro stream: its account, HTTP response and decoded events."""
    account: Account
    response: object
    events: Iterator[StreamEvent]
    search_tool: Optional[str] = None  # Kiro name of the proxy's own web_search tool, if declared
    lease: Optional[Lease] = None  # the account's stream slot, given back on close

    def close(self) -> None:
        """Release the connection and the stream slot (safe to call twice)."""
        try:
            with contextlib.suppress(Exception):  # closing a dead socket must never mask the real error
                self.response.close()
        finally:
            if self.lease is not None:
                self.lease.release()


def conversation_id(chat: Chat) -> str:
    """Stable per conversation when the client names one (helps Kiro's prefix cache)."""
    return str(uuid.uuid5(CONVERSATION_NS, chat.session_key)) if chat.session_key else str(uuid.uuid4())


def _gevent_active() -> bool:
    return monkey.is_module_patched("socket")


class Relay:
    """Turns a Chat into a stream of neutral events from Kiro, with failover."""

    def __init__(self, settings: Settings, tokens: TokenManager,
                 client, pool: Pool, sleep=time.sleep, rng: Optional[random.Random] = None):
        self.settings = settings
        self.tokens = tokens
        self.client = client
        self.pool = pool  # also caps concurrent upstream streams (settings.max_upstream_streams)
        self._sleep = sleep  # gevent-patched in the server; tests pass a recorder
        self._rng = rng or random.Random()
        # keeps each request under Kiro's input limit; its summary calls go through `complete`
        self.history = History(settings, summarize=self.complete)

    # ------------------------------------------------------------------ public

    def start(self, chat: Chat, raw_estimate: Optional[int] = None) -> Iterator[StreamEvent]:
        """Open the upstream (with failover) and return the answer's events. `raw_estimate` is
        `estimate_tokens(chat)` when the caller has it already (it is made once per request)."""
        model = resolve_model(chat.model, self.settings.model_map, self.settings.default_model)
        if model.thinking_suffix and chat.thinking is None:  # "-thinking" model names turn reasoning on
            chat = dataclasses.replace(chat, thinking=Thinking("enabled"))  # no change to the estimate
        fitted, upstream = self._open_fitted(chat, model, raw_estimate)
        return self._answer(fitted, model, upstream)

    def complete(self, chat: Chat) -> str:
        """The text of one whole answer to `chat`, sent as it is (never fitted): the history's summary call."""
        model = resolve_model(chat.model, self.settings.model_map, self.settings.default_model)
        upstream = self._open(chat, model)
        try:
            return "".join(e.text for e in upstream.events if isinstance(e, TextDelta))
        except KiroError as e:
            raise e.to_proxy_error() from e
        finally:
            upstream.close()

    # ------------------------------------------------------------------ opening

    def _open_fitted(self, chat: Chat, model: KiroModel, raw_estimate: Optional[int] = None) -> tuple[Fitted, Upstream]:
        """Fit the chat under Kiro's limits and open it; on a length error shrink it and retry."""
        fitted = self.history.fit(chat, model, raw_estimate)
        attempt = 0
        while True:
            try:
                # the fitted chat's estimate and body were made while fitting: used, not made again
                upstream = self._open(fitted.chat, model, fitted.raw_tokens, fitted.built)
            except ProxyError as e:
                attempt += 1
                smaller = self.history.shrink(fitted, attempt, e) if is_length_error(e) else None
                if smaller is None:
                    raise
                fitted = smaller
                continue
            self.history.accepted(fitted)
            return dataclasses.replace(fitted, built=None), upstream  # the body is not kept while answering

    def _open(self, chat: Chat, model: KiroModel, raw_estimate: Optional[int] = None,
              measured: Optional[BuiltRequest] = None) -> Upstream:
        """Try accounts until one yields a first event; raise the client-facing error otherwise.

        One round tries each usable account at most once. Network errors, 5xx and capacity
        throttling may start another round (after a jittered exponential backoff) while
        attempts remain; account faults are recorded by the pool, which then skips the account.
        `raw_estimate` and `measured` (history's measuring build of `chat`) save making them again.
        """
        estimator = self.history.estimator
        input_estimate = estimator.estimate(chat, model.id) if raw_estimate is None else \
            estimator.scale(raw_estimate, model.id)
        tried: set[str] = set()
        last: Optional[KiroError] = None
        backoffs = 0
        paused = False  # a capacity error has just been waited out
        for _ in range(max(1, self.settings.retry_attempts)):
            try:
                lease = self.pool.acquire(chat.session_key, frozenset(tried))
            except NoAccountNow as refusal:
                # a timeout already cost the client first_byte_timeout: no second round for it
                if not (last is not None and last.transient and not last.is_timeout and refusal.tried_usable):
                    raise _refusal_or_last(refusal, last) from last
                tried.clear()  # every usable account had its turn: a new round, after a pause
                if not paused:
                    self._backoff(backoffs)
                    backoffs += 1
                try:
                    lease = self.pool.acquire(chat.session_key)
                except NoAccountNow as again:
                    raise _refusal_or_last(again, last) from last
            account = lease.account
            tried.add(account.id)
            paused = False
            try:
                upstream = self._open_on(account, chat, model, input_estimate, measured)
            except (AccountUnavailable, RefreshFailed) as e:
                lease.release()
                log.warning("account %s unusable: %s", account.id, e)
                self.pool.unavailable(account, e, needs_login=isinstance(e, AccountUnavailable))
                continue
            except KiroError as e:
                lease.release()
                self.pool.failed(account, e)
                if e.fatal_for_request or not (e.retry_elsewhere or e.transient):
                    raise e.to_proxy_error() from e
                log.info("account %s failed before the first byte (%s); trying another", account.id, e.kind.value)
                last = e
                if chat.session_key and e.account_fault:
                    self.pool.forget_session(chat.session_key)
                if e.kind is KiroErrorKind.CAPACITY:  # service-wide: another account needs a pause too
                    self._backoff(backoffs)
                    backoffs += 1
                    paused = True
                continue
            except BaseException:
                lease.release()
                raise
            upstream.lease = lease
            self.pool.succeeded(account)
            return upstream
        if last is not None:
            raise last.to_proxy_error() from last
        raise ProxyError(ErrorKind.UNAVAILABLE, "No usable Kiro account is available; add or re-login an account.",
                         retry_after=NO_ACCOUNT_RETRY_AFTER)

    def _backoff(self, n: int) -> None:
        """Sleep before retry `n` (0-based): exponential, capped, with full jitter against bursts."""
        ceiling = min(self.settings.retry_backoff_max, self.settings.retry_backoff * (2 ** n))
        self._sleep(ceiling * (0.5 + self._rng.random() / 2))

    def _open_on(self, account: Account, chat: Chat, model: KiroModel, input_estimate: int,
                 measured: Optional[BuiltRequest] = None) -> Upstream:
        """Open one account's stream and wait for its first event; refresh once on a stale token."""
        account = self.tokens.fresh(account.id)
        try:
            return self._first_event(account, chat, model, input_estimate, measured)
        except KiroError as e:
            if e.account_fault != "token":
                raise
            account = self.tokens.force_refresh(account.id, account.access_token)
            return self._first_event(account, chat, model, input_estimate, measured)

    def _first_event(self, account: Account, chat: Chat, model: KiroModel, input_estimate: int,
                     measured: Optional[BuiltRequest] = None) -> Upstream:
        # built per account: the profile ARN is part of the body and of its size check; from the
        # measuring build when there is one (the same bytes, only the ids differ)
        ids = dict(profile_arn=account.profile_arn or None, conversation_id=conversation_id(chat),
                   max_body_bytes=self.settings.max_body_bytes)
        built = for_account(measured, **ids) if measured is not None else None
        if built is None:
            built = build_request(chat, model_id=model.id, max_tool_description=self.settings.max_tool_description,
                                  **ids)
        parser = KiroEventParser(thinking_tags=built.thinking_tags, context_window=model.context_window,
                                 input_tokens_estimate=input_estimate, tool_names=built.tool_names)
        upstream: Optional[Upstream] = None
        try:
            timeout = gevent.Timeout(self.settings.first_byte_timeout, FirstByteTimeout) if _gevent_active() \
                else contextlib.nullcontext()
            # the timer covers the POST too: a stalled Kiro holds back its headers until the first frame
            with timeout:
                response = self.client.open_stream(account, built.body)
                upstream = Upstream(account, response, self._decode(response, parser), built.web_search_tool)
                first = next(upstream.events)
        except FirstByteTimeout as e:
            if upstream is not None:
                upstream.close()
            raise KiroError.network(TimeoutError("no answer from Kiro before the first-byte timeout")) from e
        except StopIteration as e:
            upstream.close()
            raise KiroError.network(EOFError("Kiro closed the stream without an answer")) from e
        except BaseException:
            if upstream is not None:
                upstream.close()
            raise
        upstream.events = _prepend(first, upstream.events)
        return upstream

    def _decode(self, response, parser: KiroEventParser) -> Iterator[StreamEvent]:
        """Body bytes → frames → events; a broken frame is a network-class failure.

        A body that ends inside a frame, or a 200 without a single frame, is a cut connection
        (§3.5), not an answer: before the first event it fails over, after it the client gets
        a StreamError instead of a clean Stop on half an answer."""
        decoder = EventStreamDecoder()
        frames_seen = 0
        for chunk in self.client.iter_body(response):
            try:
                frames = decoder.feed(chunk)
            except EventStreamError as e:
                raise KiroError.network(e) from e
            frames_seen += len(frames)
            for frame in frames:
                yield from parser.feed(frame)
        if decoder.buffered:
            raise KiroError.network(EOFError(f"Kiro's stream ended inside a frame ({decoder.buffered} bytes left)"))
        if not frames_seen:
            raise KiroError.network(EOFError("Kiro answered 200 with an empty stream"))
        yield from parser.finish()

    # ------------------------------------------------------------------ answering

    def _answer(self, fitted: Fitted, model: KiroModel, upstream: Upstream) -> Iterator[StreamEvent]:
        """The client's events: web-search rounds served in between, stop sequences applied."""
        chat = fitted.chat
        opened = [upstream]  # every upstream of this answer, closed by the request's own greenlet
        rounds = with_web_search(chat, opened, reopen=lambda longer: self._open(longer, model),
                                 search=self.client.web_search)
        events = self.history.tap(fitted, rounds)
        events = apply_stop_sequences(events, chat.stop_sequences, fitted.tokens)
        if _gevent_active():
            events = with_pings(events, self.settings.ping_interval)
        return _Answer(self._guarded(events, opened), opened)

    def _guarded(self, events: Iterator[StreamEvent], opened: list[Upstream]) -> Iterator[StreamEvent]:
        deadline = time.monotonic() + self.settings.request_deadline
        try:
            for event in events:
                yield event
                if time.monotonic() > deadline:
                    yield StreamError(ProxyError(ErrorKind.TIMEOUT, "The answer took longer than the request deadline."))
                    return
        except KiroError as e:
            log.warning("upstream failed mid-stream: %s", e)
            self.pool.failed(opened[-1].account, e)
            yield StreamError(e.to_proxy_error())
        except ProxyError as e:
            yield StreamError(e)
        finally:
            events.close() if hasattr(events, "close") else None
            for upstream in opened:  # idempotent: a pump greenlet may have closed some already
                upstream.close()


class _Answer:
    """The client's events. `close()` frees every upstream even if reading never began: the
    WSGI server may close a body it never iterated, and closing a generator that has not
    started runs none of its `finally` (the stream slot would leak for good)."""

    def __init__(self, events: Iterator[StreamEvent], opened: list[Upstream]):
        self._events = events
        self._opened = opened

    def __iter__(self) -> "_Answer":
        return self

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def close(self) -> None:
        try:
            self._events.close()  # a started answer cleans up in its own finally
        finally:
            for upstream in self._opened:  # idempotent
                upstream.close()


def _refusal_or_last(refusal: NoAccountNow, last: Optional[KiroError]) -> ProxyError:
    """What the client hears when no account is left: a rate limit or saturation says when to
    come back; otherwise Kiro's last answer explains more than "no account"."""
    if last is None or refusal.kind in (ErrorKind.RATE_LIMITED,) or refusal.soon:
        return refusal
    return last.to_proxy_error()


def _prepend(first: StreamEvent, rest: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    yield first
    yield from rest

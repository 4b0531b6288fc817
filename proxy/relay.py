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
import threading
import time
import uuid
from typing import Iterator, Optional

import gevent
from gevent import monkey

from proxy.account import Account
from proxy.chat import (Chat, Message, Ping, Thinking, ServerToolCall, ServerToolResult, Stop, StreamError,
                        StreamEvent, TextDelta, ToolCallDelta, ToolCallEnd, ToolCallPart, ToolCallStart,
                        ToolResultPart, TextPart)
from proxy.errors import ErrorKind, ProxyError
from proxy.estimate import estimate_tokens
from proxy.kiro.errors import KiroError
from proxy.kiro.eventstream import EventStreamDecoder, EventStreamError
from proxy.kiro.events import KiroEventParser
from proxy.kiro.models import KiroModel, resolve_model
from proxy.kiro.request import build_request
from proxy.kiro.tokens import AccountUnavailable, RefreshFailed, TokenManager
from proxy.pool import Pool
from proxy.settings import Settings
from proxy.streamops import apply_stop_sequences
from store.accounts import AccountStore

log = logging.getLogger(__name__)

WEB_SEARCH_TOOL = "web_search"  # the Kiro-side function the request builder declares
MAX_ATTEMPTS = 4  # accounts tried per request before giving up
THROTTLE_COOLDOWN = 300.0  # "suspicious activity": rest the account (a ban precursor)
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

    def close(self) -> None:
        """Release the connection (safe to call twice)."""
        with contextlib.suppress(Exception):  # closing a dead socket must never mask the real error
            self.response.close()


def conversation_id(chat: Chat) -> str:
    """Stable per conversation when the client names one (helps Kiro's prefix cache)."""
    return str(uuid.uuid5(CONVERSATION_NS, chat.session_key)) if chat.session_key else str(uuid.uuid4())


def _gevent_active() -> bool:
    return monkey.is_module_patched("socket")


class Relay:
    """Turns a Chat into a stream of neutral events from Kiro, with failover."""

    def __init__(self, settings: Settings, accounts: AccountStore, tokens: TokenManager,
                 client, pool: Pool):
        self.settings = settings
        self.accounts = accounts
        self.tokens = tokens
        self.client = client
        self.pool = pool
        self._slots = threading.BoundedSemaphore(settings.max_upstream_streams)

    # ------------------------------------------------------------------ public

    def start(self, chat: Chat) -> Iterator[StreamEvent]:
        """Open the upstream (with failover) and return the answer's events."""
        if not self._slots.acquire(blocking=False):  # fail fast: a queue would hide the overload
            raise ProxyError(ErrorKind.UNAVAILABLE, "The proxy is at its limit of concurrent upstream streams.",
                             retry_after=2)
        try:
            model = resolve_model(chat.model, self.settings.model_map, self.settings.default_model)
            if model.thinking_suffix and chat.thinking is None:  # "-thinking" model names turn reasoning on
                chat = dataclasses.replace(chat, thinking=Thinking("enabled"))
            upstream = self._open(chat, model)
        except BaseException:
            self._slots.release()
            raise
        return self._answer(chat, model, upstream)

    # ------------------------------------------------------------------ opening

    def _open(self, chat: Chat, model: KiroModel, exclude: frozenset[str] = frozenset()) -> Upstream:
        """Try accounts until one yields a first event; raise the client-facing error otherwise."""
        input_estimate = estimate_tokens(chat)
        tried: set[str] = set(exclude)
        last: Optional[KiroError] = None
        for _ in range(MAX_ATTEMPTS):
            account = self.pool.choose(chat.session_key, frozenset(tried))
            if account is None:
                break
            tried.add(account.id)
            try:
                return self._open_on(account, chat, model, input_estimate)
            except (AccountUnavailable, RefreshFailed) as e:
                log.warning("account %s unusable: %s", account.id, e)
                continue
            except KiroError as e:
                self._record_fault(account, e)
                if e.fatal_for_request or not e.retry_elsewhere:
                    raise e.to_proxy_error() from e
                last = e
                if chat.session_key:
                    self.pool.forget_session(chat.session_key)
        if last is not None:
            raise last.to_proxy_error() from last
        raise ProxyError(ErrorKind.UNAVAILABLE, "No usable Kiro account is available; add or re-login an account.",
                         retry_after=30)

    def _open_on(self, account: Account, chat: Chat, model: KiroModel, input_estimate: int) -> Upstream:
        """Open one account's stream and wait for its first event; refresh once on a stale token."""
        account = self.tokens.fresh(account.id)
        try:
            return self._first_event(account, chat, model, input_estimate)
        except KiroError as e:
            if e.account_fault != "token":
                raise
            account = self.tokens.force_refresh(account.id, account.access_token)
            return self._first_event(account, chat, model, input_estimate)

    def _first_event(self, account: Account, chat: Chat, model: KiroModel, input_estimate: int) -> Upstream:
        # built per account: the profile ARN is part of the body and of its size check
        built = build_request(chat, model_id=model.id, profile_arn=account.profile_arn or None,
                              conversation_id=conversation_id(chat), max_body_bytes=self.settings.max_body_bytes,
                              max_tool_description=self.settings.max_tool_description)
        response = self.client.open_stream(account, built.body)
        parser = KiroEventParser(thinking_tags=built.thinking_tags, context_window=model.context_window,
                                 input_tokens_estimate=input_estimate, tool_names=built.tool_names)
        events = self._decode(response, parser)
        upstream = Upstream(account, response, events, built.web_search_tool)
        try:
            timeout = gevent.Timeout(self.settings.first_byte_timeout, FirstByteTimeout) if _gevent_active() \
                else contextlib.nullcontext()
            with timeout:
                first = next(events)
        except FirstByteTimeout as e:
            upstream.close()
            raise KiroError.network(TimeoutError("no answer from Kiro before the first-byte timeout")) from e
        except StopIteration as e:
            upstream.close()
            raise KiroError.network(EOFError("Kiro closed the stream without an answer")) from e
        except BaseException:
            upstream.close()
            raise
        upstream.events = _prepend(first, events)
        return upstream

    def _decode(self, response, parser: KiroEventParser) -> Iterator[StreamEvent]:
        """Body bytes → frames → events; a broken frame is a network-class failure."""
        decoder = EventStreamDecoder()
        for chunk in self.client.iter_body(response):
            try:
                frames = decoder.feed(chunk)
            except EventStreamError as e:
                raise KiroError.network(e) from e
            for frame in frames:
                yield from parser.feed(frame)
        yield from parser.finish()

    def _record_fault(self, account: Account, err: KiroError) -> None:
        """Remember what the error says about the account, so it is not chosen blindly again."""
        fault = err.account_fault
        if fault == "banned":
            log.error("account %s suspended by Kiro: disabled", account.id)
            self.accounts.update(account.id, enabled=False, status="banned", status_reason=err.message[:300])
        elif fault == "quota":
            self.accounts.update(account.id, status="exhausted", status_reason=err.message[:300])
        elif fault == "throttled":
            self.pool.cool_down(account.id, THROTTLE_COOLDOWN)

    # ------------------------------------------------------------------ answering

    def _answer(self, chat: Chat, model: KiroModel, upstream: Upstream) -> Iterator[StreamEvent]:
        """The client's events: web-search rounds served in between, stop sequences applied."""
        events = self._with_search(chat, model, upstream)
        events = apply_stop_sequences(events, chat.stop_sequences, estimate_tokens(chat))
        if _gevent_active():
            events = _with_pings(events, self.settings.ping_interval)
        return self._guarded(events, upstream)

    def _guarded(self, events: Iterator[StreamEvent], upstream: Upstream) -> Iterator[StreamEvent]:
        deadline = time.monotonic() + self.settings.request_deadline
        try:
            for event in events:
                yield event
                if time.monotonic() > deadline:
                    yield StreamError(ProxyError(ErrorKind.TIMEOUT, "The answer took longer than the request deadline."))
                    return
        except KiroError as e:
            log.warning("upstream failed mid-stream: %s", e)
            yield StreamError(e.to_proxy_error())
        except ProxyError as e:
            yield StreamError(e)
        finally:
            events.close() if hasattr(events, "close") else None
            upstream.close()
            self._slots.release()

    def _with_search(self, chat: Chat, model: KiroModel, upstream: Upstream) -> Iterator[StreamEvent]:
        """Pass events through; when the model calls web_search, run it via MCP and continue."""
        max_rounds = (chat.web_search.max_uses or 3) if chat.web_search else 0
        rounds = 0
        while True:
            hidden: set[str] = set()
            search: Optional[ToolCallEnd] = None
            client_calls = False
            text: list[str] = []
            try:
                for event in upstream.events:
                    if isinstance(event, ToolCallStart) and upstream.search_tool and \
                            event.name == upstream.search_tool:
                        hidden.add(event.id)
                        continue
                    if isinstance(event, (ToolCallDelta, ToolCallEnd)) and event.id in hidden:
                        if isinstance(event, ToolCallEnd):
                            search = event
                        continue
                    if isinstance(event, ToolCallEnd):
                        client_calls = True
                    elif isinstance(event, TextDelta):
                        text.append(event.text)
                    elif isinstance(event, Stop) and search and not client_calls and rounds < max_rounds:
                        break  # the answer continues after the search
                    yield event
                else:
                    return
            finally:
                upstream.close()
            query = str(search.arguments.get("query") or "").strip()
            yield ServerToolCall(search.id, "web_search", {"query": query})
            try:
                results = self.client.web_search(upstream.account, query)
                yield ServerToolResult(search.id, "web_search", results)
                summary = _results_text(results)
            except KiroError as e:
                log.warning("web search failed: %s", e)
                yield ServerToolResult(search.id, "web_search", [], error="unavailable")
                summary = "The web search failed; answer from what you know and say so."
            rounds += 1
            said = [TextPart("".join(text))] if text else []
            chat = dataclasses.replace(chat, messages=chat.messages + [
                Message("assistant", said + [ToolCallPart(search.id, WEB_SEARCH_TOOL, {"query": query})]),
                Message("user", [ToolResultPart(search.id, summary)]),
            ])
            upstream = self._open(chat, model)


def _results_text(results: list[dict]) -> str:
    """Search results as the text the model reads."""
    if not results:
        return "No results."
    return "\n\n".join(f"[{i}] {r['title']}\n{r['url']}\n{r['snippet']}" for i, r in enumerate(results, 1))


def _prepend(first: StreamEvent, rest: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    yield first
    yield from rest


def _with_pings(events: Iterator[StreamEvent], interval: float) -> Iterator[StreamEvent]:
    """Yield Ping when the upstream is silent for `interval` s (a reader greenlet feeds a bounded queue)."""
    from gevent.queue import Empty, Queue

    queue: Queue = Queue(maxsize=64)  # bounded: a slow client must not make us buffer the whole answer
    done = object()

    def pump() -> None:
        try:
            for event in events:
                queue.put(event)
        except BaseException as e:  # handed to the consumer, which re-raises it in its own greenlet
            queue.put(e)
            return
        queue.put(done)

    reader = gevent.spawn(pump)
    try:
        while True:
            try:
                item = queue.get(timeout=interval)
            except Empty:
                yield Ping()
                continue
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        reader.kill(block=False)

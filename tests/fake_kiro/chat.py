"""GenerateAssistantResponse: auth, faults, validation, quota, then the scripted event stream."""
from __future__ import annotations

import socket as socketlib
import time
from typing import Iterator, Optional

from flask import Response, g, request

from . import bodies
from .eventstream import corrupt_crc, exception_frame
from .faults import EXCEPTION_MESSAGE, Fault
from .render import StreamParts, render, truncated_plan
from .script import REASONING_TEXT, ToolCall, plan_reply
from .state import FakeState
from .validation import ChatRequest, Rejected, check_chat
from .web import bearer_account, bearer_rejected, fake_state, http_fault, take_fault

SOCKET_KEY = "fake_kiro.socket"  # set by the __main__ server so reset_midstream can cut the connection
EVENTSTREAM = "application/vnd.amazon.eventstream"


class MidstreamReset(ConnectionResetError):
    """Raised inside the stream when no socket is at hand (Flask test client) for reset_midstream."""


def generate_assistant_response():
    """The chat operation; errors are JSON bodies, success is an event stream."""
    state = fake_state()
    raw = request.get_data(cache=True)
    account = bearer_account()
    if account is None:
        state.count_chat(None, ok=False)
        return bearer_rejected()
    fault = take_fault("chat", account)
    if fault is not None and fault.is_http:
        state.count_chat(account, ok=False)
        return http_fault(fault, account)
    config = state.config
    if account.usage >= account.usage_limit:
        state.count_chat(account, ok=False)
        return bodies.json_response(bodies.MONTHLY_LIMIT, 402)
    try:
        chat = check_chat(raw, config)
    except Rejected as rejected:
        g.fake_rule = rejected.rule
        state.count_chat(account, ok=False)
        return bodies.json_response(rejected.body, rejected.status)
    frames, first_delay, reset_after = _frames(state, chat, fault)
    state.count_chat(account, ok=True)
    stream = _stream(state, frames, first_delay, config.frame_delay, reset_after,
                     request.environ.get(SOCKET_KEY))
    resp = Response(stream, status=200, content_type=EVENTSTREAM)
    resp.headers["x-amzn-requestid"] = bodies.request_id()
    return resp


def _frames(state: FakeState, chat: ChatRequest, fault: Optional[Fault]):
    """The frame list for this request with any stream fault applied: (frames, first delay, reset index)."""
    config = state.config
    plan = plan_reply(chat, config.hello_text)
    g.fake_directive = plan.directive
    kind = fault.kind if fault else None
    if kind == "thinking" and not plan.reasoning:
        plan.reasoning = REASONING_TEXT
    if kind == "truncated_tool":
        fallback = None
        if chat.tools:
            fallback = ToolCall(chat.tools[0]["name"], {"content": "line\n" * 40})
        plan = truncated_plan(plan, fallback)
    parts: StreamParts = render(plan, input_tokens=chat.input_tokens, window=chat.window,
                                credits=config.credits_per_request, text_chunk=config.text_chunk_chars,
                                fragment_chars=config.tool_fragment_chars, emit_metadata=config.emit_metadata,
                                truncate_tools=kind == "truncated_tool")
    frames = parts.all()
    first_delay = (fault.delay or 0.0) if fault else 0.0
    if kind == "slow_first_byte" and fault.delay is None:
        first_delay = config.slow_first_byte_delay
    reset_after = None
    if kind == "exception_frame":
        body = parts.body()
        frames = body[:min(2, len(body))] + [exception_frame(fault.exception_type, EXCEPTION_MESSAGE)]
    elif kind == "reset_midstream":
        reset_after = max(1, len(parts.body()) // 2)
    elif kind == "bad_crc":
        index = min(1, len(frames) - 1)
        frames = frames[:index] + [corrupt_crc(frames[index])] + frames[index + 1:]
    if parts.tail and kind not in ("exception_frame", "reset_midstream"):
        # Credits are charged exactly when the meteringEvent is part of the stream.
        account = state.accounts.get(g.fake_account_id)
        with state.lock:
            account.usage += config.credits_per_request
    return frames, first_delay, reset_after


def _drop(sock) -> None:
    """Cut the client connection (FIN both ways) so the chunked body ends abruptly."""
    if sock is None:
        raise MidstreamReset("fake_kiro reset_midstream")
    try:
        sock.shutdown(socketlib.SHUT_RDWR)
    except OSError:
        pass  # already gone: the effect we wanted


def _stream(state: FakeState, frames: list, first_delay: float, frame_delay: float,
            reset_after: Optional[int], sock) -> Iterator[bytes]:
    """Yield frames with the configured delays; count the stream as active meanwhile."""
    state.stream_started()
    try:
        if first_delay:
            time.sleep(first_delay)
        for index, frame in enumerate(frames):
            if reset_after is not None and index == reset_after:
                _drop(sock)
                return
            if index and frame_delay:
                time.sleep(frame_delay)
            yield frame
    finally:
        state.stream_ended()

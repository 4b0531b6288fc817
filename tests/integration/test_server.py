"""The real server (gevent pywsgi in a subprocess) with the fake Kiro: streaming timing,
keep-alive pings, disconnects, broken upstream streams, slow upstreams, shutdown, file modes."""
from __future__ import annotations

import signal
import stat
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.helpers import (ANTHROPIC_HEADERS, HELLO, TimedStream, account_stats, anthropic_body,
                                       event_names, parse_sse, ready_account, streamed_text, wait_for)

pytestmark = pytest.mark.integration


def stream(server, text: str = "say hello", **overrides) -> TimedStream:
    """Open a streamed Anthropic request on the server."""
    return TimedStream(server.url, "/v1/messages", anthropic_body(text, stream=True, **overrides), ANTHROPIC_HEADERS)


def settle(fake_kiro) -> None:
    """Wait until the fake's abandoned slow streams have ended, so the next test starts clean.

    The fake's reset zeroes its live-stream gauge even while a stream is still sleeping.
    """
    assert wait_for(lambda: fake_kiro.stats()["totals"]["active_streams"] <= 0, timeout=10)


def test_stream_is_relayed_as_it_arrives_not_buffered(proxy_server, fake_kiro):
    fake_kiro.configure(frame_delay=0.3, text_chunk_chars=8)
    answer = stream(proxy_server)
    raw = answer.read_all()
    assert answer.status == 200
    assert streamed_text(raw) == HELLO
    times = [t for t, _ in answer.chunks]
    first, last = times[0], times[-1]
    assert first < 1.0  # message_start left with the first upstream event
    assert last - first > 1.0  # ~6 frames 0.3 s apart: the answer trickled in
    assert len(answer.chunks) >= 4
    # pieces arrive through the whole answer, not bunched at its end
    assert sum(1 for t in times if t < first + (last - first) / 2) >= 2


def test_pings_keep_a_slow_stream_alive(serve, fake_kiro, fake_account):
    server = serve([ready_account(fake_account)], ping_interval="0.2")
    fake_kiro.configure(frame_delay=0.5, text_chunk_chars=8)
    raw = stream(server).read_all()
    names = event_names(raw)
    assert names.count("ping") >= 3
    assert names[0] == "message_start" and names[-1] == "message_stop"
    first_text = names.index("content_block_delta")
    assert "ping" in names[first_text:names.index("content_block_stop")]  # between deltas, not only at the end
    assert streamed_text(raw) == HELLO


def test_client_disconnect_closes_the_upstream(proxy_server, fake_kiro):
    fake_kiro.configure(frame_delay=0.3, hello_text="word " * 100)  # ~125 frames: ~40 s if left alone
    answer = stream(proxy_server)
    assert answer.status == 200
    answer.read_some()
    assert fake_kiro.stats()["totals"]["active_streams"] == 1
    answer.close()
    assert wait_for(lambda: fake_kiro.stats()["totals"]["active_streams"] == 0, timeout=5)
    # the proxy is still fine afterwards
    fake_kiro.configure(frame_delay=0.0, hello_text=HELLO)
    assert streamed_text(stream(proxy_server).read_all()) == HELLO


def _ends_with_error_event(raw: bytes) -> dict:
    """The final `error` event of a stream that broke after it began (asserted)."""
    events = parse_sse(raw)
    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[-1] == "error"
    assert "message_stop" not in names
    return events[-1][1]


def test_upstream_reset_midstream_becomes_an_error_event(proxy_server, fake_kiro):
    fake_kiro.configure(frame_delay=0.05)  # frames arrive apart: the first event is out before the reset
    fake_kiro.fault("reset_midstream")
    answer = stream(proxy_server)
    raw = answer.read_all()  # http.client raises IncompleteRead if the proxy's chunked body were cut
    assert answer.status == 200
    error = _ends_with_error_event(raw)
    assert error == {"type": "error", "error": {"type": "api_error", "message": "Kiro request failed."}}
    assert streamed_text(raw) and streamed_text(raw) != HELLO


def test_bad_crc_midstream_becomes_an_error_event(proxy_server, fake_kiro):
    fake_kiro.configure(frame_delay=0.05)
    fake_kiro.fault("bad_crc")
    answer = stream(proxy_server)
    raw = answer.read_all()
    assert answer.status == 200
    assert _ends_with_error_event(raw)["error"]["type"] == "api_error"


def test_whole_answer_after_a_midstream_reset_is_a_json_error(proxy_server, fake_kiro):
    fake_kiro.configure(frame_delay=0.05)
    fake_kiro.fault("reset_midstream")
    answer = TimedStream(proxy_server.url, "/v1/messages", anthropic_body(), ANTHROPIC_HEADERS)
    raw = answer.read_all()
    assert answer.status == 502
    assert b'"type": "api_error"' in raw


def test_slow_first_byte_fails_over_to_the_next_account(serve, fake_kiro, two_fake_accounts):
    a, b = two_fake_accounts
    server = serve([ready_account(creds, order) for order, creds in enumerate(two_fake_accounts)],
                   first_byte_timeout="1")
    fake_kiro.fault("slow_first_byte", account=a["account_id"], delay=3)
    started = time.monotonic()
    answer = stream(server)
    raw = answer.read_all()
    elapsed = time.monotonic() - started
    assert answer.status == 200
    assert streamed_text(raw) == HELLO
    assert account_stats(fake_kiro, a)["chat_requests"] == 1
    assert account_stats(fake_kiro, b)["chat_ok"] == 1
    assert elapsed < 2.5  # the timeout (1 s) cut the wait, not the fake's 3 s delay
    settle(fake_kiro)


def test_slow_first_byte_on_the_only_account_is_a_timeout(serve, fake_kiro, fake_account):
    server = serve([ready_account(fake_account)], first_byte_timeout="1")
    fake_kiro.fault("slow_first_byte", delay=3)
    answer = stream(server)
    raw = answer.read_all()
    assert answer.status == 504
    assert answer.header_time < 2.5
    assert parse_sse(raw) == [] and b'"api_error"' in raw
    settle(fake_kiro)


def test_sigterm_stops_the_server_with_exit_code_0(proxy_server):
    assert streamed_text(stream(proxy_server).read_all()) == HELLO
    proxy_server.proc.send_signal(signal.SIGTERM)
    assert proxy_server.proc.wait(timeout=15) == 0


def test_data_files_are_private(proxy_server):
    stream(proxy_server).read_all()  # the first request refreshes the token, which rewrites accounts.json
    data_dir = proxy_server.data_dir
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "accounts.json" for p in files)
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


def test_sigterm_during_a_stream_ends_it_and_exits_0(proxy_server, fake_kiro):
    fake_kiro.configure(frame_delay=0.3, hello_text="word " * 100)
    answer = stream(proxy_server)
    answer.read_some()
    proxy_server.proc.send_signal(signal.SIGTERM)
    assert proxy_server.proc.wait(timeout=15) == 0  # after the server's grace period for open streams
    assert wait_for(lambda: fake_kiro.stats()["totals"]["active_streams"] == 0, timeout=5)


def test_stream_slots_come_back_after_concurrent_streams(serve, fake_kiro, fake_account):
    server = serve([ready_account(fake_account)], max_upstream_streams="20", probation_streams="0", queue_wait="0")
    fake_kiro.configure(frame_delay=0.01, text_chunk_chars=16, hello_text="Words that take a while. " * 40)

    def one(_) -> int:
        answer = stream(server)
        answer.read_all()
        answer.close()
        return answer.status

    statuses = []
    with ThreadPoolExecutor(19) as pool:
        for _ in range(5):  # 95 streams through 20 slots, 19 at a time: only returned slots make this pass
            statuses += list(pool.map(one, range(19)))
    assert statuses.count(200) == len(statuses), f"{statuses.count(503)} of {len(statuses)} got 503"

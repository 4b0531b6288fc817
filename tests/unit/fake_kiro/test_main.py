"""Tests for tests/fake_kiro/__main__.py: the real gevent server in a subprocess."""
import argparse
import concurrent.futures
import json
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.fake_kiro.__main__ import parse_account
from tests.fake_kiro.eventstream import decode_events
from tests.unit.fake_kiro.helpers import chat_body, raw

REPO = Path(__file__).resolve().parents[3]
SEED = "aorAAAAAGseed:MGUCMQsig"  # look-alike tokens contain a colon


def read_port_line(proc, timeout=20.0) -> str:
    """The first stdout line of the server, or fail after `timeout` seconds."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "fake-kiro did not announce its port"
    return proc.stdout.readline().decode().rstrip("\n")


@pytest.fixture(scope="module")
def server():
    """A `python -m tests.fake_kiro --port 0` subprocess; yields (base_url, first stdout line, proc)."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.fake_kiro", "--port", "0", "--account", f"social:{SEED}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = read_port_line(proc)
        yield line.rsplit(" ", 1)[1], line, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def base(server):
    """Base URL of the server, reset before each test."""
    url = server[0]
    requests.post(f"{url}/__fake/reset", timeout=5).raise_for_status()
    return url


def access_token(base: str) -> str:
    """Refresh the seeded account and return a live access token."""
    resp = requests.post(f"{base}/refreshToken", json={"refreshToken": SEED}, timeout=5)
    resp.raise_for_status()
    return resp.json()["accessToken"]


def chat(base: str, token: str, **kw) -> requests.Response:
    """A streamed chat request."""
    return requests.post(f"{base}/generateAssistantResponse", data=raw(chat_body(**kw)), stream=True, timeout=30,
                         headers={"authorization": f"Bearer {token}", "content-type": "application/json"})


def test_port_line_format(server):
    url, line, _ = server
    assert line.startswith("fake-kiro listening on http://127.0.0.1:")
    assert int(url.rsplit(":", 1)[1]) > 0


def test_real_chat_request_streams_frames(base):
    resp = chat(base, access_token(base))
    assert resp.status_code == 200 and resp.headers["transfer-encoding"] == "chunked"
    evts = decode_events(b"".join(resp.iter_content(None)))
    assert "".join(p["content"] for t, p in evts if t == "assistantResponseEvent") == "Hello! This is the fake Kiro."


def test_reset_midstream_drops_the_connection(base):
    token = access_token(base)
    requests.post(f"{base}/__fake/faults", json={"kind": "reset_midstream"}, timeout=5).raise_for_status()
    resp = chat(base, token)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        b"".join(resp.iter_content(None))
    assert chat(base, token).status_code == 200  # the server is fine afterwards


def test_sixty_four_concurrent_streams(base):
    token = access_token(base)
    requests.post(f"{base}/__fake/config", json={"frame_delay": 0.05}, timeout=5).raise_for_status()

    def one(_):
        resp = chat(base, token)
        return decode_events(b"".join(resp.iter_content(None)))[-1][0]

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        last_events = list(pool.map(one, range(64)))
    elapsed = time.monotonic() - started
    assert last_events == ["contextUsageEvent"] * 64
    stats = requests.get(f"{base}/__fake/stats", timeout=5).json()
    assert stats["totals"]["max_active_streams"] >= 64 and stats["totals"]["active_streams"] == 0
    assert elapsed < 10  # ~0.6 s of frame delays each: they ran concurrently, not one after another


def test_seeded_idc_and_bad_specs():
    assert parse_account("idc:cid:secret:aorTok:en") == {"auth_method": "idc", "client_id": "cid",
                                                         "client_secret": "secret", "refresh_token": "aorTok:en"}
    assert parse_account("social:aorA:B") == {"auth_method": "social", "refresh_token": "aorA:B"}
    for bad in ("social:", "idc:a:b", "google:x"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_account(bad)


def test_only_one_stdout_line(server, base):
    requests.get(f"{base}/__fake/stats", timeout=5)
    _, _, proc = server
    ready, _, _ = select.select([proc.stdout], [], [], 0.2)
    assert not ready  # nothing after the port line
    assert json.loads(requests.get(f"{base}/__fake/health", timeout=5).text) == {"ok": True}

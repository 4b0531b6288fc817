"""`python app.py` as a user runs it: help, bad settings, broken or busy data dirs, no accounts,
oversized bodies, and the offline account commands against a running server."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest
import requests

from store import open_stores
from tests.support import REPO, make_account, run_app, seed_data_dir, stop

pytestmark = pytest.mark.integration

NO_ACCOUNT = "No usable Kiro account"


def run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """`python app.py <args>` to completion."""
    import os
    full_env = {**os.environ, **(env or {})}
    full_env.pop("KIRO_PROXY_API_KEYS", None)
    return subprocess.run([sys.executable, "app.py", *args], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args, says", [([], "serve"), (["serve"], "--port"), (["accounts"], "import")])
def test_help_works(args, says):
    done = run(*args, "--help")
    assert done.returncode == 0 and says in done.stdout and not done.stderr


@pytest.mark.parametrize("env, says", [
    ({"KIRO_PROXY_PORT": "abc"}, "error: bad setting: KIRO_PROXY_PORT: 'abc' is not a whole number"),
    ({"KIRO_PROXY_READ_TIMEOUT": "-3"}, "error: bad setting: KIRO_PROXY_READ_TIMEOUT: read_timeout must be greater than 0"),
    ({"KIRO_PROXY_HISTORY_SMART_SUMMARY": "perhaps"}, "is not true or false"),
])
@pytest.mark.parametrize("command", [[], ["accounts", "list"]])
def test_bad_setting_is_a_clear_error_not_a_traceback(tmp_path, env, says, command):
    done = run(*command, env={"KIRO_PROXY_HOME": str(tmp_path / "data"), **env})
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr


def test_corrupt_settings_file_is_a_clear_error(tmp_path):
    (tmp_path / "settings.json").write_text("{nope")
    done = run("--port", "0", env={"KIRO_PROXY_HOME": str(tmp_path)})
    assert done.returncode == 2 and "settings.json is not valid data" in done.stderr
    assert "Traceback" not in done.stderr


def test_corrupt_accounts_file_refuses_to_start_and_is_left_alone(tmp_path):
    broken = '{"accounts": {"1": {"id": "a", "refresh_token": '
    (tmp_path / "accounts.json").write_text(broken)
    done = run("--port", "0", env={"KIRO_PROXY_HOME": str(tmp_path)})
    assert done.returncode == 1
    assert "accounts.json is not valid data" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "accounts.json").read_text() == broken
    listing = run("accounts", "list", env={"KIRO_PROXY_HOME": str(tmp_path)})
    assert listing.returncode == 1 and "accounts.json is not valid data" in listing.stderr


def test_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run("--port", str(taken.getsockname()[1]), env={"KIRO_PROXY_HOME": str(tmp_path)})
    assert done.returncode == 1 and "cannot listen on 127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def empty_server(tmp_path):
    """The real server on an empty data dir."""
    server = run_app(["--port", "0"], tmp_path / "data", tmp_path / "proxy.log")
    yield server
    stop(server.proc)


def test_second_server_on_the_same_data_dir_refuses(empty_server, tmp_path):
    done = run("--port", "0", env={"KIRO_PROXY_HOME": str(tmp_path / "data")})
    assert done.returncode == 2
    assert f"process {empty_server.proc.pid} is using the data dir" in done.stderr
    assert "Traceback" not in done.stderr


def test_accounts_add_while_the_server_runs_is_refused_and_changes_nothing(empty_server, tmp_path):
    token = make_account().refresh_token
    done = run("accounts", "add", "--refresh-token", token, env={"KIRO_PROXY_HOME": str(tmp_path / "data")})
    assert done.returncode == 2 and "kiro-proxy is running" in done.stderr
    stop(empty_server.proc)
    stores = open_stores(tmp_path / "data")
    try:
        assert stores.accounts.list() == []
    finally:
        stores.close()


@pytest.mark.parametrize("path, body, shape", [
    ("/v1/messages", {"model": "claude-sonnet-4.5", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]},
     lambda b: b["type"] == "error"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
     lambda b: b["error"]["code"] == "service_unavailable"),
    ("/v1/responses", {"model": "gpt-5", "input": "hi", "stream": True},
     lambda b: b["error"]["code"] == "service_unavailable"),
    ("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
     {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, lambda b: b["error"]["status"] == "UNAVAILABLE"),
])
def test_no_accounts_is_a_clear_503_in_each_protocol(empty_server, path, body, shape):
    resp = requests.post(empty_server.url + path, json=body, timeout=30)
    assert resp.status_code == 503 and "Retry-After" in resp.headers
    assert shape(resp.json()) and NO_ACCOUNT in resp.text
    assert requests.get(empty_server.url + "/health", timeout=10).json()["accounts"] == 0
    assert "no Kiro accounts yet" in empty_server.output()


def test_unknown_variable_and_open_bind_are_warned_about(tmp_path):
    server = run_app(["--port", "0", "--host", "0.0.0.0"], tmp_path / "data", tmp_path / "proxy.log",
                     KIRO_PROXY_API_KEY="meant-as-a-key")
    try:
        output = server.output()
        assert "KIRO_PROXY_API_KEY is not a setting and is ignored (did you mean KIRO_PROXY_API_KEYS?)" in output
        assert "without KIRO_PROXY_API_KEYS" in output
        assert "meant-as-a-key" not in output
    finally:
        stop(server.proc)


# ------------------------------------------------------------------ oversized bodies on the real server


def raw_request(url: str, head: str, body: bytes = b"", timeout: float = 10) -> tuple[int, bytes, float]:
    """Send a request head (and some body) over a socket; (status, whole answer, seconds to the answer)."""
    parsed = urlparse(url)
    started = time.monotonic()
    with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1") + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer, time.monotonic() - started


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def test_a_100_mb_body_is_refused_with_413_before_it_is_sent(empty_server):
    # Only the head and 1 KB of the declared 100 MB are sent: a server that read the body would
    # wait for the rest until the socket timeout instead of answering.
    head = ("POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {100 * 1024 * 1024}\r\n\r\n")
    status, answer, took = raw_request(empty_server.url, head, b"{" + b" " * 1023)
    assert status == 413 and took < 5
    body = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert body["error"]["type"] == "request_too_large"


def test_a_chunked_body_over_the_cap_is_refused_with_413(tmp_path):
    server = run_app(["--port", "0"], tmp_path / "data", tmp_path / "proxy.log", KIRO_PROXY_MAX_REQUEST_BYTES="4096")
    try:
        chunk = b"1000\r\n" + b" " * 4096 + b"\r\n"
        head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n")
        status, answer, _ = raw_request(server.url, head, chunk * 3)  # 12 KB and no final chunk: never "done"
        assert status == 413
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["type"] == "invalid_request_error"
        small = requests.post(server.url + "/v1/chat/completions", data=iter([b'{"model": "m", ', b'"messages": []}']),
                              headers={"content-type": "application/json"}, timeout=10)
        assert small.status_code == 400 and "messages" in small.text  # a chunked body under the cap is parsed
    finally:
        stop(server.proc)


def test_seeded_accounts_are_listed_without_secrets(tmp_path):
    account = make_account(access_token="aoaAAAAAG" + "Q" * 200, client_secret="s3cr3t" * 10)
    seed_data_dir(tmp_path, [account])
    done = run("accounts", "list", env={"KIRO_PROXY_HOME": str(tmp_path)})
    assert done.returncode == 0 and account.id in done.stdout
    for secret in (account.refresh_token, account.access_token, account.client_secret):
        assert secret not in done.stdout and secret[:12] not in done.stdout and secret not in done.stderr


def test_a_malformed_request_line_is_logged_without_its_key(empty_server):
    # pywsgi logs the raw request line of a request it cannot parse; Gemini clients put the key in it
    status, _, _ = raw_request(empty_server.url, "GET /v1beta/models?key=sk-in-the-query-123456 HTTP/9.9\r\n\r\n")
    assert status == 400
    time.sleep(0.3)
    output = empty_server.output()
    assert "Invalid http version" in output and "key=…" in output
    assert "sk-in-the-query-123456" not in output

"""Test helpers: the fake Kiro and the proxy as real subprocesses on 127.0.0.1, and factories."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import requests

from proxy.account import Account
from store import open_stores

REPO = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"listening on (http://\S+)")


def _start(cmd: list[str], env: dict, label: str, timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """Start a server that prints `... listening on <url>`; return it and the URL."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        match = LISTENING.search(line)
        if match:
            # keep draining output so a chatty server never blocks on a full pipe
            import threading
            threading.Thread(target=_drain, args=(proc, seen), daemon=True).start()
            return proc, match.group(1)
    proc.kill()
    raise RuntimeError(f"{label} did not start:\n{''.join(seen)}")


def _drain(proc: subprocess.Popen, sink: list) -> None:
    for line in proc.stdout:
        sink.append(line)
        del sink[:-500]


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server subprocess, killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class FakeKiro:
    """A running fake Kiro and its control API."""
    url: str
    proc: Optional[subprocess.Popen] = None

    def control(self, method: str, path: str, **body) -> dict:
        """Call the fake's /__fake/ control API; raises on an error answer."""
        resp = requests.request(method, f"{self.url}/__fake/{path}", json=body or None, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def add_account(self, **fields) -> dict:
        """Register an account at the fake; returns its credentials."""
        return self.control("POST", "accounts", **fields)

    def fault(self, kind: str, **options) -> dict:
        """Queue a fault (see tests/fake_kiro/README.md)."""
        return self.control("POST", "faults", kind=kind, **options)

    def configure(self, **changes) -> dict:
        """Change the fake's behaviour switches."""
        return self.control("POST", "config", **changes)

    def reset(self) -> None:
        """Forget faults, config changes, accounts and counters."""
        self.control("POST", "reset")

    def stats(self) -> dict:
        """Per-account and total counters."""
        return self.control("GET", "stats")

    def requests(self, limit: int = 50, path: str = "/generateAssistantResponse") -> list:
        """Recent requests the fake received on `path` (chat by default), oldest first."""
        resp = requests.get(f"{self.url}/__fake/requests", params={"limit": limit, "path": path}, timeout=10)
        resp.raise_for_status()
        return resp.json()["requests"]


def start_fake_kiro() -> FakeKiro:
    """`python -m tests.fake_kiro --port 0` as a subprocess."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc, url = _start([sys.executable, "-m", "tests.fake_kiro", "--port", "0"], env, "fake kiro")
    return FakeKiro(url, proc)


def make_account(**overrides) -> Account:
    """An Account with defaults; pass the fake's credentials to make it usable there."""
    values = dict(id=uuid.uuid4().hex[:8], refresh_token="aor" + "A" * 120, name="test")
    values.update(overrides)
    return Account(**values)


def account_from_fake(creds: dict, **overrides) -> Account:
    """An Account holding what the fake handed out for one of its accounts."""
    values = dict(refresh_token=creds["refresh_token"], auth_method=creds["auth_method"],
                  profile_arn=creds.get("profile_arn") or "", region=creds.get("region") or "us-east-1",
                  client_id=creds.get("client_id") or "", client_secret=creds.get("client_secret") or "",
                  name=creds.get("account_id", ""))
    values.update(overrides)
    return make_account(**values)


def seed_data_dir(data_dir: Path, accounts: list[Account]) -> None:
    """Write accounts into a data dir the way `accounts add` would."""
    stores = open_stores(data_dir)
    try:
        for account in accounts:
            stores.accounts.add(account)
    finally:
        stores.close()


@dataclass
class ProxyServer:
    """A running proxy (`python app.py serve`) and where its data lives."""
    url: str
    data_dir: Path
    proc: subprocess.Popen
    env: dict = field(default_factory=dict)


def start_proxy(data_dir: Path, upstream_url: str, **env_settings: str) -> ProxyServer:
    """`python app.py serve --port 0` with the fake as every Kiro host."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "KIRO_PROXY_HOME": str(data_dir),
           "KIRO_UPSTREAM_URL": upstream_url}
    env.pop("KIRO_PROXY_API_KEYS", None)
    # tests stop servers while SDK clients still hold idle keep-alive connections: don't wait 5 s for them
    env["KIRO_PROXY_SHUTDOWN_GRACE"] = "0.5"
    env.update({k.upper() if k.startswith("KIRO") else f"KIRO_PROXY_{k.upper()}": v for k, v in env_settings.items()})
    proc, url = _start([sys.executable, "app.py", "serve", "--port", "0"], env, "proxy")
    return ProxyServer(url, data_dir, proc, env)

# Real client requests captured against a stub (see docs/clients.md): the parsers must take them all.
CAPTURES = REPO / "tests" / "fixtures" / "clients"


@dataclass
class LoggedProxy:
    """A proxy (`python app.py …`) whose whole output goes to a file the test can read."""
    proc: subprocess.Popen
    log_path: Path
    url: str = ""

    def output(self) -> str:
        """Everything it printed so far (stdout and stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def run_app(args: list[str], data_dir: Path, log_path: Path, wait_listening: bool = True,
            timeout: float = 30.0, **env_settings: str) -> LoggedProxy:
    """`python app.py <args>` with KIRO_PROXY_HOME=data_dir and the given env; waits for the
    listening line unless told not to (a command that exits, or a start expected to fail)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "KIRO_PROXY_HOME": str(data_dir), "KIRO_PROXY_SHUTDOWN_GRACE": "0.5"}
    env.pop("KIRO_PROXY_API_KEYS", None)
    env.update(env_settings)
    with open(log_path, "w", encoding="utf-8") as sink:
        proc = subprocess.Popen([sys.executable, "app.py", *args], cwd=REPO, env=env, stdout=sink,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = LoggedProxy(proc, log_path)
    if not wait_listening:
        return server
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = LISTENING.search(server.output())
        if match:
            server.url = match.group(1)
            return server
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"proxy did not start:\n{server.output()}")


# Strings a text fast path must escape exactly as json.dumps does: quotes, backslashes, every
# control character, JavaScript's line separators, astral and CJK text, format characters, and
# lone surrogates (JSON `\ud83d` escapes in Kiro's payloads decode to them; they cannot be
# UTF-8-encoded, so the fast and the general path must fail alike).
TRICKY_TEXTS = [
    "plain", 'say "hi"', "back\\slash \\\" \\\\", "C:\\path\\to\\file", "\n\r\t\b\f",
    "".join(map(chr, range(32))), "\x7f\x80\x85\x9f\xa0", "line\u2028sep\u2029para", "emoji 😀👍🏽 🇫🇷 👩‍💻",
    "中文字符 日本語のテキスト 한국어", "zwj\u200d bom\ufeff nonchar\uffff", "</script><!-- & -->", "'single'",
    "nul\x00", "slash / and \\/", "%d %s %% {} {0}", '{"json":"inside","n":[1,2]}', "\ud800",
    "lone low \udfff", "half a pair \ud83d", "\ud83d\ude00 as two code points", "x" * 5000 + '"',
]


def same_outcome(fast, general) -> bool:
    """Whether two calls give the same value, or both raise the same exception type."""
    outcomes = []
    for call in (fast, general):
        try:
            outcomes.append(("value", call()))
        except Exception as e:  # noqa: BLE001 - the type is what is compared
            outcomes.append(("raised", type(e)))
    return outcomes[0] == outcomes[1]


FIXED_NOW = 1_800_000_000.0  # a fixed wall-clock time for tests that inject a clock


class Clock:
    """A settable clock to inject wherever code takes `clock=`: tests move time, never sleep."""

    def __init__(self, now: float = FIXED_NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds

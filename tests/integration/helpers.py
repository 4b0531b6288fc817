"""Small helpers the integration tests share: request bodies and an SSE parser."""
from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from typing import Callable

from proxy.account import Account
from tests.support import FakeKiro, account_from_fake

HELLO = "Hello! This is the fake Kiro."  # the fake's default reply (tests/fake_kiro/README.md)
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}


def anthropic_body(text: str = "say hello", **overrides) -> dict:
    """A minimal Anthropic Messages request; keyword arguments replace or add fields."""
    body = {"model": "claude-sonnet-4-6", "max_tokens": 256,
            "messages": [{"role": "user", "content": text}]}
    body.update(overrides)
    return body


def parse_sse(raw: bytes) -> list[tuple[str, object]]:
    """(event name, decoded data) per server-sent event; comment lines are skipped."""
    events = []
    for block in raw.decode("utf-8").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:"):].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:"):].lstrip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def event_names(raw: bytes) -> list[str]:
    """Just the event names of an SSE body, in order."""
    return [name for name, _ in parse_sse(raw)]


def streamed_text(raw: bytes) -> str:
    """The concatenated text_delta pieces of an Anthropic SSE body."""
    return "".join(data["delta"]["text"] for name, data in parse_sse(raw)
                   if name == "content_block_delta" and data["delta"]["type"] == "text_delta")


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def ready_account(creds: dict, order: int = 0) -> Account:
    """An Account holding the fake's credentials and live access token (no refresh needed first).

    `order` sets created_at, which decides who the pool picks first when none was used yet.
    """
    return account_from_fake(creds, access_token=creds["access_token"], expires_at=creds["expires_at"],
                             created_at=1_000_000.0 + order)


def account_stats(fake: FakeKiro, creds: dict) -> dict:
    """The fake's counters for one account."""
    return fake.stats()["accounts"][creds["account_id"]]


def stored(app, creds: dict) -> Account:
    """The proxy's stored record of the account that holds the fake's `creds`."""
    accounts = app.extensions["kiro_proxy"].stores.accounts.list()
    return next(a for a in accounts if a.name == creds["account_id"])


class TimedStream:
    """A raw HTTP/1.1 POST whose body chunks are recorded with their arrival times."""

    def __init__(self, base_url: str, path: str, body: dict, headers: dict | None = None, timeout: float = 30.0):
        parts = urllib.parse.urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.started = time.monotonic()
        self.conn.request("POST", path, body=json.dumps(body).encode(),
                          headers={"content-type": "application/json", **(headers or {})})
        self.response = self.conn.getresponse()
        self.header_time = time.monotonic() - self.started
        self.chunks: list[tuple[float, bytes]] = []

    @property
    def status(self) -> int:
        """The HTTP status."""
        return self.response.status

    def read_some(self) -> bytes:
        """The next piece of the body as it arrives (b"" at the end); recorded with its time."""
        data = self.response.read1(65536)
        if data:
            self.chunks.append((time.monotonic() - self.started, data))
        return data

    def read_all(self) -> bytes:
        """Everything up to the end of the body."""
        while self.read_some():
            pass
        return self.body

    @property
    def body(self) -> bytes:
        """The bytes received so far."""
        return b"".join(data for _, data in self.chunks)

    def close(self) -> None:
        """Drop the connection, as a client that goes away does."""
        self.conn.close()

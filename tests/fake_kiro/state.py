"""FakeState: everything the running fake remembers (config, accounts, faults, log, counters)."""
from __future__ import annotations

import collections
import json
import threading
import time
from typing import Any, Optional

from .config import FakeConfig
from .faults import FaultBook
from .tokens import AccountBook, FakeAccount, mask

LOGGED_HEADERS = ("content-type", "x-amz-target", "x-amz-user-agent", "user-agent", "amz-sdk-invocation-id",
                  "amz-sdk-request", "x-amzn-codewhisperer-optout", "x-amzn-kiro-agent-mode",
                  "x-amzn-kiro-profile-arn", "tokentype", "accept", "connection")
SECRET_FIELDS = ("refreshToken", "accessToken", "clientSecret", "refresh_token", "access_token",
                 "client_secret", "code_verifier", "codeVerifier", "deviceCode")
MAX_LOGGED_BODY = 256 * 1024


class FakeState:
    """Mutable state behind one fake app; the Flask app keeps it in `app.extensions["fake_kiro"]`."""

    def __init__(self, config: Optional[FakeConfig] = None):
        self.initial_config = config or FakeConfig()
        self.lock = threading.RLock()
        self.reset()

    def reset(self, keep_accounts: bool = False) -> None:
        """Back to the start: initial config, no faults, empty log and counters, seed accounts only."""
        with self.lock:
            self.config = self.initial_config.updated({})
            self.faults = FaultBook()
            self.log: collections.deque = collections.deque(maxlen=self.config.log_size)
            self.totals = {"requests": 0, "chat_requests": 0, "chat_ok": 0, "chat_errors": 0, "refreshes": 0,
                           "unauthorized": 0, "active_streams": 0, "max_active_streams": 0}
            self.clients: dict[str, dict] = {}  # OIDC client registrations: clientId -> record
            self.device_codes: dict[str, dict] = {}  # pending device flows: deviceCode -> record
            if keep_accounts:
                for account in self.accounts.all():
                    account.chat_requests = account.chat_ok = account.chat_errors = account.refreshes = 0
                    account.last_request_time = None
                return
            self.accounts = AccountBook()
            for seed in self.config.seed_accounts:
                self.register(**seed)

    def set_config(self, changes: dict) -> FakeConfig:
        """Apply a partial config update (raises ConfigError)."""
        with self.lock:
            self.config = self.config.updated(changes)
            if self.log.maxlen != self.config.log_size:
                self.log = collections.deque(self.log, maxlen=self.config.log_size)
            return self.config

    def register(self, **fields: Any) -> tuple[FakeAccount, str]:
        """Register an account (with the config's default usage limit) and issue its first access token."""
        fields.setdefault("usage_limit", self.config.usage_limit)
        account = self.accounts.register(**fields)
        return account, self.accounts.issue_access(account, self.config.expires_in)

    # -- counters -------------------------------------------------------------------------------

    def count_chat(self, account: Optional[FakeAccount], ok: bool) -> None:
        """Count one chat request (per account and in totals)."""
        with self.lock:
            self.totals["chat_requests"] += 1
            self.totals["chat_ok" if ok else "chat_errors"] += 1
            if account is not None:
                account.chat_requests += 1
                if ok:
                    account.chat_ok += 1
                else:
                    account.chat_errors += 1
                account.last_request_time = time.time()

    def stream_started(self) -> None:
        """One more response stream is open."""
        with self.lock:
            self.totals["active_streams"] += 1
            self.totals["max_active_streams"] = max(self.totals["max_active_streams"],
                                                    self.totals["active_streams"])

    def stream_ended(self) -> None:
        """A response stream finished or was dropped."""
        with self.lock:
            self.totals["active_streams"] -= 1

    def stats(self) -> dict:
        """GET /__fake/stats payload."""
        with self.lock:
            return {"accounts": {a.account_id: a.stats() for a in self.accounts.all()},
                    "totals": dict(self.totals), "faults_pending": self.faults.pending()}

    # -- request log ----------------------------------------------------------------------------

    def record(self, entry: dict) -> None:
        """Append one request to the log (oldest entries fall off)."""
        with self.lock:
            self.totals["requests"] += 1
            self.log.append(entry)

    def recent(self, limit: int, path: Optional[str] = None) -> list[dict]:
        """The last `limit` logged requests (optionally only one path), oldest first."""
        with self.lock:
            entries = [e for e in self.log if path is None or e["path"] == path]
        return entries[-limit:] if limit > 0 else []


def logged_headers(headers) -> dict:
    """The headers worth keeping, with the bearer token masked."""
    out = {name: headers[name] for name in LOGGED_HEADERS if name in headers}
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        out["authorization"] = f"{scheme} {mask(token)}" if token else mask(auth)
    return out


def logged_body(raw: bytes, is_json: bool) -> Any:
    """The body for the log: parsed JSON with secrets masked, else text; huge bodies are cut."""
    if len(raw) > MAX_LOGGED_BODY:
        return {"_truncated": True, "bytes": len(raw), "head": raw[:2000].decode("utf-8", "replace")}
    text = raw.decode("utf-8", "replace")
    if is_json or text.lstrip().startswith(("{", "[")):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(value, dict):
            value = {k: (mask(v) if k in SECRET_FIELDS and isinstance(v, str) else v) for k, v in value.items()}
        return value
    return text

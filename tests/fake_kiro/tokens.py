"""Fake Kiro accounts and their look-alike tokens: register, look up, refresh, rotate.

Tokens are shaped like the real opaque ones (§5): `aoa…`/`aor…` + base64url body + `:` + a
base64 "signature" starting `MGUC`, about 230 characters.
"""
from __future__ import annotations

import hashlib
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

_B64URL = string.ascii_letters + string.digits + "-_"
_B64 = string.ascii_letters + string.digits + "+/"
SOCIAL_PROFILE_ARN = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
BUILDER_ID_PROFILE_ARN = "arn:aws:codewhisperer:us-east-1:638616132270:profile/AAAACCCCXXXX"
AUTH_METHODS = ("social", "idc")


class AccountError(ValueError):
    """A registration the fake refuses (bad auth method, duplicate refresh token...)."""


def _random(alphabet: str, n: int) -> str:
    """n random characters from alphabet."""
    return "".join(secrets.choice(alphabet) for _ in range(n))


def mint_token(kind: str) -> str:
    """A look-alike access (`kind="access"`) or refresh token, ~230 chars."""
    prefix = "aoa" if kind == "access" else "aor"
    return f"{prefix}AAAAAG{_random(_B64URL, 78)}:MGUCMQ{_random(_B64, 136)}"


def mint_client_secret() -> str:
    """A JWT-looking IdC client secret (`eyJraWQiOi…`)."""
    return "eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0." + _random(_B64URL, 120)


def mint_client_id() -> str:
    """An IdC client id (22 base64url chars)."""
    return _random(_B64URL, 22)


def mask(token: Optional[str]) -> Optional[str]:
    """A token shortened for logs: first 8 + `…` + last 4 characters."""
    if not token:
        return token
    return token[:8] + "…" + token[-4:] if len(token) > 16 else "***"


@dataclass
class FakeAccount:
    """One upstream account: credentials, usage and counters."""
    account_id: str
    auth_method: str
    refresh_token: str
    profile_arn: str
    region: str = "us-east-1"
    client_id: Optional[str] = None
    client_secret: Optional[str] = None
    email: str = ""
    user_id: str = ""
    usage: float = 0.0
    usage_limit: float = 1000.0
    subscription_title: str = "KIRO PRO"
    access_tokens: dict = field(default_factory=dict)  # token -> expires_at (epoch seconds)
    retired_refresh_tokens: list = field(default_factory=list)
    chat_requests: int = 0
    chat_ok: int = 0
    chat_errors: int = 0
    refreshes: int = 0
    last_request_time: Optional[float] = None

    def credentials(self, access_token: Optional[str] = None) -> dict:
        """What the control API hands out: everything a proxy needs to use this account."""
        out = {"account_id": self.account_id, "auth_method": self.auth_method,
               "refresh_token": self.refresh_token, "profile_arn": self.profile_arn,
               "region": self.region, "email": self.email, "user_id": self.user_id,
               "usage": self.usage, "usage_limit": self.usage_limit}
        if self.auth_method == "idc":
            out.update(client_id=self.client_id, client_secret=self.client_secret)
        if access_token:
            out.update(access_token=access_token, expires_at=self.access_tokens[access_token])
        return out

    def stats(self) -> dict:
        """Counters for GET /__fake/stats."""
        return {"auth_method": self.auth_method, "chat_requests": self.chat_requests,
                "chat_ok": self.chat_ok, "chat_errors": self.chat_errors, "refreshes": self.refreshes,
                "usage": round(self.usage, 6), "usage_limit": self.usage_limit,
                "last_request_time": self.last_request_time}


class AccountBook:
    """All accounts, indexed by access and refresh token; every method is atomic."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._accounts: dict[str, FakeAccount] = {}
        self._by_access: dict[str, str] = {}
        self._by_refresh: dict[str, str] = {}  # current refresh tokens only
        self._next = 1

    def all(self) -> list[FakeAccount]:
        """Accounts in registration order."""
        with self._lock:
            return list(self._accounts.values())

    def register(self, auth_method: str = "social", refresh_token: Optional[str] = None,
                 client_id: Optional[str] = None, client_secret: Optional[str] = None,
                 profile_arn: Optional[str] = None, region: str = "us-east-1",
                 usage_limit: float = 1000.0, usage: float = 0.0, email: Optional[str] = None,
                 subscription_title: str = "KIRO PRO") -> FakeAccount:
        """Create an account; missing credentials are minted."""
        if auth_method not in AUTH_METHODS:
            raise AccountError(f"auth_method must be one of {', '.join(AUTH_METHODS)}")
        with self._lock:
            refresh_token = refresh_token or mint_token("refresh")
            if refresh_token in self._by_refresh or any(
                    refresh_token in a.retired_refresh_tokens for a in self._accounts.values()):
                raise AccountError("refresh_token already registered")
            number = self._next
            self._next += 1
            account_id = f"acc-{number}"
            digest = hashlib.sha256(account_id.encode()).hexdigest()
            account = FakeAccount(
                account_id=account_id, auth_method=auth_method, refresh_token=refresh_token,
                profile_arn=profile_arn or (SOCIAL_PROFILE_ARN if auth_method == "social"
                                            else BUILDER_ID_PROFILE_ARN),
                region=region, email=email if email is not None else f"fake-user-{number}@example.com",
                user_id=f"d-9067c98495.{digest[:8]}-{digest[8:12]}",
                usage=float(usage), usage_limit=float(usage_limit), subscription_title=subscription_title)
            if auth_method == "idc":
                account.client_id = client_id or mint_client_id()
                account.client_secret = client_secret or mint_client_secret()
            self._accounts[account_id] = account
            self._by_refresh[refresh_token] = account_id
            return account

    def get(self, account_id: str) -> Optional[FakeAccount]:
        """Account by id."""
        with self._lock:
            return self._accounts.get(account_id)

    def find(self, ref: str) -> Optional[FakeAccount]:
        """Account by id, or by any refresh token it has ever had."""
        with self._lock:
            if ref in self._accounts:
                return self._accounts[ref]
            if ref in self._by_refresh:
                return self._accounts[self._by_refresh[ref]]
            return next((a for a in self._accounts.values() if ref in a.retired_refresh_tokens), None)

    def by_access(self, token: str, now: Optional[float] = None) -> Optional[FakeAccount]:
        """The account owning a live (unexpired) access token."""
        now = time.time() if now is None else now
        with self._lock:
            account = self._accounts.get(self._by_access.get(token, ""))
            if account is None or account.access_tokens.get(token, 0) <= now:
                return None
            return account

    def by_refresh(self, token: str) -> Optional[FakeAccount]:
        """The account whose *current* (or still-accepted old) refresh token this is."""
        with self._lock:
            account_id = self._by_refresh.get(token)
            return self._accounts.get(account_id) if account_id else None

    def issue_access(self, account: FakeAccount, expires_in: int) -> str:
        """Mint a new access token for the account."""
        with self._lock:
            token = mint_token("access")
            account.access_tokens[token] = time.time() + expires_in
            self._by_access[token] = account.account_id
            return token

    def refresh(self, account: FakeAccount, expires_in: int, rotate: bool,
                invalidate_old: bool) -> tuple[str, str]:
        """Issue (access, refresh) tokens; rotation may retire the old refresh token."""
        with self._lock:
            account.refreshes += 1
            access = self.issue_access(account, expires_in)
            if rotate:
                old = account.refresh_token
                account.refresh_token = mint_token("refresh")
                self._by_refresh[account.refresh_token] = account.account_id
                account.retired_refresh_tokens.append(old)
                if invalidate_old:
                    self._by_refresh.pop(old, None)
            return access, account.refresh_token

    def expire_access_tokens(self, account: FakeAccount) -> int:
        """Make every access token of the account expired now; return how many."""
        with self._lock:
            for token in account.access_tokens:
                account.access_tokens[token] = 0.0
            return len(account.access_tokens)

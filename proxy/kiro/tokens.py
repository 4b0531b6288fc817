"""Usable access tokens per account: refresh when due, one refresh at a time per account.

Refresh tokens may rotate on every refresh (kiro-upstream.md §5), so two concurrent
refreshes of one account could leave the store holding a token the upstream already
replaced (§7.4-17). A per-account lock makes concurrent callers wait for the one refresh
in flight, and the result is saved before anyone uses it.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import requests

from proxy.account import Account
from proxy.kiro.auth import AuthError, refresh_access_token
from proxy.settings import Settings
from store.accounts import AccountStore


class TokenError(Exception):
    """No usable access token for this account right now."""

    def __init__(self, account_id: str, message: str):
        super().__init__(message)
        self.account_id = account_id
        self.message = message


class AccountUnavailable(TokenError):
    """The account cannot be used until someone logs in again (status needs_login)."""


class RefreshFailed(TokenError):
    """A refresh failed for a passing reason (network, 429, 5xx); another account may serve."""

    def __init__(self, account_id: str, message: str, status: int | None = None):
        super().__init__(account_id, message)
        self.status = status


class TokenManager:
    """Hands out accounts with fresh access tokens, refreshing through `session` when due."""

    def __init__(self, store: AccountStore, settings: Settings, session: requests.Session,
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.settings = settings
        self.session = session
        self.clock = clock
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def fresh(self, account_id: str) -> Account:
        """The account with an access token valid for at least `refresh_before_seconds`."""
        account = self.store.get(account_id)
        if self._usable(account):
            return account
        with self._lock_for(account_id):
            # Whoever held the lock before us may have refreshed already.
            account = self.store.get(account_id)
            if self._usable(account):
                return account
            return self._refresh(account)

    def force_refresh(self, account_id: str, stale_token: str) -> Account:
        """Refresh after Kiro rejected `stale_token`, unless the store already moved past it."""
        with self._lock_for(account_id):
            account = self.store.get(account_id)
            if account.access_token and account.access_token != stale_token \
                    and self._usable(account):
                return account
            return self._refresh(account)

    def _usable(self, account: Account) -> bool:
        """True when the stored access token can be used without a refresh."""
        return not account.needs_refresh(self.clock(), self.settings.refresh_before_seconds)

    def _lock_for(self, account_id: str) -> threading.Lock:
        """The lock serialising refreshes of one account."""
        with self._locks_guard:
            lock = self._locks.get(account_id)
            if lock is None:
                lock = self._locks[account_id] = threading.Lock()
            return lock

    def _refresh(self, account: Account) -> Account:
        """Refresh now (caller holds the account's lock) and save the result before returning."""
        if account.status == "needs_login":
            # Its refresh token was already refused; asking again only adds failed logins.
            raise AccountUnavailable(account.id, f"account {account.id} needs a new login: "
                                                 f"{account.status_reason or 'refresh refused'}")
        try:
            result = refresh_access_token(account, self.settings, self.session, clock=self.clock)
        except AuthError as e:
            if e.permanent:
                self.store.update(account.id, status="needs_login", status_reason=e.message,
                                  access_token="", expires_at=0.0)
                raise AccountUnavailable(account.id, f"account {account.id} needs a new login: "
                                                     f"{e.message}") from e
            raise RefreshFailed(account.id, f"account {account.id}: {e.message}",
                                status=e.status) from e
        return self.store.update(
            account.id,
            access_token=result.access_token,
            refresh_token=result.refresh_token,
            expires_at=result.expires_at,
            profile_arn=result.profile_arn or account.profile_arn,
            last_refresh_at=self.clock(),
        )

"""Usable access tokens per account: refresh when due, one refresh at a time per account.

Refresh tokens may rotate on every refresh (kiro-upstream.md §5), so two concurrent
refreshes of one account could leave the store holding a token the upstream already
replaced (§7.4-17). A per-account lock makes concurrent callers wait for the one refresh
in flight, and the result is saved before anyone uses it.

The same lock covers finding a profile ARN for an account that has none (`profiles.py`):
IdC refreshes never return one, and Kiro refuses a body without it.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

import requests

from proxy.account import Account
from proxy.kiro.auth import AuthError, refresh_access_token
from proxy.kiro.errors import KiroError
from proxy.kiro.profiles import known_profile_arn, list_profile_arns
from proxy.settings import Settings
from store.accounts import AccountStore

log = logging.getLogger(__name__)

PROFILE_RETRY_SECONDS = 3600.0  # after Kiro listed no profile (or the lookup failed), ask again this late


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
        self._profile_misses: dict[str, float] = {}  # account id -> when the last lookup found none

    def fresh(self, account_id: str) -> Account:
        """The account with an access token valid for at least `refresh_before_seconds`
        (and a profile ARN, when one can be found)."""
        account = self.store.get(account_id)
        if self._usable(account) and not self._wants_profile(account):
            return account
        with self._lock_for(account_id):
            # Whoever held the lock before us may have refreshed already.
            account = self.store.get(account_id)
            if not self._usable(account):
                account = self._refresh(account)
            if self._wants_profile(account):
                account = self._find_profile(account)
            return account

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

    def _wants_profile(self, account: Account) -> bool:
        """No profile ARN, and no lookup came back empty lately."""
        if account.profile_arn:
            return False
        missed = self._profile_misses.get(account.id)
        return missed is None or self.clock() - missed >= PROFILE_RETRY_SECONDS

    def _find_profile(self, account: Account) -> Account:
        """Store the account's profile ARN (caller holds its lock); unchanged when none is found."""
        arn = known_profile_arn(account)
        if arn is None:
            try:
                arns = list_profile_arns(account, self.settings, self.session)
            except KiroError as e:  # the chat call will tell the pool what is wrong with the account
                log.warning("account %s: could not list its Kiro profiles: %s", account.id, e.kind.value)
                arns = []
            arn = arns[0] if arns else None
        if arn is None:
            self._profile_misses[account.id] = self.clock()
            return account
        self._profile_misses.pop(account.id, None)
        log.info("account %s: using profile %s", account.id, arn)
        return self.store.update(account.id, profile_arn=arn)

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

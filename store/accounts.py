"""The accounts database: one TinyDB file of `Account.to_dict()` documents."""
from __future__ import annotations

import dataclasses
import secrets
import threading
from typing import Any, Optional

from tinydb import Query

from proxy.account import Account
from store.tiny import PathLike, StoreError, open_tinydb

TABLE = "accounts"
_FIELDS = {f.name for f in dataclasses.fields(Account)}


class AccountNotFound(StoreError, KeyError):
    """No account has this id."""

    def __init__(self, account_id: str):
        self.account_id = account_id
        super().__init__(f"no account with id {account_id!r}")

    def __str__(self) -> str:
        # KeyError would quote the whole message again.
        return self.args[0]


class DuplicateAccount(StoreError):
    """Another account already holds this refresh token (the message never shows the token)."""

    def __init__(self, existing_id: str):
        self.existing_id = existing_id
        super().__init__(f"this refresh token is already stored as account {existing_id}")


def new_account_id() -> str:
    """A short random id (8 hex chars); the store makes sure it is unused."""
    return secrets.token_hex(4)


def _default_machine_id(account_id: str) -> str:
    """The machine id Account derives from an id when none is given."""
    return Account(id=account_id, refresh_token="").machine_id


class AccountStore:
    """CRUD over the accounts file. Every read-modify-write runs under one lock."""

    def __init__(self, path: PathLike):
        self.path = path
        self._db = open_tinydb(path)
        self._table = self._db.table(TABLE)
        # RLock: gevent-aware once app.py has patched, and re-entrant for add() -> _find().
        self._lock = threading.RLock()

    def list(self) -> list[Account]:
        """Every account, oldest first."""
        with self._lock:
            docs = self._table.all()
        return sorted((Account.from_dict(d) for d in docs), key=lambda a: (a.created_at, a.id))

    def get(self, account_id: str) -> Account:
        """The account with this id; AccountNotFound if there is none."""
        with self._lock:
            doc = self._table.get(Query().id == account_id)
        if doc is None:
            raise AccountNotFound(account_id)
        return Account.from_dict(doc)

    def add(self, account: Account) -> Account:
        """Store a new account and return it as stored.

        An empty or already used id is replaced by a fresh one (and a machine id derived from
        the old id follows it). DuplicateAccount if the refresh token is already stored.
        """
        with self._lock:
            existing = self._table.get(Query().refresh_token == account.refresh_token)
            if existing is not None:
                raise DuplicateAccount(existing["id"])
            stored = dataclasses.replace(account)  # never mutate the caller's object
            if not stored.id or self._table.contains(Query().id == stored.id):
                new_id = self._unused_id()
                if stored.machine_id == _default_machine_id(stored.id):
                    stored.machine_id = _default_machine_id(new_id)
                stored.id = new_id
            self._table.insert(stored.to_dict())
        return stored

    def update(self, account_id: str, **fields: Any) -> Account:
        """Change some fields of one account and return the result; the id cannot change."""
        unknown = set(fields) - _FIELDS
        if unknown:
            raise ValueError(f"unknown account fields: {', '.join(sorted(unknown))}")
        if "id" in fields and fields["id"] != account_id:
            raise ValueError("an account's id cannot change")
        with self._lock:
            current = self.get(account_id)
            new_token = fields.get("refresh_token")
            if new_token is not None and new_token != current.refresh_token:
                owner = self._table.get(Query().refresh_token == new_token)
                if owner is not None and owner["id"] != account_id:
                    raise DuplicateAccount(owner["id"])
            updated = dataclasses.replace(current, **fields)
            self._table.update(updated.to_dict(), Query().id == account_id)
        return updated

    def remove(self, account_id: str) -> None:
        """Delete one account; AccountNotFound if there is none."""
        with self._lock:
            removed = self._table.remove(Query().id == account_id)
        if not removed:
            raise AccountNotFound(account_id)

    def find_by_refresh_token(self, refresh_token: str) -> Optional[Account]:
        """The account holding this refresh token, if any."""
        with self._lock:
            doc = self._table.get(Query().refresh_token == refresh_token)
        return Account.from_dict(doc) if doc is not None else None

    def close(self) -> None:
        """Release the database."""
        with self._lock:
            self._db.close()

    def _unused_id(self) -> str:
        """A new id no stored account uses (caller holds the lock)."""
        while True:
            candidate = new_account_id()
            if not self._table.contains(Query().id == candidate):
                return candidate

"""The accounts database: one TinyDB file of `Account.to_dict()` documents.

Every proxied request reads accounts (the pool lists them, the token manager gets one), so they
are kept in memory and the file is read again only when its signature (mtime, size, inode)
changed: after another process or a hand edit rewrote it. Writes go through TinyDB to the atomic
storage as before, and the cache takes what was written, with the written file's signature.
"""
from __future__ import annotations

import dataclasses
import secrets
import threading
from typing import Any, Callable, Iterable, Optional, TypeVar, Union

from tinydb import Query

from proxy.account import Account
from store.tiny import FileSignature, PathLike, StoreError, file_signature, open_tinydb

TABLE = "accounts"
_FIELDS = {f.name for f in dataclasses.fields(Account)}
T = TypeVar("T")


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


def _account(entry: Union[Account, dict]) -> Account:
    """The Account of a cache entry; a document that makes none raises as Account.from_dict does."""
    return entry if isinstance(entry, Account) else Account.from_dict(entry)


def _field(entry: Union[Account, dict], name: str) -> Any:
    return entry.get(name) if isinstance(entry, dict) else getattr(entry, name)


def _copy(account: Account) -> Account:
    """A copy callers may change without touching the cache (every field is immutable)."""
    copy = object.__new__(Account)
    copy.__dict__.update(account.__dict__)
    return copy


class AccountStore:
    """CRUD over the accounts file. Every read-modify-write runs under one lock."""

    def __init__(self, path: PathLike):
        self.path = path
        self._db = open_tinydb(path)
        self._table = self._db.table(TABLE)
        # RLock: gevent-aware once app.py has patched, and re-entrant for add() -> _find().
        self._lock = threading.RLock()
        self._signature: Optional[FileSignature] = None  # of the file the cache holds
        # The file's documents in file order, each an Account, or the raw dict when it does not make
        # one (a hand edit): that one raises only when asked for, as reading it always did.
        self._entries: Optional[list[Union[Account, dict]]] = None
        self._by_id: dict[str, Union[Account, dict]] = {}  # the first entry with each id
        self._sorted: Optional[list[Account]] = None  # list()'s order, made when first asked for

    def list(self) -> list[Account]:
        """Every account, oldest first."""
        with self._lock:
            self._fresh()
            if self._sorted is None:
                accounts = [_account(e) for e in self._entries]
                self._sorted = sorted(accounts, key=lambda a: (a.created_at, a.id))
            return [_copy(a) for a in self._sorted]

    def get(self, account_id: str) -> Account:
        """The account with this id; AccountNotFound if there is none."""
        with self._lock:
            self._fresh()
            entry = self._by_id.get(account_id)
            if entry is None:
                raise AccountNotFound(account_id)
            return _copy(_account(entry))

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
            self._write(lambda: self._table.insert(stored.to_dict()))
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
            self._write(lambda: self._table.update(updated.to_dict(), Query().id == account_id))
        return updated

    def remove(self, account_id: str) -> None:
        """Delete one account; AccountNotFound if there is none."""
        with self._lock:
            removed = self._write(lambda: self._table.remove(Query().id == account_id))
        if not removed:
            raise AccountNotFound(account_id)

    def find_by_refresh_token(self, refresh_token: str) -> Optional[Account]:
        """The account holding this refresh token, if any."""
        with self._lock:
            self._fresh()
            found = next((e for e in self._entries if _field(e, "refresh_token") == refresh_token), None)
            return _copy(_account(found)) if found is not None else None

    def close(self) -> None:
        """Release the database."""
        with self._lock:
            self._db.close()

    def _fresh(self) -> None:
        """Re-read the file if it changed since the cache was filled (caller holds the lock). The
        signature is taken before reading: a change during the read is seen the next time."""
        signature = file_signature(self.path)
        if self._entries is None or signature != self._signature:
            self._fill(signature, self._table.all())

    def _fill(self, signature: Optional[FileSignature], docs: Iterable[dict]) -> None:
        self._entries = []
        for doc in docs:
            try:
                self._entries.append(Account.from_dict(doc))
            except TypeError:  # a document missing a field
                self._entries.append(doc)
        self._by_id = {}
        for entry in self._entries:
            key = _field(entry, "id")
            if isinstance(key, str):
                self._by_id.setdefault(key, entry)
        self._sorted = None
        self._signature = signature

    def _write(self, operation: Callable[[], T]) -> T:
        """Run one TinyDB write; the cache becomes what was written (caller holds the lock)."""
        storage = self._db.storage
        storage.written = None
        self._entries = None  # if the write fails, the next read goes to the file
        result = operation()
        if storage.written is not None:
            signature, tables = storage.written
            # in file order: the storage writes with sorted keys
            self._fill(signature, [doc for _, doc in sorted((tables.get(TABLE) or {}).items())])
        return result

    def _unused_id(self) -> str:
        """A new id no stored account uses (caller holds the lock)."""
        while True:
            candidate = new_account_id()
            if not self._table.contains(Query().id == candidate):
                return candidate

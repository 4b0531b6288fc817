"""The settings file the panel edits: one document of setting name -> value."""
from __future__ import annotations

import threading
from typing import Any

from tinydb.table import Document

from store.tiny import PathLike, open_tinydb, read_tables

TABLE = "settings"
_DOC_ID = 1  # the single document holding every stored setting


def read_settings_file(path: PathLike) -> dict[str, Any]:
    """The stored settings without opening the store (safe while the server runs: writes
    are atomic renames); {} when the file is missing; StoreCorrupt when unreadable."""
    tables = read_tables(path) or {}
    doc = tables.get(TABLE, {}).get(str(_DOC_ID))
    return dict(doc) if doc else {}


def _replace(doc: dict, values: dict) -> None:
    """Make `doc` hold exactly `values`."""
    doc.clear()
    doc.update(values)


class SettingsStore:
    """Stored overrides of the defaults; `proxy.settings.load_settings` layers them."""

    def __init__(self, path: PathLike):
        self.path = path
        self._db = open_tinydb(path)
        self._table = self._db.table(TABLE)
        self._lock = threading.RLock()

    def values(self) -> dict[str, Any]:
        """A copy of every stored setting."""
        with self._lock:
            doc = self._table.get(doc_id=_DOC_ID)
        return dict(doc) if doc is not None else {}

    def set(self, **values: Any) -> dict[str, Any]:
        """Store these settings (a None value removes the key) and return all of them."""
        with self._lock:
            merged = self.values()
            for key, value in values.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            if self._table.contains(doc_id=_DOC_ID):
                # A transform replaces the whole document in one write (upsert would merge,
                # keeping removed keys).
                self._table.update(lambda doc: _replace(doc, merged), doc_ids=[_DOC_ID])
            else:
                self._table.insert(Document(merged, doc_id=_DOC_ID))
        return dict(merged)

    def close(self) -> None:
        """Release the database."""
        with self._lock:
            self._db.close()

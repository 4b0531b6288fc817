"""The stats file: per-account counters and pool state, one small JSON object written atomically.

Stats are cheap to rebuild, so this is not a TinyDB: the whole snapshot is replaced on each
save (temp file + fsync + rename, mode 0600), and a reader sees the old or the new one.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from store.tiny import PathLike, StoreCorrupt, atomic_write, read_json_file, remove_stale_temps

VERSION = 1


class StatsFile:
    """Load and save one snapshot `{"version": 1, "accounts": {id: {...}}}`."""

    def __init__(self, path: PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()  # two savers must not interleave their renames
        remove_stale_temps(self.path)

    def load(self) -> dict[str, dict[str, Any]]:
        """Per-account records (id -> dict); empty for a new file; StoreCorrupt if unreadable."""
        data = read_json_file(self.path)
        if data is None:
            return {}
        if not isinstance(data, dict) or not isinstance(data.get("accounts", {}), dict):
            raise StoreCorrupt(self.path, "not a stats snapshot")
        return {str(k): v for k, v in data.get("accounts", {}).items() if isinstance(v, dict)}

    def save(self, accounts: dict[str, dict[str, Any]]) -> None:
        """Replace the file with this snapshot."""
        text = json.dumps({"version": VERSION, "accounts": accounts}, ensure_ascii=False, indent=1,
                          sort_keys=True)
        with self._lock:
            atomic_write(self.path, text)

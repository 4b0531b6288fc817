"""The only code that opens the data files: accounts and settings (TinyDB, atomic writes), stats."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from store.accounts import AccountNotFound, AccountStore, DuplicateAccount
from store.lock import ServerLock, ServerLockHeld, acquire_server_lock, server_running
from store.settings import SettingsStore
from store.stats import StatsFile
from store.tiny import PathLike, StoreCorrupt, StoreError, ensure_private_dir, make_private, read_tables

ACCOUNTS_FILE = "accounts.json"
SETTINGS_FILE = "settings.json"
STATS_FILE = "stats.json"

__all__ = [
    "AccountNotFound", "AccountStore", "DuplicateAccount", "ServerLock", "ServerLockHeld",
    "SettingsStore", "StatsFile", "StoreCorrupt", "StoreError", "Stores", "acquire_server_lock",
    "open_stores", "server_running",
]


@dataclass
class Stores:
    """Every store of one data dir, opened together and closed together."""
    data_dir: Path
    accounts: AccountStore
    settings: SettingsStore
    stats: Optional[StatsFile] = None  # per-account stats snapshot (cheap to rebuild, so optional)

    def close(self) -> None:
        """Release every store."""
        self.accounts.close()
        self.settings.close()


def open_stores(data_dir: PathLike) -> Stores:
    """Open (creating, mode 0700) the data dir's stores; StoreCorrupt names a broken file.

    Every file is parsed before anything opens, so a corrupt file stops the start
    instead of being overwritten by the first write.
    """
    data_dir = ensure_private_dir(data_dir)
    accounts_path, settings_path = data_dir / ACCOUNTS_FILE, data_dir / SETTINGS_FILE
    for path in (accounts_path, settings_path):
        read_tables(path)
    for name in (ACCOUNTS_FILE, SETTINGS_FILE, STATS_FILE):
        make_private(data_dir / name)  # writes replace files with 0600 ones, but reads come first
    return Stores(data_dir=data_dir, accounts=AccountStore(accounts_path),
                  settings=SettingsStore(settings_path), stats=StatsFile(data_dir / STATS_FILE))

"""Private, atomic file I/O for the data dir, and the TinyDB storage built on it.

TinyDB's own JSONStorage rewrites its file in place, so a crash mid-write leaves an
unreadable file (stack-notes.md §3.1). Here every write goes to a temp file in the same
directory, is fsynced, then renamed over the target: readers see the old file or the new
one, never a mix. Files are created mode 0600 because they hold tokens.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

from tinydb import TinyDB
from tinydb.storages import Storage

PathLike = Union[str, "os.PathLike[str]"]

FILE_MODE = 0o600
DIR_MODE = 0o700

log = logging.getLogger(__name__)


class StoreError(Exception):
    """Base of every error the store package raises."""


class StoreCorrupt(StoreError, ValueError):
    """A data file exists but is not the JSON we wrote; the server must not start on it.

    Also a ValueError, so callers loading settings can report it like any bad value."""

    def __init__(self, path: PathLike, detail: str):
        self.path = Path(path)
        super().__init__(
            f"{self.path} is not valid data ({detail}); nothing was changed. Repair the JSON, or move "
            f"the file aside to start without it (for accounts.json: then add the accounts again "
            f"with `accounts import`).")


def ensure_private_dir(path: PathLike) -> Path:
    """Create `path` (and parents) if missing; the directory itself ends up mode 0700.

    An existing directory that others may read or enter is tightened too: it holds tokens.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, DIR_MODE)  # mkdir's mode is masked by the umask; be explicit
    else:
        make_private(path, DIR_MODE)
    return path


def make_private(path: PathLike, mode: int = FILE_MODE) -> None:
    """Take group and other permissions off an existing file or directory (a token file restored
    by hand, or a data dir made by someone else, may be world-readable)."""
    try:
        current = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return
    if current & 0o077:
        log.warning("%s was mode %o; making it %o (it holds account tokens)", path, current, mode)
        os.chmod(path, mode)


def _temp_prefix(path: Path) -> str:
    """The name prefix of this file's temp copies, so leftovers can be found per file."""
    return f".{path.name}.tmp-"


def fsync_dir(path: PathLike) -> None:
    """Flush a directory entry change (a rename) to disk."""
    fd = os.open(os.fspath(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# What tells one version of a file from another without reading it: a rewrite in place changes
# the mtime or the size, a replacement (every atomic_write) the inode.
FileSignature = tuple[int, int, int]  # (st_mtime_ns, st_size, st_ino)


def _signature(st: os.stat_result) -> FileSignature:
    return st.st_mtime_ns, st.st_size, st.st_ino


def file_signature(path: PathLike) -> Optional[FileSignature]:
    """The file's current signature; None when it does not exist."""
    try:
        return _signature(os.stat(path))
    except FileNotFoundError:
        return None


def atomic_write(path: PathLike, data: Union[str, bytes]) -> FileSignature:
    """Replace `path` with `data` atomically: temp file (0600) + fsync + rename + dir fsync.
    Returns the signature of the file written (a rename keeps inode, size and mtime)."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path))  # mkstemp uses 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
            signature = _signature(os.fstat(f.fileno()))
        os.replace(tmp, path)
    except BaseException:
        # The target is untouched; only our temp copy needs to go.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)
    return signature


def remove_stale_temps(path: PathLike) -> None:
    """Delete temp copies a crashed writer left next to `path` (the target itself is intact)."""
    path = Path(path)
    if not path.parent.is_dir():
        return
    for leftover in path.parent.glob(_temp_prefix(path) + "*"):
        leftover.unlink(missing_ok=True)


def read_json_file(path: PathLike) -> Optional[Any]:
    """The parsed JSON in `path`, None when missing or empty; StoreCorrupt when unparseable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as e:
        raise StoreCorrupt(path, "not UTF-8 text") from e
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise StoreCorrupt(path, f"JSON error at line {e.lineno} column {e.colno}") from e


def read_tables(path: PathLike) -> Optional[dict[str, dict[str, Any]]]:
    """A TinyDB file's tables (name -> doc id -> document), None for a new file; else StoreCorrupt."""
    data = read_json_file(path)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise StoreCorrupt(path, "the top level is not an object")
    for name, table in data.items():
        if not isinstance(table, dict) or not all(isinstance(d, dict) for d in table.values()):
            raise StoreCorrupt(path, f"table {name!r} is not an object of documents")
    return data


class AtomicJSONStorage(Storage):
    """A TinyDB storage that reads the whole file and writes it back atomically."""

    def __init__(self, path: PathLike, **json_kwargs: Any):
        super().__init__()
        self.path = Path(path)
        self.json_kwargs = json_kwargs
        # (signature, tables) of this storage's last write, for a cache above it (store/accounts.py)
        self.written: Optional[tuple[FileSignature, dict[str, dict[str, Any]]]] = None
        remove_stale_temps(self.path)

    def read(self) -> Optional[dict[str, dict[str, Any]]]:
        """All tables, or None for a new (missing or empty) file."""
        return read_tables(self.path)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the file with all tables."""
        self.written = None
        self.written = (atomic_write(self.path, json.dumps(data, **self.json_kwargs)), data)

    def close(self) -> None:
        """Nothing to close: no handle is kept between operations."""


def open_tinydb(path: PathLike) -> TinyDB:
    """A TinyDB over `path` with the atomic storage; readable JSON, non-ASCII kept as is."""
    return TinyDB(path, storage=AtomicJSONStorage, ensure_ascii=False, indent=2, sort_keys=True)

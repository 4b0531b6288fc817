"""The data-dir lock: one process at a time owns the data files.

The server holds an exclusive `flock` on `<data_dir>/server.lock` for its lifetime and
writes its pid there. The kernel drops the lock when the process dies, so a crashed
server leaves no stale lock; the pid in the file is only for messages.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Optional

from store.tiny import FILE_MODE, PathLike, StoreError, ensure_private_dir

LOCK_NAME = "server.lock"


class ServerLockHeld(StoreError):
    """Another process (the server, or an offline command) owns the data dir."""

    def __init__(self, data_dir: PathLike, pid: Optional[int]):
        self.data_dir = Path(data_dir)
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"{who} is using the data dir {self.data_dir} (kiro-proxy is running)")


class ServerLock:
    """A held data-dir lock; release() (or process exit) frees it."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: Optional[int] = fd

    @property
    def held(self) -> bool:
        """True until released."""
        return self._fd is not None

    def release(self) -> None:
        """Clear the pid and drop the lock; calling it twice is harmless."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> "ServerLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _open_lock_file(path: Path) -> int:
    """Open (creating, mode 0600) the lock file; Python fds are not inherited by children."""
    return os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)


def _read_pid(fd: int) -> Optional[int]:
    """The pid the holder wrote, if readable."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def acquire_server_lock(data_dir: PathLike) -> ServerLock:
    """Take the data-dir lock for this process; ServerLockHeld if someone has it."""
    path = ensure_private_dir(data_dir) / LOCK_NAME
    fd = _open_lock_file(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as e:
        pid = _read_pid(fd)
        os.close(fd)
        raise ServerLockHeld(data_dir, pid) from e
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return ServerLock(path, fd)


def lock_holder(data_dir: PathLike) -> Optional[int]:
    """The pid holding the data-dir lock (0 if unknown), or None when nobody holds it."""
    path = Path(data_dir).expanduser() / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            # A shared probe conflicts with the holder's exclusive lock, then is dropped at once.
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def server_running(data_dir: PathLike) -> bool:
    """True when some process holds the data-dir lock."""
    return lock_holder(data_dir) is not None

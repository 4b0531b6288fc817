"""Tests for the data-dir lock, including a holder that dies without releasing it."""
import os
import signal
import stat
import subprocess
import sys

import pytest

from store.lock import (LOCK_NAME, ServerLockHeld, acquire_server_lock, lock_holder,
                        server_running)

HOLDER = """
import sys
from store.lock import acquire_server_lock
lock = acquire_server_lock(sys.argv[1])
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of tmp_path/data until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "data")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_no_lock_file_means_not_running(tmp_path):
    assert server_running(tmp_path / "missing") is False


def test_acquire_writes_pid_and_blocks_second_holder(tmp_path):
    lock = acquire_server_lock(tmp_path / "data")
    path = tmp_path / "data" / LOCK_NAME
    assert path.read_text().strip() == str(os.getpid())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
    assert server_running(tmp_path / "data") is True
    with pytest.raises(ServerLockHeld) as info:
        acquire_server_lock(tmp_path / "data")
    assert info.value.pid == os.getpid()
    lock.release()
    lock.release()  # twice is harmless
    assert server_running(tmp_path / "data") is False
    acquire_server_lock(tmp_path / "data").release()


def test_other_process_holding_is_seen(tmp_path, holder):
    assert server_running(tmp_path / "data") is True
    assert lock_holder(tmp_path / "data") == holder.pid
    with pytest.raises(ServerLockHeld, match=str(holder.pid)):
        acquire_server_lock(tmp_path / "data")


def test_killed_holder_leaves_no_stale_lock(tmp_path, holder):
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / "data" / LOCK_NAME).read_text().strip() == str(holder.pid)  # stale pid
    assert server_running(tmp_path / "data") is False
    with acquire_server_lock(tmp_path / "data") as lock:
        assert lock.held
    assert not lock.held

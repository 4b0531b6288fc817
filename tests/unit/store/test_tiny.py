"""Tests for the atomic file writes and the TinyDB storage built on them."""
import json
import os
import stat

import pytest

from store.tiny import (AtomicJSONStorage, StoreCorrupt, atomic_write, ensure_private_dir,
                        open_tinydb, read_tables)


def _mode(path) -> int:
    """The permission bits of a path."""
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_write_creates_private_file(tmp_path):
    target = tmp_path / "f.json"
    atomic_write(target, '{"a": 1}')
    assert target.read_text() == '{"a": 1}'
    assert _mode(target) == 0o600


def test_atomic_write_makes_a_world_readable_file_private(tmp_path):
    target = tmp_path / "f.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert _mode(target) == 0o600


def test_crash_between_temp_write_and_replace_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    atomic_write(target, '{"v": "old"}')

    def crash(src, dst):
        """Stand-in for a process dying just before the rename."""
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        atomic_write(target, '{"v": "new, and much longer than before"}')
    assert json.loads(target.read_text()) == {"v": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]  # temp copy cleaned up


def test_leftover_temp_from_a_killed_writer_is_removed_on_open(tmp_path):
    target = tmp_path / "accounts.json"
    atomic_write(target, '{"accounts": {}}')
    leftover = tmp_path / ".accounts.json.tmp-abc123"
    leftover.write_text('{"half')
    other = tmp_path / ".settings.json.tmp-xyz"
    other.write_text("{}")
    AtomicJSONStorage(target)
    assert not leftover.exists()
    assert other.exists()  # another file's temp copies are not ours to delete


def test_tinydb_roundtrip_and_atomic_updates(tmp_path):
    db = open_tinydb(tmp_path / "db.json")
    db.table("t").insert({"name": "名前", "n": 1})
    db.table("t").update({"n": 2})
    raw = (tmp_path / "db.json").read_text(encoding="utf-8")
    assert "名前" in raw  # ensure_ascii off: non-ASCII stays readable
    assert json.loads(raw) == {"t": {"1": {"n": 2, "name": "名前"}}}
    assert _mode(tmp_path / "db.json") == 0o600


def test_tinydb_write_failure_leaves_previous_state(tmp_path, monkeypatch):
    path = tmp_path / "db.json"
    db = open_tinydb(path)
    db.table("t").insert({"n": 1})
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        db.table("t").insert({"n": 2})
    monkeypatch.undo()
    assert [d["n"] for d in open_tinydb(path).table("t").all()] == [1]


def test_storage_reads_missing_and_empty_as_new(tmp_path):
    assert AtomicJSONStorage(tmp_path / "none.json").read() is None
    (tmp_path / "empty.json").write_text("  \n")
    assert AtomicJSONStorage(tmp_path / "empty.json").read() is None


@pytest.mark.parametrize("text, detail", [
    ('{"accounts": {"1": {"id": "a"}', "JSON error"),
    ("[1, 2]", "top level"),
    ('{"accounts": [1]}', "table 'accounts'"),
    ('{"accounts": {"1": 5}}', "table 'accounts'"),
])
def test_corrupt_files_are_named(tmp_path, text, detail):
    path = tmp_path / "accounts.json"
    path.write_text(text)
    with pytest.raises(StoreCorrupt, match=detail) as info:
        read_tables(path)
    assert info.value.path == path
    assert str(path) in str(info.value)


def test_ensure_private_dir_creates_0700(tmp_path):
    created = ensure_private_dir(tmp_path / "a" / "b")
    assert created.is_dir()
    assert _mode(created) == 0o700


def test_ensure_private_dir_tightens_an_existing_open_dir(tmp_path):
    existing = tmp_path / "shared"
    existing.mkdir()
    os.chmod(existing, 0o755)
    ensure_private_dir(existing)
    assert _mode(existing) == 0o700


def test_atomic_write_temp_file_is_private_and_in_the_same_dir(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), _mode(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    target = tmp_path / "accounts.json"
    atomic_write(target, "{}")
    assert seen == [(str(tmp_path), 0o600)]  # same dir (rename stays atomic), never readable by others

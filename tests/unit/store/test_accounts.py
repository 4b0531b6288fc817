"""Tests for the accounts store."""
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from proxy.account import Account
from store.accounts import AccountNotFound, AccountStore, DuplicateAccount
from tests.support import REPO


def make_account(**overrides) -> Account:
    """An account with a unique-looking 230-char refresh token unless told otherwise."""
    fields = {"id": "", "refresh_token": "aorAAAAAG" + "r" * 200 + overrides.pop("suffix", "0000")}
    fields.update(overrides)
    return Account(**fields)


@pytest.fixture
def store(tmp_path):
    """An empty account store in a temp dir."""
    s = AccountStore(tmp_path / "accounts.json")
    yield s
    s.close()


def test_add_assigns_short_unique_id_and_machine_id(store):
    a = store.add(make_account(suffix="0001"))
    b = store.add(make_account(suffix="0002"))
    assert re.fullmatch(r"[0-9a-f]{8}", a.id) and a.id != b.id
    assert a.machine_id == Account(id=a.id, refresh_token="x").machine_id
    assert a.machine_id != b.machine_id
    assert [x.id for x in store.list()] == [a.id, b.id]


def test_add_keeps_given_id_and_does_not_mutate_input(store):
    given = make_account(id="cafe0001")
    stored = store.add(given)
    assert stored.id == "cafe0001"
    assert store.get("cafe0001") == stored
    clash = make_account(id="cafe0001", suffix="9999")
    again = store.add(clash)
    assert again.id != "cafe0001"
    assert clash.id == "cafe0001"  # the caller's object is untouched
    assert again.machine_id == Account(id=again.id, refresh_token="x").machine_id


def test_add_rejects_duplicate_refresh_token_without_showing_it(store):
    first = store.add(make_account())
    with pytest.raises(DuplicateAccount) as info:
        store.add(make_account(name="again"))
    assert info.value.existing_id == first.id
    assert first.refresh_token not in str(info.value)
    assert len(store.list()) == 1


def test_update_returns_and_persists(store, tmp_path):
    a = store.add(make_account())
    updated = store.update(a.id, access_token="aoa-new", expires_at=123.0, status="needs_login")
    assert (updated.access_token, updated.expires_at, updated.status) == ("aoa-new", 123.0,
                                                                          "needs_login")
    reopened = AccountStore(tmp_path / "accounts.json")
    assert reopened.get(a.id) == updated


def test_update_rejects_unknown_fields_and_id_change(store):
    a = store.add(make_account())
    with pytest.raises(ValueError, match="bogus"):
        store.update(a.id, bogus=1)
    with pytest.raises(ValueError, match="id"):
        store.update(a.id, id="other")


def test_update_rejects_taking_another_accounts_token(store):
    a = store.add(make_account(suffix="0001"))
    b = store.add(make_account(suffix="0002"))
    with pytest.raises(DuplicateAccount):
        store.update(b.id, refresh_token=a.refresh_token)


def test_missing_ids_raise_typed_error(store):
    for call in (lambda: store.get("nope"), lambda: store.update("nope", name="x"),
                 lambda: store.remove("nope")):
        with pytest.raises(AccountNotFound, match="nope"):
            call()


def test_remove(store):
    a = store.add(make_account(suffix="0001"))
    b = store.add(make_account(suffix="0002"))
    store.remove(a.id)
    assert [x.id for x in store.list()] == [b.id]


def test_file_holds_to_dict_documents(store, tmp_path):
    a = store.add(make_account())
    data = json.loads((tmp_path / "accounts.json").read_text())
    assert list(data["accounts"].values()) == [a.to_dict()]


def test_concurrent_updates_lose_nothing(store):
    """Read-modify-write under the lock: 8 threads x 25 updates of different fields all land."""
    a = store.add(make_account())
    barrier = threading.Barrier(8)

    def worker(n):
        """Set this worker's own field repeatedly (names are distinct per worker)."""
        barrier.wait()
        for i in range(25):
            store.update(a.id, name=f"w{n}-{i}") if n == 0 else store.update(
                a.id, last_refresh_at=float(n * 100 + i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = store.get(a.id)
    assert final.name == "w0-24"
    assert len(store.list()) == 1


# ---------------------------------------------------------------- the in-memory cache

def _count_reads(store, monkeypatch) -> list:
    """Record every read of the file through the store's TinyDB storage."""
    reads = []
    storage = store._db.storage
    original = storage.read
    monkeypatch.setattr(storage, "read", lambda: reads.append(1) or original())
    return reads


def test_reads_come_from_memory_until_the_file_changes(store, monkeypatch):
    a = store.add(make_account(suffix="0001"))
    reads = _count_reads(store, monkeypatch)
    for _ in range(3):
        assert [x.id for x in store.list()] == [a.id]
        assert store.get(a.id) == a
        assert store.find_by_refresh_token(a.refresh_token) == a
    assert reads == []


def test_writes_update_the_cache_without_reading_it_back(store, monkeypatch):
    a = store.add(make_account(suffix="0001"))
    store.list()
    reads = _count_reads(store, monkeypatch)
    store.update(a.id, status="cooldown", status_reason="wait")
    b = store.add(make_account(suffix="0002"))
    reads.clear()  # the writes' own read-modify-write
    assert [(x.id, x.status) for x in store.list()] == [(a.id, "cooldown"), (b.id, "active")]
    assert reads == []
    store.remove(b.id)
    reads.clear()
    assert [x.id for x in store.list()] == [a.id] and store.get(a.id).status_reason == "wait"
    assert reads == []
    with pytest.raises(AccountNotFound):
        store.get(b.id)


def test_handed_out_accounts_are_copies(store):
    a = store.add(make_account(suffix="0001"))
    store.list()[0].name = "changed"
    store.get(a.id).status = "banned"
    assert store.get(a.id) == a


def test_another_process_writing_the_file_is_picked_up(store, tmp_path):
    """A write by another process (here `accounts`-style code in a subprocess) is seen at once."""
    a = store.add(make_account(suffix="0001"))
    assert store.get(a.id).name == ""
    script = ("import sys; from store.accounts import AccountStore; s = AccountStore(sys.argv[1]); "
              "s.update(sys.argv[2], name='renamed elsewhere'); s.add(s.get(sys.argv[2]).__class__("
              "id='', refresh_token='other-process-token'))")
    subprocess.run([sys.executable, "-c", script, str(store.path), a.id], check=True, cwd=REPO, timeout=60)
    assert store.get(a.id).name == "renamed elsewhere"
    assert [x.refresh_token for x in store.list()][-1] == "other-process-token"


def test_edits_in_place_and_copies_are_picked_up(store):
    a = store.add(make_account(suffix="0001", name="aaaa"))
    path = Path(store.path)
    store.list()
    # same size, rewritten in place: only the mtime tells
    text = path.read_text()
    stat = path.stat()
    path.write_text(text.replace('"aaaa"', '"bbbb"'))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert store.get(a.id).name == "bbbb"
    # same size and mtime, another inode (a restored copy)
    stat = path.stat()
    copy = path.with_name("copy.json")
    copy.write_text(path.read_text().replace('"bbbb"', '"cccc"'))
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(copy, path)
    assert store.get(a.id).name == "cccc"
    path.unlink()
    assert store.list() == []


def test_a_document_missing_a_field_fails_only_where_it_always_did(store):
    good = store.add(make_account(suffix="0001"))
    path = Path(store.path)
    data = json.loads(path.read_text())
    data["accounts"]["99"] = {"id": "broken01"}  # no refresh_token
    path.write_text(json.dumps(data))
    assert store.get(good.id) == good
    with pytest.raises(TypeError):
        store.get("broken01")
    with pytest.raises(TypeError):
        store.list()


def test_a_failed_write_leaves_the_cache_to_the_file(store, monkeypatch):
    a = store.add(make_account(suffix="0001"))
    storage = store._db.storage

    def fail(data):
        raise OSError("disk full")
    monkeypatch.setattr(storage, "write", fail)
    with pytest.raises(OSError):
        store.update(a.id, name="never written")
    monkeypatch.undo()
    assert store.get(a.id).name == ""

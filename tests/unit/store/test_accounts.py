"""Tests for the accounts store."""
import json
import re
import threading

import pytest

from proxy.account import Account
from store.accounts import AccountNotFound, AccountStore, DuplicateAccount


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

"""Tests for open_stores: the data dir, its files, and refusing corrupt ones."""
import os
import stat

import pytest

from proxy.account import Account
from store import StoreCorrupt, Stores, open_stores


def test_creates_private_dir_and_opens_both_stores(tmp_path):
    stores = open_stores(tmp_path / "home")
    assert isinstance(stores, Stores)
    assert stat.S_IMODE(os.stat(tmp_path / "home").st_mode) == 0o700
    stored = stores.accounts.add(Account(id="", refresh_token="t" * 120))
    stores.settings.set(port=1)
    stores.close()
    again = open_stores(tmp_path / "home")
    assert [a.id for a in again.accounts.list()] == [stored.id]
    assert again.settings.values() == {"port": 1}
    for name in ("accounts.json", "settings.json"):
        assert stat.S_IMODE(os.stat(tmp_path / "home" / name).st_mode) == 0o600
    again.close()


@pytest.mark.parametrize("name", ["accounts.json", "settings.json"])
def test_corrupt_file_refuses_to_open_and_is_left_alone(tmp_path, name):
    (tmp_path / name).write_text('{"accounts": {"1": {"id": ')
    with pytest.raises(StoreCorrupt) as info:
        open_stores(tmp_path)
    assert str(tmp_path / name) in str(info.value)
    # the advice names what exists: no backups/ dir is ever written, so none is pointed at
    assert "move the file aside" in str(info.value) and "backups" not in str(info.value)
    assert (tmp_path / name).read_text() == '{"accounts": {"1": {"id": '


def test_existing_loose_dir_and_files_are_made_private(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    for name in ("accounts.json", "settings.json", "stats.json"):
        (home / name).write_text("{}")
        os.chmod(home / name, 0o644)  # e.g. restored by hand with the umask's mode
    open_stores(home).close()
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    for name in ("accounts.json", "settings.json", "stats.json"):
        assert stat.S_IMODE(os.stat(home / name).st_mode) == 0o600

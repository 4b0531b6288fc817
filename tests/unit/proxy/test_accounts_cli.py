"""Tests for the offline `accounts` commands, run against a temp data dir."""
import argparse
import io
import json
import os
import stat

import pytest

from proxy.account import Account
from proxy.accounts_cli import add_accounts_parser, run_accounts_command
from proxy.settings import Settings
from store import acquire_server_lock, open_stores
from store.importer import EXPORT_KEY

REFRESH = "aorAAAAAG" + "Rk9vYmFy" * 11 + ":MGQCMHk" + "x" * 126 + "WXYZ"
REFRESH_2 = "aorAAAAAG" + "QmFyYmF6" * 11 + ":MGUCMQD" + "y" * 126 + "QRST"
ACCESS = "aoaAAAAAG" + "a" * 200
SECRET = "eyJraWQiOi" + "s" * 60


class FakeStdin(io.StringIO):
    """stdin that says whether it is a terminal."""

    def __init__(self, text: str = "", tty: bool = False):
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        """As configured."""
        return self.tty


@pytest.fixture
def home(tmp_path):
    """The data dir the commands work on (not created yet)."""
    return tmp_path / "home"


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch):
    """Default: stdin is not a terminal and is empty."""
    monkeypatch.setattr("sys.stdin", FakeStdin())


def run(home, *argv) -> int:
    """Parse `accounts <argv>` as app.py would and run it."""
    parser = argparse.ArgumentParser()
    add_accounts_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["accounts", *argv])
    assert args.command == "accounts"
    return run_accounts_command(args, Settings(data_dir=home))


def stored(home):
    """The accounts now in the data dir."""
    stores = open_stores(home)
    try:
        return stores.accounts.list()
    finally:
        stores.close()


def mode(path) -> int:
    """Permission bits."""
    return stat.S_IMODE(os.stat(path).st_mode)


def test_add_with_flags_then_list_shows_no_secrets(home, capsys):
    assert run(home, "add", "--refresh-token", REFRESH, "--name", "work") == 0
    assert run(home, "add", "--refresh-token", REFRESH_2, "--auth-method", "idc",
               "--client-id", "cid-1", "--client-secret", SECRET, "--region", "eu-west-1") == 0
    social, idc = stored(home)
    assert (social.name, social.auth_method, social.refresh_token) == ("work", "social", REFRESH)
    assert (idc.auth_method, idc.client_id, idc.client_secret, idc.region) == (
        "idc", "cid-1", SECRET, "eu-west-1")
    assert mode(home / "accounts.json") == 0o600
    assert mode(home) == 0o700
    capsys.readouterr()

    assert run(home, "list") == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "METHOD", "STATUS", "EXPIRES", "TOKEN"]
    assert lines[1].split() == [social.id, "work", "social", "active", "-", "…WXYZ"]
    assert lines[2].split() == [idc.id, "-", "idc", "active", "-", "…QRST"]
    for secret in (REFRESH, REFRESH_2, SECRET, SECRET[:12], REFRESH[-8:], REFRESH_2[-8:]):
        assert secret not in out + err


def test_list_shows_expiry_and_disabled_without_access_token(home, capsys):
    home.mkdir()
    stores = open_stores(home)
    stores.accounts.add(Account(
        id="abcd0001", refresh_token=REFRESH, access_token=ACCESS, expires_at=1769184844.0,
        enabled=False, status="needs_login"))
    stores.close()
    assert run(home, "list") == 0
    out = capsys.readouterr().out
    assert "abcd0001" in out and "needs_login (disabled)" in out
    assert "2026-01-23 16:14Z (expired)" in out
    assert ACCESS[:20] not in out and ACCESS[-8:] not in out


def test_empty_list(home, capsys):
    assert run(home, "list") == 0
    assert "no accounts" in capsys.readouterr().out


def test_add_missing_token_without_terminal_fails_clearly(home, capsys):
    assert run(home, "add") == 1
    assert "--refresh-token is required" in capsys.readouterr().err
    assert stored(home) == []


def test_add_idc_missing_secret_without_terminal_fails(home, capsys):
    assert run(home, "add", "--refresh-token", REFRESH, "--auth-method", "idc",
               "--client-id", "cid") == 1
    assert "--client-secret is required" in capsys.readouterr().err


def test_add_prompts_on_a_terminal(home, monkeypatch):
    monkeypatch.setattr("sys.stdin", FakeStdin(tty=True))
    secrets_asked = iter([REFRESH, SECRET])
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt)
                        or next(secrets_asked))
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or "cid-9")
    assert run(home, "add", "--auth-method", "idc") == 0
    assert prompts == ["Refresh token: ", "Client id: ", "Client secret: "]
    [account] = stored(home)
    assert (account.refresh_token, account.client_id, account.client_secret) == (
        REFRESH, "cid-9", SECRET)


def test_add_reads_token_from_stdin_dash(home, monkeypatch):
    monkeypatch.setattr("sys.stdin", FakeStdin(REFRESH + "\n"))
    assert run(home, "add", "--refresh-token", "-") == 0
    assert [a.refresh_token for a in stored(home)] == [REFRESH]


def test_add_rejects_truncated_and_duplicate(home, capsys):
    assert run(home, "add", "--refresh-token", REFRESH[:50] + "..." + REFRESH[-50:]) == 1
    assert "truncated" in capsys.readouterr().err
    assert run(home, "add", "--refresh-token", REFRESH) == 0
    assert run(home, "add", "--refresh-token", REFRESH) == 1
    err = capsys.readouterr().err
    assert "already stored" in err and REFRESH not in err
    assert len(stored(home)) == 1


def test_add_rejects_bad_region(home, capsys):
    assert run(home, "add", "--refresh-token", REFRESH, "--region", "x/y") == 1
    assert "--region" in capsys.readouterr().err


def test_import_kiro_ide_social(home, tmp_path, capsys):
    path = tmp_path / "kiro-auth-token.json"
    path.write_text(json.dumps({"accessToken": ACCESS, "refreshToken": REFRESH,
                                "expiresAt": "2026-01-23T16:14:04.053Z", "authMethod": "social",
                                "provider": "Github"}))
    assert run(home, "import", str(path)) == 0
    [account] = stored(home)
    assert (account.provider, account.access_token) == ("Github", ACCESS)
    assert "imported 1 of 1" in capsys.readouterr().out


def test_import_kiro_ide_idc_with_companion(home, tmp_path):
    (tmp_path / "abc123.json").write_text(json.dumps({"clientId": "cid", "clientSecret": SECRET}))
    path = tmp_path / "kiro-auth-token.json"
    path.write_text(json.dumps({"refreshToken": REFRESH, "authMethod": "IdC",
                                "provider": "Enterprise", "clientIdHash": "abc123",
                                "region": "ap-southeast-2"}))
    assert run(home, "import", str(path)) == 0
    [account] = stored(home)
    assert (account.auth_method, account.client_secret, account.region) == (
        "idc", SECRET, "ap-southeast-2")


def test_import_kiro_cli_list_skips_duplicates(home, tmp_path, capsys):
    assert run(home, "add", "--refresh-token", REFRESH) == 0
    path = tmp_path / "cli.json"
    path.write_text(json.dumps([{"refresh_token": REFRESH}, {"refresh_token": REFRESH_2,
                                                              "region": "us-east-1"}]))
    assert run(home, "import", str(path)) == 0
    out = capsys.readouterr().out
    assert "skipped" in out and "imported 1 of 2" in out
    assert [a.refresh_token for a in stored(home)] == [REFRESH, REFRESH_2]


def test_import_bad_file_fails_clearly(home, tmp_path, capsys):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"refreshToken": "aorAAAA...xyz"}))
    assert run(home, "import", str(path)) == 1
    assert "truncated" in capsys.readouterr().err
    assert stored(home) == []


def test_export_then_import_elsewhere(home, tmp_path, capsys):
    assert run(home, "add", "--refresh-token", REFRESH, "--name", "a") == 0
    assert run(home, "add", "--refresh-token", REFRESH_2, "--auth-method", "idc",
               "--client-id", "cid", "--client-secret", SECRET) == 0
    out_file = tmp_path / "export.json"
    assert run(home, "export", str(out_file)) == 0
    assert mode(out_file) == 0o600
    data = json.loads(out_file.read_text())
    assert data[EXPORT_KEY] == 1
    assert data["accounts"] == [a.to_dict() for a in stored(home)]
    assert REFRESH not in capsys.readouterr().out

    other = tmp_path / "other"
    assert run(other, "import", str(out_file)) == 0
    assert stored(other) == stored(home)  # ids, machine ids and secrets carried over


def test_export_refuses_to_overwrite_without_force(home, tmp_path, capsys):
    out_file = tmp_path / "export.json"
    out_file.write_text("keep")
    os.chmod(out_file, 0o644)
    assert run(home, "export", str(out_file)) == 1
    assert "--force" in capsys.readouterr().err
    assert out_file.read_text() == "keep"
    assert run(home, "export", str(out_file), "--force") == 0
    assert mode(out_file) == 0o600


def test_remove(home, capsys):
    assert run(home, "add", "--refresh-token", REFRESH) == 0
    [account] = stored(home)
    assert run(home, "remove", account.id) == 0
    assert stored(home) == []
    assert run(home, "remove", account.id) == 1
    assert account.id in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["list"], ["add", "--refresh-token", REFRESH],
                                  ["remove", "abcd0001"]])
def test_refuses_while_server_runs(home, capsys, argv):
    lock = acquire_server_lock(home)
    try:
        assert run(home, *argv) == 2
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert "running" in err and f"pid {os.getpid()}" in err
    assert not (home / "accounts.json").exists()


def test_corrupt_accounts_file_fails_naming_it(home, capsys):
    home.mkdir()
    (home / "accounts.json").write_text("{broken")
    assert run(home, "list") == 1
    assert str(home / "accounts.json") in capsys.readouterr().err


def test_lock_is_released_after_a_command(home):
    assert run(home, "list") == 0
    acquire_server_lock(home).release()  # would raise ServerLockHeld if still held


def test_export_onto_a_directory_is_a_clear_error(home, tmp_path, capsys):
    assert run(home, "add", "--refresh-token", REFRESH) == 0
    (tmp_path / "out").mkdir()
    assert run(home, "export", str(tmp_path / "out"), "--force") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and REFRESH not in err
    assert not list(tmp_path.glob(".out.tmp-*"))  # its temp copy (holding secrets) is not left behind

"""The offline `accounts` commands: add, import, list, export, remove.

They open the data files directly, so they run only while the server is stopped (the
server owns the files; architecture.md §1). While it runs they refuse with exit code 2.
Secrets are never printed: lists show the last 4 characters of the refresh token only.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from proxy.account import Account
from proxy.settings import Settings
from store import (AccountNotFound, DuplicateAccount, ServerLockHeld, StoreError, Stores,
                   acquire_server_lock, open_stores)
from store.accounts import new_account_id
from store.importer import (AccountFileError, export_accounts, load_account_file,
                            validate_refresh_token, validate_region)
from store.lock import lock_holder
from store.tiny import atomic_write

EXIT_OK, EXIT_ERROR, EXIT_SERVER_RUNNING = 0, 1, 2


class CommandError(Exception):
    """A user-facing failure of one command (printed, exit code 1)."""


def add_accounts_parser(subparsers: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    """Add `accounts {add,import,list,export,remove}` to a top-level subparsers object."""
    accounts = subparsers.add_parser("accounts", help="manage Kiro accounts (server stopped)")
    accounts.set_defaults(command="accounts")
    sub = accounts.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add one account from its refresh token")
    add.add_argument("--refresh-token", metavar="T",
                     help="the refresh token ('-' reads it from stdin; prompted when omitted)")
    add.add_argument("--auth-method", choices=("social", "idc"), default="social",
                     help="social (Google/GitHub) or idc (Builder ID / IAM Identity Center)")
    add.add_argument("--client-id", metavar="ID", help="IdC client id")
    add.add_argument("--client-secret", metavar="S", help="IdC client secret (prompted if omitted)")
    add.add_argument("--region", metavar="R", default="us-east-1",
                     help="the region the token refreshes in (default us-east-1)")
    add.add_argument("--name", metavar="N", default="", help="a label for lists")

    imp = sub.add_parser("import", help="import a Kiro IDE / kiro-cli token file or an export")
    imp.add_argument("file", metavar="FILE")

    sub.add_parser("list", help="list accounts (no secrets)")

    exp = sub.add_parser("export", help="write every account, secrets included, to FILE (0600)")
    exp.add_argument("file", metavar="FILE")
    exp.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    rm = sub.add_parser("remove", help="remove one account")
    rm.add_argument("id", metavar="ID")
    return accounts


def run_accounts_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run one parsed `accounts` command against settings.data_dir; returns the exit code."""
    handler = _COMMANDS[args.accounts_command]
    data_dir = Path(settings.data_dir).expanduser()
    holder = lock_holder(data_dir)
    if holder is not None:
        return _server_running(data_dir, holder)
    try:
        # Hold the data-dir lock while we work, so a server starting now waits its turn.
        with acquire_server_lock(data_dir):
            stores = open_stores(data_dir)
            try:
                return handler(args, stores)
            finally:
                stores.close()
    except ServerLockHeld as e:
        return _server_running(data_dir, e.pid or 0)
    except (CommandError, StoreError) as e:
        _err(f"error: {e}")
        return EXIT_ERROR
    except OSError as e:  # an unwritable export path, a data dir we may not enter
        _err(f"error: {e.filename or data_dir}: {e.strerror or e}")
        return EXIT_ERROR


def _server_running(data_dir: Path, pid: int) -> int:
    """Explain why nothing was done while the server owns the data dir."""
    who = f" (pid {pid})" if pid else ""
    _err(f"kiro-proxy is running{who} and owns {data_dir}; stop it first "
         f"(changing accounts of a running server through its admin API is not available yet)")
    return EXIT_SERVER_RUNNING


def _out(text: str) -> None:
    """Print to stdout."""
    print(text, file=sys.stdout)


def _err(text: str) -> None:
    """Print to stderr."""
    print(text, file=sys.stderr)


def _ask(prompt: str, secret: bool, flag: str) -> str:
    """Prompt on a terminal for a missing value; CommandError when stdin is not one."""
    if not sys.stdin.isatty():
        raise CommandError(f"{flag} is required (stdin is not a terminal, so it cannot be asked)")
    value = getpass.getpass(prompt) if secret else input(prompt)
    if not value.strip():
        raise CommandError(f"{flag} is required")
    return value.strip()


def _value(given: Optional[str], prompt: str, secret: bool, flag: str) -> str:
    """A flag's value, read from stdin for '-', asked for when missing."""
    if given == "-":
        return sys.stdin.readline().strip()
    if given:
        return given.strip()
    return _ask(prompt, secret, flag)


def _cmd_add(args: argparse.Namespace, stores: Stores) -> int:
    """accounts add: one account from flags and prompts."""
    try:
        token = validate_refresh_token(
            _value(args.refresh_token, "Refresh token: ", True, "--refresh-token"),
            "--refresh-token")
        region = validate_region(args.region, "--region")
    except AccountFileError as e:
        raise CommandError(str(e)) from e
    client_id = client_secret = ""
    if args.auth_method == "idc":
        client_id = _value(args.client_id, "Client id: ", False, "--client-id")
        client_secret = _value(args.client_secret, "Client secret: ", True, "--client-secret")
    account = Account(id=new_account_id(), refresh_token=token, name=args.name or "",
                      auth_method=args.auth_method, region=region, client_id=client_id,
                      client_secret=client_secret)
    try:
        stored = stores.accounts.add(account)
    except DuplicateAccount as e:
        raise CommandError(str(e)) from e
    _out(f"added account {stored.id}" + (f" ({stored.name})" if stored.name else ""))
    return EXIT_OK


def _cmd_import(args: argparse.Namespace, stores: Stores) -> int:
    """accounts import: every account in a file; already stored tokens are skipped."""
    accounts = load_account_file(args.file)
    added = 0
    for account in accounts:
        try:
            stored = stores.accounts.add(account)
        except DuplicateAccount as e:
            _out(f"skipped: {e}")
            continue
        added += 1
        _out(f"added account {stored.id} ({stored.auth_method}"
             + (f", {stored.provider}" if stored.provider else "") + ")")
    _out(f"imported {added} of {len(accounts)} account(s)")
    return EXIT_OK


def _expiry(account: Account, now: float) -> str:
    """The access token's expiry in UTC, or '-' when unknown."""
    if not account.expires_at:
        return "-"
    moment = datetime.fromtimestamp(account.expires_at, tz=timezone.utc)
    text = moment.strftime("%Y-%m-%d %H:%MZ")
    return text + (" (expired)" if account.expires_at <= now else "")


def format_account_table(accounts: list[Account], now: float) -> str:
    """The `accounts list` table; only `Account.public()` data, so no secrets."""
    header = ("ID", "NAME", "METHOD", "STATUS", "EXPIRES", "TOKEN")
    rows = [header]
    for account in accounts:
        public = account.public()
        status = public["status"] + ("" if public["enabled"] else " (disabled)")
        rows.append((public["id"], public["name"] or "-", public["auth_method"], status,
                     _expiry(account, now), public["refresh_token"] or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in rows)


def _cmd_list(args: argparse.Namespace, stores: Stores) -> int:
    """accounts list: a table without secrets."""
    accounts = stores.accounts.list()
    if not accounts:
        _out("no accounts; add one with `accounts add` or `accounts import FILE`")
        return EXIT_OK
    _out(format_account_table(accounts, time.time()))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace, stores: Stores) -> int:
    """accounts export: every account, secrets included, to a new 0600 file."""
    path = Path(args.file).expanduser()
    if path.exists() and not args.force:
        raise CommandError(f"{path} exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise CommandError(f"{path.parent} is not a directory")
    accounts = stores.accounts.list()
    atomic_write(path, json.dumps(export_accounts(accounts), ensure_ascii=False, indent=2) + "\n")
    _out(f"exported {len(accounts)} account(s) to {path} (it holds secrets; keep it private)")
    return EXIT_OK


def _cmd_remove(args: argparse.Namespace, stores: Stores) -> int:
    """accounts remove: delete one account by id."""
    try:
        stores.accounts.remove(args.id)
    except AccountNotFound as e:
        raise CommandError(str(e)) from e
    _out(f"removed account {args.id}")
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, Stores], int]] = {
    "add": _cmd_add, "import": _cmd_import, "list": _cmd_list,
    "export": _cmd_export, "remove": _cmd_remove,
}

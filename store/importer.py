"""Account files in, Account objects out: Kiro IDE token files, kiro-cli JSON, our export.

Formats (kiro-upstream.md §5.3):
- Kiro IDE `kiro-auth-token.json`: camelCase (`refreshToken`, `authMethod`, `expiresAt`, …);
  an IdC token names its client registration `<clientIdHash>.json` in the same directory.
- kiro-cli style: snake_case (`refresh_token`, `expires_at`, `client_id`, …); a bare
  `Account.to_dict()` also reads this way.
- Our export: `{"kiro_proxy_export": 1, "accounts": [Account.to_dict(), …]}`.
A file may also hold a JSON list of token objects of the first two kinds.
"""
from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

from proxy.account import Account, usable_token
from store.accounts import new_account_id
from store.tiny import PathLike, StoreError

EXPORT_KEY = "kiro_proxy_export"
EXPORT_VERSION = 1
MIN_REFRESH_TOKEN_LENGTH = 100  # the Kiro IDE shows shortened tokens; real ones are ~230 chars

_CLIENT_ID_HASH = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # a file name, never a path
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


class AccountFileError(StoreError):
    """An account file or token cannot be imported; the message says why (never the secret)."""


def validate_refresh_token(token: Any, where: str = "refresh token") -> str:
    """The token stripped, or AccountFileError when it is missing or looks truncated."""
    if not isinstance(token, str) or not token.strip():
        raise AccountFileError(f"{where}: missing")
    token = token.strip()
    if not usable_token(token.replace("…", ".")):
        raise AccountFileError(f"{where}: contains spaces, line breaks or other characters no token has "
                               f"(copied across a line break?)")
    if len(token) < MIN_REFRESH_TOKEN_LENGTH or "..." in token or "…" in token:
        raise AccountFileError(
            f"{where}: looks truncated ({len(token)} chars; a real one is about 230 and has "
            f"no '...'). Copy it from kiro-auth-token.json, not from the Kiro IDE's screen.")
    return token


def validate_region(region: Any, where: str = "region") -> str:
    """An AWS region name like us-east-1, or AccountFileError."""
    if not isinstance(region, str) or not _REGION.match(region.strip()):
        raise AccountFileError(f"{where}: {region!r} is not an AWS region like us-east-1")
    return region.strip()


def parse_expiry(value: Any) -> float:
    """Unix seconds from an ISO time (any fraction precision, Z or offset) or a number; 0 if unknown."""
    if isinstance(value, bool) or value is None:
        return 0.0
    if isinstance(value, (int, float)):
        # Milliseconds since the epoch are common in JavaScript-written files.
        return float(value) / 1000.0 if value > 1e11 else float(value)
    if not isinstance(value, str) or not value.strip():
        return 0.0
    text = value.strip()
    if text[-1:] in "Zz":
        text = text[:-1] + "+00:00"
    # fromisoformat takes at most 6 fraction digits; tools write up to 9.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def export_accounts(accounts: Iterable[Account]) -> dict[str, Any]:
    """Our export document: every field of every account, secrets included."""
    return {EXPORT_KEY: EXPORT_VERSION, "accounts": [a.to_dict() for a in accounts]}


def load_account_file(path: PathLike) -> list[Account]:
    """Every account in one file, of any supported format."""
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise AccountFileError(f"{path}: no such file") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AccountFileError(f"{path}: not a JSON file") from e
    except OSError as e:
        raise AccountFileError(f"{path}: cannot read ({e.strerror})") from e
    return parse_accounts(data, source_dir=path.parent, source=str(path))


def parse_accounts(data: Any, source_dir: Optional[Path] = None,
                   source: str = "input") -> list[Account]:
    """Accounts from parsed JSON; `source_dir` is where IdC client files are looked up."""
    if isinstance(data, dict) and EXPORT_KEY in data:
        return _parse_export(data, source)
    items = data if isinstance(data, list) else [data]
    if not items:
        raise AccountFileError(f"{source}: no accounts in it")
    accounts = []
    for index, item in enumerate(items):
        where = f"{source}[{index}]" if isinstance(data, list) else source
        accounts.append(parse_token(item, source_dir, where))
    return accounts


def parse_token(item: Any, source_dir: Optional[Path] = None, where: str = "input") -> Account:
    """One account from a Kiro IDE (camelCase) or kiro-cli (snake_case) token object."""
    if not isinstance(item, dict):
        raise AccountFileError(f"{where}: expected a JSON object with a refresh token")
    if "refreshToken" in item:
        return _parse_ide(item, source_dir, where)
    if "refresh_token" in item:
        return _parse_snake(item, where)
    raise AccountFileError(f"{where}: no refreshToken / refresh_token field; not a token file")


def _text(item: dict, key: str) -> str:
    """A string field, '' when absent or not a string."""
    value = item.get(key)
    return value.strip() if isinstance(value, str) else ""


def _method(raw: str, has_client: bool, where: str) -> str:
    """Our auth method from a file's authMethod/auth_method value."""
    lowered = raw.lower().replace("-", "_")
    if lowered in ("idc", "iam_identity_center", "builderid", "builder_id"):
        return "idc"
    if lowered == "social":
        return "social"
    if lowered == "external_idp":
        raise AccountFileError(f"{where}: external-IdP (enterprise) tokens are not supported yet")
    if lowered:
        raise AccountFileError(f"{where}: unknown auth method {raw!r}")
    return "idc" if has_client else "social"


def _parse_ide(item: dict, source_dir: Optional[Path], where: str) -> Account:
    """A Kiro IDE `kiro-auth-token.json` object (§5.3)."""
    refresh_token = validate_refresh_token(item.get("refreshToken"), f"{where}: refreshToken")
    client_id, client_secret = _text(item, "clientId"), _text(item, "clientSecret")
    method = _method(_text(item, "authMethod"), bool(client_id), where)
    if method == "idc" and not (client_id and client_secret):
        client_id, client_secret = _client_registration(item, source_dir, where)
    return _new_account(
        refresh_token=refresh_token, auth_method=method, provider=_text(item, "provider"),
        region=validate_region(item.get("region") or "us-east-1", f"{where}: region"),
        client_id=client_id if method == "idc" else "",
        client_secret=client_secret if method == "idc" else "",
        profile_arn=_text(item, "profileArn"), access_token=_text(item, "accessToken"),
        expires_at=parse_expiry(item.get("expiresAt")))


def _client_registration(item: dict, source_dir: Optional[Path], where: str) -> tuple[str, str]:
    """clientId/clientSecret from the `<clientIdHash>.json` file beside the token file."""
    missing = (f"{where}: an IdC token needs clientId and clientSecret; put its "
               f"<clientIdHash>.json next to it, or use `accounts add --auth-method idc`")
    client_hash = _text(item, "clientIdHash")
    if not client_hash or source_dir is None:
        raise AccountFileError(missing)
    if not _CLIENT_ID_HASH.match(client_hash):
        raise AccountFileError(f"{where}: clientIdHash is not a plain file name")
    path = source_dir / f"{client_hash}.json"
    try:
        registration = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise AccountFileError(f"{missing} ({path} not found)") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AccountFileError(f"{where}: {path} is not a readable JSON file") from e
    if not isinstance(registration, dict):
        raise AccountFileError(f"{where}: {path} is not a client registration")
    client_id, client_secret = _text(registration, "clientId"), _text(registration, "clientSecret")
    if not client_id or not client_secret:
        raise AccountFileError(f"{where}: {path} lacks clientId or clientSecret")
    return client_id, client_secret


def _parse_snake(item: dict, where: str) -> Account:
    """A kiro-cli style snake_case token object (or a bare Account dict)."""
    refresh_token = validate_refresh_token(item.get("refresh_token"), f"{where}: refresh_token")
    client_id, client_secret = _text(item, "client_id"), _text(item, "client_secret")
    # kiro-cli IdC tokens carry start_url / oauth_flow; social ones do not.
    looks_idc = bool(client_id) or "start_url" in item or "oauth_flow" in item
    method = _method(_text(item, "auth_method"), looks_idc, where)
    if method == "idc" and not (client_id and client_secret):
        raise AccountFileError(f"{where}: an IdC token needs client_id and client_secret (kiro-cli "
                               f"keeps them under kirocli:odic:device-registration)")
    return _new_account(
        refresh_token=refresh_token, auth_method=method, name=_text(item, "name"),
        provider=_text(item, "provider"),
        region=validate_region(item.get("region") or "us-east-1", f"{where}: region"),
        client_id=client_id if method == "idc" else "",
        client_secret=client_secret if method == "idc" else "",
        profile_arn=_text(item, "profile_arn"), access_token=_text(item, "access_token"),
        expires_at=parse_expiry(item.get("expires_at")))


def _new_account(**fields: Any) -> Account:
    """An Account with a fresh id; a token without an expiry gets no access token."""
    if not fields.get("expires_at") or not usable_token(fields.get("access_token") or ""):
        fields["access_token"] = ""  # unknown expiry or a garbled token: refresh before first use
    return Account(id=new_account_id(), **fields)


def _parse_export(data: dict, source: str) -> list[Account]:
    """Accounts from our own export document, ids and machine ids kept."""
    if data.get(EXPORT_KEY) != EXPORT_VERSION:
        raise AccountFileError(f"{source}: export version {data.get(EXPORT_KEY)!r} is not "
                               f"supported (expected {EXPORT_VERSION})")
    items = data.get("accounts")
    if not isinstance(items, list):
        raise AccountFileError(f"{source}: 'accounts' must be a list")
    accounts = []
    known = {f.name for f in dataclasses.fields(Account)}
    for index, item in enumerate(items):
        where = f"{source}: accounts[{index}]"
        if not isinstance(item, dict):
            raise AccountFileError(f"{where}: not an object")
        validate_refresh_token(item.get("refresh_token"), f"{where}: refresh_token")
        try:
            account = Account.from_dict({k: v for k, v in item.items() if k in known})
        except TypeError as e:
            raise AccountFileError(f"{where}: missing fields") from e
        if account.auth_method not in ("social", "idc"):
            raise AccountFileError(f"{where}: unknown auth_method {account.auth_method!r}")
        if account.access_token and not (isinstance(account.access_token, str)
                                         and usable_token(account.access_token)):
            account.access_token, account.expires_at = "", 0.0  # garbled: refreshed before first use
        accounts.append(account)
    return accounts

"""Access-token refresh against Kiro's social auth service or AWS SSO-OIDC (kiro-upstream.md §5).

The only I/O is the injected `requests.Session`. Tokens never appear in errors or logs.
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import requests

from proxy.account import Account, usable_token
from proxy.settings import Settings

DEFAULT_EXPIRES_IN = 3600  # both services issue one-hour access tokens (§5)

# The IdC refresh mimics the Kiro IDE's AWS SDK call (§5.2); os and node as in §1.2.
OIDC_SDK_VERSION = "3.980.0"
OIDC_OS = "darwin#24.6.0"
OIDC_NODE = "22.22.0"

# 400 error codes that mean the stored refresh token (or IdC client) is dead: log in again.
# invalid_request is what SSO-OIDC answers a token made stale by a newer login (§5.2, §7.4-12).
PERMANENT_ERROR_CODES = frozenset({"invalid_grant", "invalid_client", "invalid_request"})
PERMANENT_STATUSES = frozenset({401, 403})

_MAX_DESCRIPTION = 200  # upstream error text kept in messages
_TOKEN_LIKE = re.compile(r"ao[ar]A[A-Za-z0-9_\-+/=:.]{12,}")  # Kiro's opaque tokens (§5), even cut short


class AuthError(Exception):
    """A refresh failed. `permanent` means the account needs a new login; else retry later."""

    def __init__(self, message: str, permanent: bool, status: Optional[int] = None,
                 code: str = ""):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status  # HTTP status, None when no answer came
        self.code = code  # the upstream's error code, e.g. invalid_grant

    def __repr__(self) -> str:
        return f"AuthError({self.message!r}, permanent={self.permanent}, status={self.status})"


@dataclass(frozen=True)
class RefreshResult:
    """New credentials from a successful refresh."""
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)  # the returned (possibly rotated) one, else the one we sent
    expires_at: float  # unix seconds
    profile_arn: str = ""  # social refresh returns it; IdC does not


def social_request(account: Account, settings: Settings) -> tuple[str, dict[str, str], dict]:
    """URL, headers and JSON body of a social (Google/GitHub) refresh (§5.1)."""
    url = settings.url("auth", account.region) + "/refreshToken"
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/plain, */*",
        "User-Agent": f"KiroIDE-{settings.kiro_version}-{account.machine_id}",
    }
    return url, headers, {"refreshToken": account.refresh_token}


def idc_request(account: Account, settings: Settings) -> tuple[str, dict[str, str], dict]:
    """URL, headers and JSON body of a Builder ID / IdC refresh (SSO-OIDC CreateToken, §5.2)."""
    url = settings.url("oidc", account.region) + "/token"
    headers = {
        "content-type": "application/json",
        "x-amz-user-agent": f"aws-sdk-js/{OIDC_SDK_VERSION} KiroIDE",
        "user-agent": (f"aws-sdk-js/{OIDC_SDK_VERSION} ua/2.1 os/{OIDC_OS} lang/js "
                       f"md/nodejs#{OIDC_NODE} api/sso-oidc#{OIDC_SDK_VERSION} m/E KiroIDE"),
        "amz-sdk-invocation-id": str(uuid.uuid4()),
        "amz-sdk-request": "attempt=1; max=4",
    }
    # JSON with camelCase keys: form-encoded or snake_case bodies are rejected (§7.4-12).
    body = {
        "clientId": account.client_id,
        "clientSecret": account.client_secret,
        "grantType": "refresh_token",
        "refreshToken": account.refresh_token,
    }
    return url, headers, body


def refresh_access_token(account: Account, settings: Settings, session: requests.Session,
                         clock: Callable[[], float] = time.time) -> RefreshResult:
    """Exchange the account's refresh token for a new access token; AuthError on failure."""
    if account.auth_method == "idc":
        if not account.client_id or not account.client_secret:
            raise AuthError("IdC account has no client id/secret; import it again with them",
                            permanent=True)
        url, headers, body = idc_request(account, settings)
    else:
        url, headers, body = social_request(account, settings)
    kind = account.auth_method
    secrets = (account.refresh_token, account.access_token, account.client_secret)
    try:
        response = session.post(url, json=body, headers=headers, timeout=settings.refresh_timeout)
    except requests.RequestException as e:
        raise AuthError(f"{kind} refresh failed: {type(e).__name__}", permanent=False) from e
    if response.status_code != 200:
        raise _status_error(kind, response, secrets)
    return _parse_success(kind, response, account.refresh_token, clock())


def _json_or_none(response: requests.Response) -> Any:
    """The JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:  # requests' JSONDecodeError subclasses ValueError
        return None


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Shorten upstream text and blank out any of our secrets it might echo, whole or in part
    (anything shaped like a Kiro token, `aoa…`/`aor…`, goes too: a cut-off echo is still a secret)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    return _TOKEN_LIKE.sub("…", text)[:_MAX_DESCRIPTION]


def _status_error(kind: str, response: requests.Response, secrets: tuple[str, ...]) -> AuthError:
    """The AuthError for a non-200 answer: permanent when the grant itself is refused."""
    status = response.status_code
    body = _json_or_none(response)
    code = description = ""
    if isinstance(body, dict):
        code = str(body.get("error") or body.get("__type") or "")
        description = str(body.get("error_description") or body.get("message") or "")
    permanent = status in PERMANENT_STATUSES or (status == 400 and code in PERMANENT_ERROR_CODES)
    detail = " ".join(part for part in (code, f"({description})" if description else "") if part)
    message = _scrub(f"{kind} refresh failed: HTTP {status}" + (f" {detail}" if detail else ""),
                     secrets)
    return AuthError(message, permanent=permanent, status=status, code=code)


def _parse_success(kind: str, response: requests.Response, old_refresh_token: str,
                   now: float) -> RefreshResult:
    """Read a 200 answer; a 200 without an access token is a transient upstream fault."""
    body = _json_or_none(response)
    access_token = body.get("accessToken") if isinstance(body, dict) else None
    if not isinstance(access_token, str) or not access_token.strip():
        raise AuthError(f"{kind} refresh failed: HTTP 200 without an access token",
                        permanent=False, status=200)
    access_token = access_token.strip()
    if not usable_token(access_token):
        # It goes into an Authorization header: requests would refuse it with an error that
        # quotes the header value, token and all.
        raise AuthError(f"{kind} refresh failed: HTTP 200 with a malformed access token",
                        permanent=False, status=200)
    expires_in = body.get("expiresIn")
    if not isinstance(expires_in, (int, float)) or isinstance(expires_in, bool) or expires_in <= 0:
        expires_in = DEFAULT_EXPIRES_IN
    refresh_token = body.get("refreshToken")
    refresh_token = refresh_token.strip() if isinstance(refresh_token, str) else None
    profile_arn = body.get("profileArn")
    return RefreshResult(
        access_token=access_token,
        refresh_token=refresh_token if refresh_token and usable_token(refresh_token) else old_refresh_token,
        expires_at=now + float(expires_in),
        profile_arn=profile_arn if isinstance(profile_arn, str) else "",
    )

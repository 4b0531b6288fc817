"""Auth endpoints: social refresh/login (§5.1, §5.4, §5.5) and AWS SSO-OIDC (§5.2, §5.6)."""
from __future__ import annotations

import json
import secrets
import string
import time
from typing import Optional
from urllib.parse import urlencode

from flask import Blueprint, g, redirect, request

from . import bodies
from .tokens import FakeAccount, mint_client_id, mint_client_secret
from .web import fake_state, http_fault, take_fault

auth = Blueprint("fake_kiro_auth", __name__)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_USER_CODE = string.ascii_uppercase + string.digits


def _json_body() -> Optional[dict]:
    """The request body as a JSON object, or None (form-encoded bodies are rejected like Kiro does)."""
    if "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
        return None
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _bad(description: str):
    """400 invalid_request."""
    return bodies.json_response(bodies.invalid_request(description), 400)


def _refresh_fault(account: Optional[FakeAccount]):
    """An injected `on: refresh` fault response, if one is queued."""
    fault = take_fault("refresh", account)
    return http_fault(fault, account) if fault is not None and fault.is_http else None


def _rotate(account: FakeAccount) -> tuple[str, str]:
    """Refresh the account under the current rotation settings and count it."""
    state = fake_state()
    config = state.config
    access, refresh = state.accounts.refresh(account, config.expires_in, config.rotate_refresh_tokens,
                                             config.invalidate_old_refresh_tokens)
    with state.lock:
        state.totals["refreshes"] += 1
        account.last_request_time = time.time()
    return access, refresh


def _refreshing(refresh_token: str, method: str):
    """(account, None) when `refresh_token` belongs to a `method` account and no refresh fault
    is queued; otherwise (None, the answer to send: the fault's, or invalid_grant)."""
    account = fake_state().accounts.by_refresh(refresh_token)
    if account is not None:
        g.fake_account_id = account.account_id
    early = _refresh_fault(account)
    if early is not None:
        return None, early
    if account is None or account.auth_method != method:
        return None, bodies.json_response(bodies.INVALID_GRANT, 400)
    return account, None


@auth.post("/refreshToken")
def refresh_social():
    """Social refresh: {"refreshToken"} -> new tokens + profileArn; unknown tokens -> invalid_grant."""
    body = _json_body()
    if body is None or not isinstance(body.get("refreshToken"), str) or not body["refreshToken"]:
        return _bad("refreshToken is required")
    account, answer = _refreshing(body["refreshToken"], "social")
    if account is None:
        return answer
    access, refresh = _rotate(account)
    return bodies.json_response({"accessToken": access, "refreshToken": refresh,
                                 "profileArn": account.profile_arn, "expiresIn": fake_state().config.expires_in})


def _idc_tokens(account: FakeAccount, access: str, refresh: str) -> dict:
    """The CreateToken success body."""
    return {"accessToken": access, "refreshToken": refresh, "expiresIn": fake_state().config.expires_in,
            "tokenType": "Bearer", "aws_sso_app_session_id": f"fake-session-{account.account_id}",
            "issuedTokenType": "urn:ietf:params:oauth:token-type:access_token",
            "originSessionId": f"fake-origin-{account.account_id}"}


@auth.post("/token")
def create_token():
    """SSO-OIDC CreateToken: JSON camelCase refresh_token / device_code / authorization_code grants."""
    body = _json_body()
    if body is None:
        return _bad("Request body must be JSON with camelCase fields")
    grant = body.get("grantType")
    if grant == "refresh_token":
        return _refresh_idc(body)
    if grant == DEVICE_GRANT:
        return _poll_device(body)
    if grant == "authorization_code":
        return _authorization_code(body)
    if grant is None:
        return _bad("grantType is required")
    return bodies.json_response({"error": "unsupported_grant_type",
                                 "error_description": f"Unsupported grant type {grant}"}, 400)


def _refresh_idc(body: dict):
    """grantType refresh_token: the refresh token must belong to an IdC account with this client."""
    missing = [k for k in ("clientId", "clientSecret", "refreshToken") if not body.get(k)]
    if missing:
        return _bad(f"{missing[0]} is required")
    account, answer = _refreshing(body["refreshToken"], "idc")
    if account is None:
        return answer
    if body["clientId"] != account.client_id or body["clientSecret"] != account.client_secret:
        return bodies.json_response(bodies.INVALID_CLIENT, 400)
    access, refresh = _rotate(account)
    return bodies.json_response(_idc_tokens(account, access, refresh))


@auth.post("/client/register")
def register_client():
    """RegisterClient: mint a clientId/clientSecret pair valid for 90 days."""
    body = _json_body()
    if body is None or not body.get("clientName"):
        return _bad("clientName is required")
    now = int(time.time())
    client = {"clientId": mint_client_id(), "clientSecret": mint_client_secret(),
              "clientIdIssuedAt": now, "clientSecretExpiresAt": now + 90 * 86400}
    state = fake_state()
    with state.lock:
        state.clients[client["clientId"]] = client
    return bodies.json_response(client)


def _known_client(body: dict) -> bool:
    """True when clientId/clientSecret came from /client/register."""
    client = fake_state().clients.get(body.get("clientId") or "")
    return client is not None and client["clientSecret"] == body.get("clientSecret")


def _new_device(kind: str, **extra) -> dict:
    """Start a device flow and remember it by device code."""
    state = fake_state()
    code = secrets.token_urlsafe(32)
    user_code = "".join(secrets.choice(_USER_CODE) for _ in range(4)) + "-" + \
        "".join(secrets.choice(_USER_CODE) for _ in range(4))
    with state.lock:
        state.device_codes[code] = {"kind": kind, "user_code": user_code,
                                    "pending": state.config.device_pending_polls, **extra}
    return {"deviceCode": code, "userCode": user_code}


@auth.post("/device_authorization")
def device_authorization():
    """StartDeviceAuthorization for a registered client."""
    body = _json_body()
    if body is None or not _known_client(body):
        return bodies.json_response(bodies.INVALID_CLIENT, 400)
    codes = _new_device("idc", client_id=body["clientId"], client_secret=body["clientSecret"])
    uri = "https://device.sso.us-east-1.amazonaws.com/"
    return bodies.json_response({**codes, "verificationUri": uri,
                                 "verificationUriComplete": f"{uri}?user_code={codes['userCode']}",
                                 "expiresIn": 600, "interval": 1})


def _claim_device(code: str, kind: str) -> tuple[Optional[dict], Optional[str]]:
    """(flow, None) once approved, (None, error code) while pending or when unknown."""
    state = fake_state()
    with state.lock:
        flow = state.device_codes.get(code or "")
        if flow is None or flow["kind"] != kind:
            return None, "expired_token"
        if flow["pending"] > 0:
            flow["pending"] -= 1
            return None, "authorization_pending"
        del state.device_codes[code]
        return flow, None


def _poll_device(body: dict):
    """Device-code grant: pending for `device_pending_polls` polls, then a new IdC account."""
    if not _known_client(body):
        return bodies.json_response(bodies.INVALID_CLIENT, 400)
    flow, error = _claim_device(body.get("deviceCode"), "idc")
    if flow is None:
        return bodies.json_response({"error": error, "error_description": error.replace("_", " ")}, 400)
    account, access = fake_state().register(auth_method="idc", client_id=flow["client_id"],
                                            client_secret=flow["client_secret"])
    return bodies.json_response(_idc_tokens(account, access, account.refresh_token))


def _authorization_code(body: dict):
    """IdC browser flow exchange: any code from a registered client yields a new IdC account."""
    if not _known_client(body):
        return bodies.json_response(bodies.INVALID_CLIENT, 400)
    if not body.get("code"):
        return _bad("code is required")
    account, access = fake_state().register(auth_method="idc", client_id=body["clientId"],
                                            client_secret=body["clientSecret"])
    return bodies.json_response(_idc_tokens(account, access, account.refresh_token))


def _social_tokens(account: FakeAccount, access: str) -> dict:
    """Social login success body."""
    return {"accessToken": access, "refreshToken": account.refresh_token,
            "profileArn": account.profile_arn, "expiresIn": fake_state().config.expires_in}


@auth.get("/login")
def social_login():
    """Browser login page stand-in: redirect straight back with a code and the caller's state."""
    target = request.args.get("redirect_uri", "kiro://kiro.kiroAgent/authenticate-success")
    query = urlencode({"code": "fake-code-" + secrets.token_urlsafe(12), "state": request.args.get("state", "")})
    return redirect(f"{target}?{query}", code=302)


@auth.post("/oauth/token")
def social_exchange():
    """PKCE code exchange: any non-empty code yields a new social account."""
    body = _json_body()
    if body is None or not body.get("code") or not body.get("code_verifier"):
        return _bad("code and code_verifier are required")
    account, access = fake_state().register(auth_method="social")
    return bodies.json_response(_social_tokens(account, access))


@auth.post("/oauth/device/authorization")
def social_device_start():
    """Social device flow start (§5.5)."""
    body = _json_body()
    if body is None or not body.get("clientId"):
        return _bad("clientId is required")
    codes = _new_device("social", provider=body.get("loginProvider", "Github"))
    uri = "https://app.kiro.dev/account/device"
    return bodies.json_response({**codes, "verificationUri": uri,
                                 "verificationUriComplete": f"{uri}?user_code={codes['userCode']}"
                                                            f"&login_provider={body.get('loginProvider', 'Github')}",
                                 "expiresInMilliseconds": 300000, "intervalInMilliseconds": 5000})


@auth.post("/oauth/device/poll")
def social_device_poll():
    """Social device flow poll: pending, then tokens for a new social account."""
    body = _json_body()
    if body is None or not body.get("deviceCode"):
        return _bad("deviceCode is required")
    flow, error = _claim_device(body["deviceCode"], "social")
    if flow is None:
        if error == "authorization_pending":
            return bodies.json_response({"accessToken": None, "refreshToken": None, "profileArn": None,
                                         "status": "authorization_pending"})
        return bodies.json_response({"error": error, "error_description": "device code expired"}, 400)
    account, access = fake_state().register(auth_method="social")
    return bodies.json_response({"status": "success", **_social_tokens(account, access),
                                 "identityProvider": flow["provider"]})

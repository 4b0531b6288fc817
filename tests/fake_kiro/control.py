"""Control API under /__fake/: accounts, faults, config, stats, request log, reset."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from .config import ConfigError
from .faults import FaultError
from .tokens import AccountError
from .web import fake_state

control = Blueprint("fake_kiro_control", __name__, url_prefix="/__fake")
ACCOUNT_FIELDS = ("auth_method", "refresh_token", "client_id", "client_secret", "profile_arn", "region",
                  "usage_limit", "usage", "email", "subscription_title")


def _body() -> dict:
    """The JSON object body (empty when absent)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _error(message: str, status: int = 400):
    """Control-API error: {"error": message}."""
    return jsonify({"error": message}), status


@control.post("/accounts")
def add_account():
    """Register an account; answers its credentials incl. a first access token."""
    body = _body()
    unknown = sorted(set(body) - set(ACCOUNT_FIELDS))
    if unknown:
        return _error(f"unknown account field(s): {', '.join(unknown)}")
    try:
        account, access = fake_state().register(**body)
    except (AccountError, TypeError, ValueError) as e:
        return _error(str(e))
    return jsonify(account.credentials(access)), 201


@control.get("/accounts")
def list_accounts():
    """Every account's credentials (current refresh token, client id/secret)."""
    return jsonify({"accounts": [a.credentials() for a in fake_state().accounts.all()]})


@control.post("/accounts/<ref>")
def update_account(ref: str):
    """Change usage / usage_limit / subscription_title, or expire all access tokens."""
    state = fake_state()
    account = state.accounts.find(ref)
    if account is None:
        return _error(f"unknown account {ref!r}", 404)
    body = _body()
    with state.lock:
        for name in ("usage", "usage_limit"):
            if name in body:
                if isinstance(body[name], bool) or not isinstance(body[name], (int, float)):
                    return _error(f"{name} must be a number")
                setattr(account, name, float(body[name]))
        if isinstance(body.get("subscription_title"), str):
            account.subscription_title = body["subscription_title"]
    expired = state.accounts.expire_access_tokens(account) if body.get("expire_access_tokens") else 0
    return jsonify({**account.credentials(), "expired_access_tokens": expired})


@control.post("/faults")
def add_fault():
    """Queue a fault: {kind, count=1, account?, on="chat", delay?, retry_after?, exception_type?}."""
    state = fake_state()
    body = _body()
    account_id = None
    if body.get("account") is not None:
        account = state.accounts.find(str(body["account"]))
        if account is None:
            return _error(f"unknown account {body['account']!r}", 404)
        account_id = account.account_id
    try:
        fault = state.faults.add(body.get("kind", ""), body.get("count", 1), account_id, body.get("on", "chat"),
                                 body.get("delay"), body.get("retry_after"),
                                 body.get("exception_type", "ThrottlingException"))
    except FaultError as e:
        return _error(str(e))
    return jsonify(fault.public()), 201


@control.get("/faults")
def list_faults():
    """Pending faults."""
    return jsonify({"faults": fake_state().faults.pending()})


@control.delete("/faults")
def clear_faults():
    """Drop every pending fault."""
    fake_state().faults.clear()
    return jsonify({"faults": []})


@control.route("/config", methods=["GET", "POST"])
def config():
    """GET the config, or POST a partial update; answers the full config."""
    state = fake_state()
    if request.method == "POST":
        try:
            state.set_config(_body())
        except ConfigError as e:
            return _error(str(e))
    return jsonify(state.config.public())


@control.get("/stats")
def stats():
    """Per-account counters, totals and pending faults."""
    return jsonify(fake_state().stats())


@control.get("/requests")
def requests_log():
    """The most recent requests (?limit=N, default 20; ?path=/x filters), oldest first."""
    limit = request.args.get("limit", "20")
    if not limit.isdigit():
        return _error("limit must be a non-negative integer")
    return jsonify({"requests": fake_state().recent(int(limit), request.args.get("path"))})


@control.post("/reset")
def reset():
    """Back to the startup state; {"keep_accounts": true} keeps accounts but clears the rest."""
    fake_state().reset(keep_accounts=bool(_body().get("keep_accounts")))
    return jsonify({"ok": True})


@control.get("/health")
def health():
    """Liveness probe."""
    return jsonify({"ok": True})

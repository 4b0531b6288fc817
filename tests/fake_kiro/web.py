"""Helpers shared by the fake's Flask routes: state access, bearer auth, fault application."""
from __future__ import annotations

import time
from typing import Optional

from flask import current_app, g, request

from . import bodies
from .faults import Fault, http_fault_response
from .state import FakeState
from .tokens import FakeAccount

EXTENSION = "fake_kiro"


def fake_state() -> FakeState:
    """The FakeState of the app serving this request."""
    return current_app.extensions[EXTENSION]


def bearer_token() -> str:
    """The token from `Authorization: Bearer …` (empty when absent)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer_account() -> Optional[FakeAccount]:
    """The account of a live access token, remembered on `g` for the request log."""
    state = fake_state()
    account = state.accounts.by_access(bearer_token())
    if account is None:
        with state.lock:
            state.totals["unauthorized"] += 1
    else:
        g.fake_account_id = account.account_id
    return account


def bearer_rejected():
    """403 for an unknown or expired access token."""
    return bodies.json_response(bodies.BEARER_INVALID, 403)


def take_fault(on: str, account: Optional[FakeAccount]) -> Optional[Fault]:
    """Consume the next fault for this operation/account and remember its kind for the log."""
    fault = fake_state().faults.take(on, account.account_id if account else None)
    if fault is not None:
        g.fake_fault = fault.kind
    return fault


def http_fault(fault: Fault, account: Optional[FakeAccount]):
    """Wait the fault's delay, then answer with its error response."""
    if fault.delay:
        time.sleep(fault.delay)
    return http_fault_response(fault, account.user_id if account else "d-9067c98495.00000000")


def guarded(on: str):
    """Bearer check + HTTP fault for a simple JSON operation: (account, early response or None)."""
    account = bearer_account()
    if account is None:
        return None, bearer_rejected()
    fault = take_fault(on, account)
    if fault is not None and fault.is_http:
        return account, http_fault(fault, account)
    return account, None

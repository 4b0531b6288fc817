"""Routes that are not a chat protocol: health, and the model list Anthropic and OpenAI clients share.

GET /v1/models is also where the google-genai Python SDK lists models (it uses /v1, not /v1beta),
so a request that carries a Gemini client's marks gets the Gemini answer instead.
"""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

from proxy.errors import ErrorKind, ProxyError
from proxy.kiro.models import public_models
from proxy.protocols.gemini import routes as gemini_routes
from proxy.protocols.gemini.adapter import ADAPTER as GEMINI
from proxy.serving import error_response

blueprint = Blueprint("meta", __name__)

_STARTED = time.time()
_CREATED_AT = "2025-01-01T00:00:00Z"  # the model list has no real dates; a fixed one keeps answers stable


@blueprint.get("/health")
def health():
    """200 once the app is serving; counts accounts by status (no secrets)."""
    services = current_app.extensions["kiro_proxy"]
    accounts = services.stores.accounts.list()
    usable = sum(1 for a in accounts if services.pool.usable(a))
    return jsonify(status="ok", uptime_seconds=round(time.time() - _STARTED, 1),
                   accounts=len(accounts), usable_accounts=usable)


def _model_entry(model) -> dict:
    # One shape both SDKs accept: Anthropic reads type/display_name/created_at,
    # OpenAI reads object/created/owned_by; each ignores the other's keys.
    return {"id": model.id, "type": "model", "display_name": model.display_name, "created_at": _CREATED_AT,
            "object": "model", "created": 1735689600, "owned_by": "kiro"}


@blueprint.get("/v1/models")
def list_models():
    """The Kiro catalogue, in a shape the Anthropic and OpenAI clients both parse (Gemini's for Gemini)."""
    if gemini_routes.is_gemini_request():
        return gemini_routes.list_models_response()
    data = [_model_entry(m) for m in public_models()]
    return jsonify(object="list", data=data, has_more=False,
                   first_id=data[0]["id"] if data else None, last_id=data[-1]["id"] if data else None)


@blueprint.get("/v1/models/<model_id>")
def get_model(model_id: str):
    """One model of the catalogue, or the protocol's not-found error (Gemini's for Gemini)."""
    if gemini_routes.is_gemini_request():
        try:
            return gemini_routes.get_model_response(model_id)
        except ProxyError as e:  # the app-wide handler would pick the OpenAI shape for this path
            return error_response(GEMINI, e)
    for model in public_models():
        if model.id == model_id:
            return jsonify(_model_entry(model))
    raise ProxyError(ErrorKind.NOT_FOUND, f"model '{model_id}' not found", code="model_not_found")

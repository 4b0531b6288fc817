"""The Flask app factory: wires settings, stores and the upstream session into the services."""
from __future__ import annotations

import dataclasses
import json
import logging
from typing import Optional

import requests
from flask import Flask, Request, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from proxy import meta_routes
from proxy.chat import Chat
from proxy.errors import ErrorKind, ProxyError
from proxy.kiro.client import KiroClient, new_session
from proxy.kiro.models import resolve_model
from proxy.kiro.tokens import TokenManager
from proxy.pool import Pool
from proxy.protocols import anthropic, gemini, openai_chat, openai_responses
from proxy.protocols.gemini.routes import is_gemini_request
from proxy.relay import Relay
from proxy.security import check_client_key
from proxy.serving import error_response
from proxy.settings import Settings
from proxy.stats import Stats
from store import Stores

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Services:
    """What views reach through `current_app.extensions["kiro_proxy"]`."""
    settings: Settings
    stores: Stores
    session: requests.Session
    tokens: TokenManager
    pool: Pool
    relay: Relay

    def estimate_tokens(self, chat: Chat, raw: Optional[int] = None) -> int:
        """Estimated input tokens of a request (count_tokens, usage before Kiro reports),
        calibrated for its model against Kiro's own figures; `raw` is estimate_tokens(chat) if known."""
        model = resolve_model(chat.model, self.settings.model_map, self.settings.default_model)
        estimator = self.relay.history.estimator
        return estimator.estimate(chat, model.id) if raw is None else estimator.scale(raw, model.id)


def adapter_for_path(path: str, headers) -> object:
    """The protocol whose error shape a path's client understands (call it within the request:
    Gemini clients on /v1/models are told apart by the same marks the model list uses)."""
    if path == "/v1beta" or path.startswith("/v1beta/") or (path.startswith("/v1/models/") and ":" in path):
        return gemini.ADAPTER
    if path.startswith("/v1/models") and is_gemini_request():
        return gemini.ADAPTER  # the google-genai SDK lists models under /v1: the test meta_routes uses
    if path.startswith("/v1/messages"):
        return anthropic.ADAPTER
    if path.startswith("/v1/chat/"):
        return openai_chat.ADAPTER
    if path.startswith("/v1/responses"):
        return openai_responses.ADAPTER
    if "anthropic-version" in headers:
        return anthropic.ADAPTER
    return openai_chat.ADAPTER


def _is_api_path(path: str) -> bool:
    return path.startswith("/v1/") or path.startswith("/v1beta/") or path in ("/v1", "/v1beta")


# Routes any caller may use. Every other route needs a client key (when keys are set): a new
# route is protected without anyone remembering to list it.
PUBLIC_ENDPOINTS = frozenset({"meta.health"})


def _needs_client_key(req: Request) -> bool:
    """Whether this request must carry a client key: every matched route but the public ones,
    and unmatched paths under /v1 and /v1beta (their 404 says nothing to a caller without a key)."""
    if req.url_rule is not None:
        return req.endpoint not in PUBLIC_ENDPOINTS
    return _is_api_path(req.path)


def too_large_response(adapter, limit: int) -> Response:
    """413 in the protocol's error shape for a body over `limit` bytes."""
    err = ProxyError(ErrorKind.INVALID_REQUEST, f"The request body is larger than this proxy's limit of "
                                                f"{limit} bytes (KIRO_PROXY_MAX_REQUEST_BYTES).")
    _, body = adapter.render_error(err)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        if body.get("type") == "error":
            error["type"] = "request_too_large"  # Anthropic's own type for a 413
        if "status" in error and "code" in error:
            error["code"] = 413  # Google's shape repeats the HTTP status
    return Response(json.dumps(body, ensure_ascii=False), status=413, mimetype="application/json")


def _body_too_large(limit: int) -> bool:
    """True when the body is over `limit` bytes, decided without reading more than limit + 1 bytes:
    a declared Content-Length is checked before any read; a chunked body (no length) is read here,
    through Werkzeug's cap of limit + 1 bytes, and kept for the view (`get_data(cache=True)`)."""
    length = request.content_length
    if length is not None:
        return length > limit
    if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return False
    return len(request.get_data(cache=True)) > limit


def create_app(settings: Settings, stores: Stores, session: Optional[requests.Session] = None) -> Flask:
    """Build the proxy app around injected settings and stores (tests pass tmp dirs)."""
    app = Flask(__name__, static_folder=None)  # nothing static to serve: no route nobody checks
    # Werkzeug's own cap stops a chunked body one byte past the limit; `_body_too_large` then refuses
    # it (and any declared Content-Length over the limit) with a 413 before a view reads anything.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes + 1
    session = session or new_session(settings)
    tokens = TokenManager(stores.accounts, settings, session)
    pool = Pool(stores.accounts, settings, stats=Stats(stores.stats))
    relay = Relay(settings, tokens, KiroClient(settings, session), pool)
    app.extensions["kiro_proxy"] = Services(settings, stores, session, tokens, pool, relay)

    for module in (anthropic, openai_chat, openai_responses, gemini):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(meta_routes.blueprint)

    @app.before_request
    def _client_key_and_size() -> Optional[Response]:
        if not _needs_client_key(request):
            return None
        adapter = adapter_for_path(request.path, request.headers)
        try:
            check_client_key(request, settings.api_keys)
        except ProxyError as e:
            return error_response(adapter, e)
        if _body_too_large(settings.max_request_bytes):
            return too_large_response(adapter, settings.max_request_bytes)
        return None

    @app.errorhandler(ProxyError)
    def _proxy_error(e: ProxyError) -> Response:
        return error_response(adapter_for_path(request.path, request.headers), e)

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException) -> Response:
        if not _is_api_path(request.path):
            return jsonify(error={"message": e.description, "status": e.code}), e.code
        if e.code == 413:
            return too_large_response(adapter_for_path(request.path, request.headers), settings.max_request_bytes)
        kind = {404: ErrorKind.NOT_FOUND, 405: ErrorKind.NOT_FOUND}.get(
            e.code or 500, ErrorKind.INVALID_REQUEST if (e.code or 500) < 500 else ErrorKind.INTERNAL)
        message = f"{request.method} {request.path}: {e.name}." if e.code in (404, 405) else e.description
        return error_response(adapter_for_path(request.path, request.headers), ProxyError(kind, message))

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        err = ProxyError(ErrorKind.INTERNAL, f"Internal proxy error ({type(e).__name__}); see the proxy log.")
        return error_response(adapter_for_path(request.path, request.headers), err)

    return app

"""The Flask app factory: wires settings, stores and the upstream session into the services."""
from __future__ import annotations

import dataclasses
import logging
from typing import Optional

import requests
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from proxy import meta_routes
from proxy.chat import Chat
from proxy.errors import ErrorKind, ProxyError
from proxy.kiro.client import KiroClient, new_session
from proxy.kiro.models import resolve_model
from proxy.kiro.tokens import TokenManager
from proxy.pool import Pool
from proxy.protocols import anthropic, gemini, openai_chat, openai_responses
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

    def estimate_tokens(self, chat: Chat) -> int:
        """Estimated input tokens of a request (count_tokens, usage before Kiro reports),
        calibrated for its model against Kiro's own figures."""
        model = resolve_model(chat.model, self.settings.model_map, self.settings.default_model)
        return self.relay.history.estimator.estimate(chat, model.id)


def adapter_for_path(path: str, headers) -> object:
    """The protocol whose error shape a path's client understands."""
    if path.startswith("/v1beta/") or (path.startswith("/v1/models/") and ":" in path):
        return gemini.ADAPTER
    if path.startswith("/v1/models") and ("x-goog-api-key" in headers or "x-goog-api-client" in headers):
        return gemini.ADAPTER  # the google-genai SDK lists models under /v1 (see meta_routes)
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


def create_app(settings: Settings, stores: Stores, session: Optional[requests.Session] = None) -> Flask:
    """Build the proxy app around injected settings and stores (tests pass tmp dirs)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024  # images make bodies big; this is only a DoS cap
    session = session or new_session(settings)
    tokens = TokenManager(stores.accounts, settings, session)
    pool = Pool(stores.accounts, settings, stats=Stats(stores.stats))
    relay = Relay(settings, tokens, KiroClient(settings, session), pool)
    app.extensions["kiro_proxy"] = Services(settings, stores, session, tokens, pool, relay)

    for module in (anthropic, openai_chat, openai_responses, gemini):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(meta_routes.blueprint)

    @app.before_request
    def _client_key() -> Optional[Response]:
        if not _is_api_path(request.path):
            return None
        try:
            check_client_key(request, settings.api_keys)
        except ProxyError as e:
            return error_response(adapter_for_path(request.path, request.headers), e)
        return None

    @app.errorhandler(ProxyError)
    def _proxy_error(e: ProxyError) -> Response:
        return error_response(adapter_for_path(request.path, request.headers), e)

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException) -> Response:
        if not _is_api_path(request.path):
            return jsonify(error={"message": e.description, "status": e.code}), e.code
        kind = {404: ErrorKind.NOT_FOUND, 405: ErrorKind.NOT_FOUND, 413: ErrorKind.INVALID_REQUEST}.get(
            e.code or 500, ErrorKind.INVALID_REQUEST if (e.code or 500) < 500 else ErrorKind.INTERNAL)
        message = f"{request.method} {request.path}: {e.name}." if e.code in (404, 405) else e.description
        return error_response(adapter_for_path(request.path, request.headers), ProxyError(kind, message))

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        err = ProxyError(ErrorKind.INTERNAL, f"Internal proxy error ({type(e).__name__}); see the proxy log.")
        return error_response(adapter_for_path(request.path, request.headers), err)

    return app

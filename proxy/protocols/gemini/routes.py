"""The Gemini API routes: `models/<model>:<method>` under /v1beta and /v1, and the model list.

Flask cannot split `gemini-2.5-flash:generateContent` with a converter of its own, so the
whole last path segment arrives as one value and is split at its last ":".
GET /v1/models belongs to the OpenAI/Anthropic surface; `list_models_response` and
`get_model_response` are here for that view to call when a Gemini client asks.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.gemini.adapter import ADAPTER
from proxy.protocols.gemini.models import find_model, list_models
from proxy.protocols.gemini.parse import parse, parse_count_tokens
from proxy.serving import error_response, read_json_body, serve_chat

blueprint = Blueprint("gemini", __name__)
blueprint.register_error_handler(ProxyError, lambda e: error_response(ADAPTER, e))

_METHODS = ("generateContent", "streamGenerateContent", "countTokens")


@blueprint.post("/v1beta/models/<target>")
@blueprint.post("/v1/models/<target>")
def model_method(target: str) -> Response:
    """generateContent, streamGenerateContent (alt=sse: SSE; else a JSON array) or countTokens."""
    model, _, method = target.rpartition(":")
    if method in _METHODS and not model.strip():
        raise ProxyError(ErrorKind.NOT_FOUND, f"The model name is missing: use models/<model>:{method}.")
    if not model or method not in _METHODS:
        raise ProxyError(ErrorKind.NOT_FOUND,
                         f'Method "{method or target}" is not found for models/{model or target}; '
                         f"use {', '.join(_METHODS)}.")
    body = read_json_body()
    if method == "countTokens":
        chat = parse_count_tokens(body, model)
        return jsonify({"totalTokens": current_app.extensions["kiro_proxy"].estimate_tokens(chat)})
    chat = parse(body, model, stream=method == "streamGenerateContent")
    return serve_chat(ADAPTER.for_request(chat, sse=request.args.get("alt") == "sse"), chat)


@blueprint.get("/v1beta/models")
def list_models_response() -> Response:
    """ListModels in Gemini's shape."""
    return jsonify(list_models())


@blueprint.get("/v1beta/models/<path:name>")
def get_model_response(name: str) -> Response:
    """GetModel in Gemini's shape; an unlisted name is a Gemini-style 404."""
    model = find_model(name)
    if model is None:
        version = request.path.split("/")[1]  # v1beta, or v1 when the /v1 view delegates here
        raise ProxyError(ErrorKind.NOT_FOUND,
                         f"models/{name.removeprefix('models/')} is not found for API version "
                         f"{version}. Call ListModels to see the list of available models.")
    return jsonify(model)


def is_gemini_request() -> bool:
    """Whether the current request comes from a Gemini client (its key header or `?key=`)."""
    return bool(request.headers.get("x-goog-api-key") or request.headers.get("x-goog-api-client")
                or request.args.get("key"))

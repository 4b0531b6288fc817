"""Flask routes of the Anthropic Messages API: POST /v1/messages and /v1/messages/count_tokens.

Claude Code calls `/v1/messages?beta=true`; the query string changes nothing here.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from proxy.errors import ProxyError
from proxy.serving import error_response, read_json_body, serve_chat

from .adapter import ADAPTER
from .parse import parse_count_tokens_request, parse_messages_request

blueprint = Blueprint("anthropic", __name__)
blueprint.register_error_handler(ProxyError, lambda e: error_response(ADAPTER, e))


@blueprint.post("/v1/messages")
def messages() -> Response:
    """Answer a Messages request, streamed or whole."""
    chat = parse_messages_request(read_json_body(), request.headers)
    return serve_chat(ADAPTER, chat)


@blueprint.post("/v1/messages/count_tokens")
def count_tokens() -> Response:
    """The proxy's estimate of the request's input tokens."""
    chat = parse_count_tokens_request(read_json_body())
    return jsonify({"input_tokens": current_app.extensions["kiro_proxy"].estimate_tokens(chat)})

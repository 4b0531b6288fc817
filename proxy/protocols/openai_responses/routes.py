"""Flask blueprint for the OpenAI Responses API: POST /v1/responses."""
from __future__ import annotations

import logging

from flask import Blueprint, request

from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_responses.parse import parse
from proxy.protocols.openai_responses.render import ADAPTER, ResponsesAdapter
from proxy.serving import error_response, read_json_body, serve_chat

log = logging.getLogger(__name__)

blueprint = Blueprint("openai_responses", __name__)
blueprint.register_error_handler(ProxyError, lambda e: error_response(ADAPTER, e))


@blueprint.post("/v1/responses")
def create_response():
    """Create a model response, streamed (SSE) or whole."""
    parsed = parse(read_json_body(), request.headers)
    for warning in parsed.warnings:
        log.info("responses request: %s", warning)
    # a per-request adapter: rendering needs to know which tools are custom / local_shell / namespaced
    return serve_chat(ResponsesAdapter(parsed.context), parsed.chat)


@blueprint.route("/v1/responses/<response_id>", methods=["GET", "DELETE"])
@blueprint.post("/v1/responses/<response_id>/cancel")
def stored_response(response_id: str):
    """Stored responses do not exist here: say so clearly instead of a bare 404/405."""
    raise ProxyError(ErrorKind.NOT_FOUND, f"Response {response_id!r} not found: this proxy stores no "
                     "responses (store is ignored).", param="response_id")

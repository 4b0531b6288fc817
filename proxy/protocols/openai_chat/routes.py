"""The Flask blueprint for POST /v1/chat/completions."""
from __future__ import annotations

from flask import Blueprint, Response

from proxy.errors import ProxyError
from proxy.protocols.openai_chat.adapter import ADAPTER, ChatCompletionsAdapter
from proxy.protocols.openai_chat.parse import parse
from proxy.serving import error_response, read_json_body, serve_chat

blueprint = Blueprint("openai_chat", __name__)
blueprint.register_error_handler(ProxyError, lambda e: error_response(ADAPTER, e))


@blueprint.post("/v1/chat/completions")
def chat_completions() -> Response:
    """Answer one Chat Completions request, streamed or whole."""
    chat, options = parse(read_json_body())
    adapter = ADAPTER if not options.include_usage else ChatCompletionsAdapter(include_usage=True)
    return serve_chat(adapter, chat)

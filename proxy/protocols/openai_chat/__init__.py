"""OpenAI Chat Completions (POST /v1/chat/completions) <-> the neutral Chat model."""
from proxy.protocols.openai_chat.adapter import ADAPTER, ChatCompletionsAdapter
from proxy.protocols.openai_chat.parse import StreamOptions, parse
from proxy.protocols.openai_chat.routes import blueprint

__all__ = ["ADAPTER", "ChatCompletionsAdapter", "StreamOptions", "blueprint", "parse"]

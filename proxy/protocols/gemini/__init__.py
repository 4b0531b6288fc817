"""The Gemini API (generateContent, streamGenerateContent, countTokens, models) over Kiro."""
from proxy.protocols.gemini.adapter import ADAPTER, GeminiAdapter
from proxy.protocols.gemini.parse import parse, parse_count_tokens
from proxy.protocols.gemini.routes import blueprint

__all__ = ["ADAPTER", "GeminiAdapter", "blueprint", "parse", "parse_count_tokens"]

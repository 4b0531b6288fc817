"""The Anthropic Messages protocol (Claude Code, the `anthropic` SDKs)."""
from .adapter import ADAPTER
from .routes import blueprint

__all__ = ["ADAPTER", "blueprint"]

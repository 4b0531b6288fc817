"""The Gemini model names this proxy lists: the ones Gemini clients ask for by default.

Any name works for generation (every name is mapped to a Kiro model later); the list exists
for clients that look a model up first. Limits are those of the Kiro models behind them.
"""
from __future__ import annotations

from typing import Optional

# (id, display name) - Gemini CLI's defaults, its router's picks and the SDK examples' names
GEMINI_MODELS = [
    ("gemini-2.5-pro", "Gemini 2.5 Pro"),
    ("gemini-2.5-flash", "Gemini 2.5 Flash"),
    ("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite"),
    ("gemini-3-pro-preview", "Gemini 3 Pro Preview"),
    ("gemini-3-flash-preview", "Gemini 3 Flash Preview"),
    ("gemini-3.1-pro-preview", "Gemini 3.1 Pro Preview"),
    ("gemini-3.1-pro-preview-customtools", "Gemini 3.1 Pro Preview (custom tools)"),
    ("gemini-3.1-flash-lite-preview", "Gemini 3.1 Flash-Lite Preview"),
    ("gemini-3.5-flash", "Gemini 3.5 Flash"),
    ("gemini-3.5-flash-lite", "Gemini 3.5 Flash-Lite"),
    ("gemini-3.8-flash", "Gemini 3.8 Flash"),
]
INPUT_TOKEN_LIMIT = 200_000  # Kiro's default context window
OUTPUT_TOKEN_LIMIT = 64_000
METHODS = ["generateContent", "streamGenerateContent", "countTokens"]


def model_entry(model_id: str, display_name: str) -> dict:
    """One Model resource as GET /v1beta/models returns it."""
    return {"name": f"models/{model_id}", "version": "001", "displayName": display_name,
            "description": f"{display_name}, served through Kiro.",
            "inputTokenLimit": INPUT_TOKEN_LIMIT, "outputTokenLimit": OUTPUT_TOKEN_LIMIT,
            "supportedGenerationMethods": list(METHODS), "thinking": True}


def list_models() -> dict:
    """The ListModels response."""
    return {"models": [model_entry(mid, name) for mid, name in GEMINI_MODELS]}


def find_model(name: str) -> Optional[dict]:
    """The Model resource for `name` (with or without `models/`), or None."""
    wanted = name.removeprefix("models/")
    for mid, display in GEMINI_MODELS:
        if mid == wanted:
            return model_entry(mid, display)
    return None

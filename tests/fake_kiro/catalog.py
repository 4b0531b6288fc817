"""The fake's model catalogue (docs/kiro-upstream.md §2.6, §6.2) and context windows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

DEFAULT_WINDOW = 200_000
LONG_WINDOW = 1_000_000


@dataclass(frozen=True)
class Model:
    """One model as ListAvailableModels describes it."""
    model_id: str
    name: str
    rate: float = 1.0
    native_reasoning: bool = False  # advertises additionalModelRequestFieldsSchema
    listed: bool = True  # hidden/legacy ids are accepted but not listed

    @property
    def window(self) -> int:
        """Context window in tokens: 1M for `-1m` ids, else 200k."""
        return LONG_WINDOW if self.model_id.endswith("-1m") else DEFAULT_WINDOW


MODELS: tuple[Model, ...] = (
    Model("auto", "Auto", 1.0),
    Model("claude-sonnet-4", "Claude Sonnet 4", 1.3),
    Model("claude-sonnet-4.5", "Claude Sonnet 4.5", 1.3),
    Model("claude-haiku-4.5", "Claude Haiku 4.5", 0.4),
    Model("claude-opus-4.5", "Claude Opus 4.5", 2.2),
    Model("claude-sonnet-4.6", "Claude Sonnet 4.6", 1.3, native_reasoning=True),
    Model("claude-opus-4.6", "Claude Opus 4.6", 2.2, native_reasoning=True),
    Model("claude-opus-4.7", "Claude Opus 4.7", 2.2, native_reasoning=True),
    Model("claude-opus-4.8", "Claude Opus 4.8", 2.2, native_reasoning=True),
    Model("claude-sonnet-4.5-1m", "Claude Sonnet 4.5 (1M)", 1.3),
    Model("claude-sonnet-4.6-1m", "Claude Sonnet 4.6 (1M)", 1.3, native_reasoning=True),
    Model("claude-opus-4.6-1m", "Claude Opus 4.6 (1M)", 2.2, native_reasoning=True),
    Model("deepseek-3.2", "DeepSeek 3.2", 0.5),
    Model("glm-4.7", "GLM 4.7", 0.5),
    Model("glm-4.7-flash", "GLM 4.7 Flash", 0.2),
    Model("glm-5", "GLM 5", 0.6),
    Model("minimax-m2.1", "MiniMax M2.1", 0.4),
    Model("minimax-m2.5", "MiniMax M2.5", 0.4),
    Model("qwen3-coder-next", "Qwen3 Coder Next", 0.5),
    Model("qwen3-coder-480b", "Qwen3 Coder 480B", 0.5),
    Model("kimi-k2.5", "Kimi K2.5", 0.5),
    Model("CLAUDE_3_7_SONNET_20250219_V1_0", "Claude 3.7 Sonnet", 1.0, listed=False),
    Model("CLAUDE_SONNET_4_20250514_V1_0", "Claude Sonnet 4", 1.3, listed=False),
    Model("CLAUDE_SONNET_4_5_20250929_V1_0", "Claude Sonnet 4.5", 1.3, listed=False),
    Model("CLAUDE_OPUS_4_5_20251101_V1_0", "Claude Opus 4.5", 2.2, listed=False),
)
MODEL_IDS: tuple[str, ...] = tuple(m.model_id for m in MODELS)
_BY_ID = {m.model_id: m for m in MODELS}

# Condensed form of the schema §2.5 describes for native-reasoning models.
REASONING_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "thinking": {"type": "object", "additionalProperties": False, "properties": {
            "type": {"type": "string", "enum": ["adaptive", "disabled"]},
            "display": {"type": "string", "enum": ["summarized", "omitted"]}}},
        "output_config": {"type": "object", "additionalProperties": False, "properties": {
            "effort": {"type": "string", "enum": ["low", "medium", "high", "max", "xhigh"],
                       "default": "high"}}},
        "max_tokens": {"type": "integer", "minimum": 1024, "maximum": 64000},
    },
}


def find_model(model_id: str) -> Optional[Model]:
    """The catalogue entry for an id, or a generic one for config-added ids."""
    return _BY_ID.get(model_id)


def window_for(model_id: str) -> int:
    """Context window used for contextUsagePercentage."""
    return LONG_WINDOW if model_id.endswith("-1m") else DEFAULT_WINDOW


def model_entry(model_id: str) -> dict:
    """One `models[]` item of the ListAvailableModels response."""
    model = find_model(model_id) or Model(model_id, model_id)
    entry = {
        "modelId": model.model_id, "modelName": model.name,
        "description": f"{model.name} (fake Kiro)",
        "supportedInputTypes": ["TEXT", "IMAGE"],
        "rateMultiplier": model.rate, "rateUnit": "credit",
        "tokenLimits": {"maxInputTokens": model.window, "maxOutputTokens": 64000},
    }
    if model.native_reasoning:
        entry["additionalModelRequestFieldsSchema"] = REASONING_SCHEMA
    return entry


def listed_models(known_ids: list[str]) -> list[dict]:
    """Entries for every known, listable id, in catalogue order."""
    return [model_entry(mid) for mid in known_ids if (find_model(mid) is None or find_model(mid).listed)]

"""Client model names -> Kiro ids, and the /v1/models catalogue."""
import pytest

from proxy.kiro.models import KiroModel, public_models, resolve_model

DEFAULT = "claude-sonnet-4.5"


@pytest.mark.parametrize("name, expected", [
    # Kiro ids pass through, case-insensitively
    ("claude-sonnet-4.5", "claude-sonnet-4.5"),
    ("claude-opus-4.6", "claude-opus-4.6"),
    ("CLAUDE-HAIKU-4.5", "claude-haiku-4.5"),
    ("auto", "auto"),
    ("Auto", "auto"),
    ("auto-kiro", "auto"),
    ("kiro-auto", "auto"),
    ("deepseek-3.2", "deepseek-3.2"),
    ("glm-4.7-flash", "glm-4.7-flash"),
    ("glm-4-7", "glm-4.7"),
    ("minimax-m2.5", "minimax-m2.5"),
    ("qwen3-coder-480b", "qwen3-coder-480b"),
    ("kimi-k2.5", "kimi-k2.5"),
    ("agi-nova-beta-1m", "agi-nova-beta-1m"),
    # Anthropic names: dashes -> dots, dates and -latest stripped
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4.5"),
    ("claude-sonnet-4-5", "claude-sonnet-4.5"),
    ("claude-sonnet-4-20250514", "claude-sonnet-4"),
    ("claude-haiku-4-5-20251001", "claude-haiku-4.5"),
    ("claude-opus-4-5-20251101", "claude-opus-4.5"),
    ("claude-opus-4-6", "claude-opus-4.6"),
    ("claude-sonnet-4-6", "claude-sonnet-4.6"),
    ("claude-opus-4-7-latest", "claude-opus-4.7"),
    ("claude-sonnet-4.0", "claude-sonnet-4"),
    # 1M variants, Kiro and Claude Code spellings
    ("claude-sonnet-4-5-1m", "claude-sonnet-4.5-1m"),
    ("claude-opus-4-6[1m]", "claude-opus-4.6-1m"),
    ("claude-sonnet-4-5-20250929[1m]", "claude-sonnet-4.5-1m"),
    ("claude-opus-4-5[1m]", "claude-opus-4.5"),  # no 1M Opus 4.5: same version wins
    # unknown versions of a family -> the family's newest model
    ("claude-opus-5-5", "claude-opus-4.8"),  # Claude Code's default
    ("claude-opus-4-1-20250805", "claude-opus-4.8"),
    ("claude-3-5-sonnet-20241022", "claude-sonnet-4.6"),
    ("claude-3-5-haiku-latest", "claude-haiku-4.5"),
    ("claude-3-opus", "claude-opus-4.8"),
    ("opus", "claude-opus-4.8"),
    ("sonnet", "claude-sonnet-4.6"),
    ("haiku", "claude-haiku-4.5"),
    ("claude-opus-9[1m]", "claude-opus-4.6-1m"),
    # legacy ids and the hidden 3.7
    ("claude-3-7-sonnet-20250219", "CLAUDE_3_7_SONNET_20250219_V1_0"),
    ("CLAUDE_3_7_SONNET_20250219_V1_0", "CLAUDE_3_7_SONNET_20250219_V1_0"),
    ("CLAUDE_SONNET_4_5_20250929_V1_0", "claude-sonnet-4.5"),
    # vendor prefixes
    ("anthropic/claude-sonnet-4-5", "claude-sonnet-4.5"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4.5"),
    # OpenAI: small tiers -> haiku, the rest -> default
    ("gpt-4o-mini", "claude-haiku-4.5"),
    ("gpt-4.1-nano", "claude-haiku-4.5"),
    ("o4-mini", "claude-haiku-4.5"),
    ("codex-mini-latest", "claude-haiku-4.5"),
    ("gpt-4o", DEFAULT),
    ("gpt-4o-2024-08-06", DEFAULT),
    ("gpt-5", DEFAULT),
    ("o3", DEFAULT),
    ("gpt-5-codex", DEFAULT),
    # Gemini
    ("gemini-2.5-flash", "claude-haiku-4.5"),
    ("gemini-2.5-flash-lite", "claude-haiku-4.5"),
    ("models/gemini-2.0-flash", "claude-haiku-4.5"),
    ("gemini-2.5-pro", DEFAULT),
    # unknown
    ("llama-3-70b", DEFAULT),
    ("", DEFAULT),
])
def test_resolves(name, expected):
    assert resolve_model(name, {}, DEFAULT).id == expected


@pytest.mark.parametrize("name, expected_id, thinking", [
    ("claude-sonnet-4-5-thinking", "claude-sonnet-4.5", True),
    ("claude-sonnet-4-5-20250929-thinking", "claude-sonnet-4.5", True),
    ("claude-opus-4-6-thinking[1m]", "claude-opus-4.6-1m", True),
    ("claude-3-7-sonnet-thinking", "CLAUDE_3_7_SONNET_20250219_V1_0", True),
    ("claude-sonnet-4-5", "claude-sonnet-4.5", False),
    ("gpt-4o-thinking", DEFAULT, True),
])
def test_thinking_suffix_is_reported(name, expected_id, thinking):
    model = resolve_model(name, {}, DEFAULT)
    assert (model.id, model.thinking_suffix) == (expected_id, thinking)


@pytest.mark.parametrize("model_id, window", [
    ("claude-sonnet-4.5", 200_000),
    ("claude-sonnet-4.5-1m", 1_000_000),
    ("claude-opus-4.6-1m", 1_000_000),
    ("agi-nova-beta-1m", 1_000_000),
    ("auto", 200_000),
])
def test_context_windows(model_id, window):
    assert resolve_model(model_id, {}, DEFAULT).context_window == window


@pytest.mark.parametrize("name, extra, expected", [
    ("gpt-4o", {"gpt-4o": "claude-opus-4.6"}, "claude-opus-4.6"),  # beats the OpenAI rule
    ("claude-sonnet-4-5", {"claude-sonnet-4-5": "auto"}, "auto"),  # beats the catalogue
    ("GPT-4O", {"gpt-4o": "glm-5"}, "glm-5"),  # keys match case-insensitively
    ("gpt-4o-2024-08-06", {"gpt-4o": "glm-5"}, "glm-5"),  # and after normalisation
    ("my-model", {"my-model": "brand-new-1m"}, "brand-new-1m"),  # ids we do not know pass
    ("my-model", {"other": "glm-5"}, DEFAULT),
])
def test_extra_map_wins(name, extra, expected):
    assert resolve_model(name, extra, DEFAULT).id == expected


def test_extra_map_target_outside_catalogue_gets_window_from_suffix():
    model = resolve_model("x", {"x": "brand-new-1m"}, DEFAULT)
    assert model == KiroModel("brand-new-1m", 1_000_000, "brand-new-1m")


def test_default_outside_catalogue_is_used_as_given():
    assert resolve_model("unknown", {}, "glm-9").id == "glm-9"


def test_empty_default_falls_back_to_auto():
    assert resolve_model("unknown", {}, "").id == "auto"


def test_never_raises_on_odd_input():
    for name in ["-", "[1m]", "-thinking", "////", "claude--", "o", None]:
        assert resolve_model(name, None, DEFAULT).id  # type: ignore[arg-type]


def test_public_models_lists_kiro_ids_with_auto_and_no_hidden():
    ids = [m.id for m in public_models()]
    assert ids[0] == "auto"
    assert {"claude-sonnet-4.5", "claude-opus-4.8", "claude-haiku-4.5", "claude-sonnet-4.5-1m",
            "deepseek-3.2", "kimi-k2.5"} <= set(ids)
    assert "CLAUDE_3_7_SONNET_20250219_V1_0" not in ids
    assert len(ids) == len(set(ids))
    assert all(m.display_name and not m.thinking_suffix for m in public_models())


def test_every_public_model_resolves_to_itself():
    for model in public_models():
        assert resolve_model(model.id, {}, DEFAULT) == model

"""Tests for tests/fake_kiro/catalog.py."""
from tests.fake_kiro.catalog import MODEL_IDS, listed_models, model_entry, window_for


def test_windows():
    assert window_for("claude-sonnet-4.5") == 200_000
    assert window_for("claude-sonnet-4.5-1m") == 1_000_000


def test_listing_hides_legacy_ids_and_adds_reasoning_schema():
    ids = [m["modelId"] for m in listed_models(list(MODEL_IDS))]
    assert "CLAUDE_SONNET_4_5_20250929_V1_0" not in ids and ids[0] == "auto"
    assert "additionalModelRequestFieldsSchema" in model_entry("claude-opus-4.6")
    assert "additionalModelRequestFieldsSchema" not in model_entry("claude-sonnet-4.5")
    assert model_entry("custom-model")["tokenLimits"]["maxInputTokens"] == 200_000

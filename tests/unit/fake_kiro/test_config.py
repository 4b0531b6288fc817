"""Tests for tests/fake_kiro/config.py: partial updates with type checks."""
import pytest

from tests.fake_kiro.config import ConfigError, FakeConfig


def test_updated_applies_changes_without_mutating():
    base = FakeConfig()
    changed = base.updated({"input_limit_tokens": 1000, "emit_metadata": True, "frame_delay": 0.01})
    assert (changed.input_limit_tokens, changed.emit_metadata, changed.frame_delay) == (1000, True, 0.01)
    assert base.input_limit_tokens == 200_000


@pytest.mark.parametrize("changes", [{"nope": 1}, {"emit_metadata": 1}, {"expires_in": "60"},
                                     {"frame_delay": -1}, {"text_chunk_chars": 0}, {"models": "auto"},
                                     {"hello_text": 5}])
def test_updated_rejects_bad_changes(changes):
    with pytest.raises(ConfigError):
        FakeConfig().updated(changes)


def test_defaults_match_the_documented_upstream():
    config = FakeConfig()
    assert (config.max_body_bytes, config.expires_in, config.input_limit_tokens) == (615_000, 3600, 200_000)
    assert "claude-sonnet-4.5" in config.models and "auto" in config.models

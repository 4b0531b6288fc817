"""Tests for proxy/estimate.py: the raw estimate and its per-model calibration."""
from __future__ import annotations

import pytest

from proxy.chat import Chat, ImagePart, Message, TextPart, ThinkingPart, Tool, ToolCallPart, ToolResultPart
from proxy.estimate import (IMAGE_TOKENS, MESSAGE_OVERHEAD, Calibration, Estimator, estimate_tokens,
                            fixed_tokens, message_tokens, text_tokens)


def make_chat(**overrides) -> Chat:
    """A small chat with every kind of part."""
    values = dict(model="m", system="You are helpful.", tools=[Tool("Bash", "Run it", {"type": "object"})],
                  messages=[Message("user", [TextPart("hello there"), ImagePart("image/png", "AAAA")]),
                            Message("assistant", [ThinkingPart("hmm"), ToolCallPart("c1", "Bash", {"a": 1})]),
                            Message("user", [ToolResultPart("c1", "done", images=[ImagePart("image/png", "B")])])])
    values.update(overrides)
    return Chat(**values)


def test_text_tokens_counts_ascii_by_length_and_cjk_per_character():
    assert text_tokens("") == 0
    assert text_tokens("a" * 36) == 10
    assert text_tokens("你好世界") == 4


def test_estimate_is_fixed_part_plus_each_message():
    chat = make_chat()
    assert estimate_tokens(chat) == fixed_tokens(chat) + sum(message_tokens(m) for m in chat.messages)


def test_message_tokens_count_images_and_overhead():
    message = Message("user", [ImagePart("image/png", "x"), ToolResultPart("c", "", images=[ImagePart("image/png", "y")])])
    assert message_tokens(message) == MESSAGE_OVERHEAD + 2 * IMAGE_TOKENS


def test_estimate_is_never_zero():
    assert estimate_tokens(Chat(model="m", messages=[])) == 1


def test_first_sample_sets_the_factor_then_it_is_smoothed():
    calibration = Calibration(smoothing=0.3)
    assert calibration.factor("m") == 1.0
    assert calibration.observe("m", 1000, 1200)
    assert calibration.factor("m") == pytest.approx(1.2)
    calibration.observe("m", 1000, 1000)  # second sample: plain average
    assert calibration.factor("m") == pytest.approx(1.1)
    calibration.observe("m", 1000, 1000)  # third: the EMA weight 1/3 still beats 0.3
    assert calibration.factor("m") == pytest.approx(1.1 - (0.1 / 3))
    for _ in range(3):
        calibration.observe("m", 1000, 2000)
    assert calibration.snapshot()["m"]["samples"] == 6


def test_factor_converges_on_a_steady_ratio():
    calibration = Calibration()
    for _ in range(40):
        calibration.observe("m", 10_000, 13_000)
    assert calibration.factor("m") == pytest.approx(1.3, abs=1e-3)


def test_odd_samples_are_bounded_and_small_ones_ignored():
    calibration = Calibration(lower=0.5, upper=3.0, min_tokens=500)
    assert not calibration.observe("m", 100, 9000)  # too small to say anything
    assert not calibration.observe("m", 1000, 0)
    assert calibration.factor("m") == 1.0
    calibration.observe("m", 1000, 1_000_000)
    assert calibration.factor("m") == 3.0
    calibration.observe("other", 1000, 1)
    assert calibration.factor("other") == 0.5


def test_models_are_calibrated_separately_and_memory_is_bounded():
    calibration = Calibration(max_models=2)
    calibration.observe("a", 1000, 2000)
    calibration.observe("b", 1000, 1500)
    calibration.observe("c", 1000, 1100)
    assert set(calibration.snapshot()) == {"b", "c"}
    assert calibration.factor("a") == 1.0


def test_estimator_scales_by_the_model_factor():
    estimator = Estimator()
    chat = make_chat()
    raw = estimate_tokens(chat)
    estimator.observe("m", 1000, 1500)
    assert estimator.estimate(chat, "m") == round(raw * 1.5)
    assert estimator.estimate(chat, "other") == raw
    assert estimator.estimate(chat) == raw


def test_estimator_with_calibration_off_never_learns():
    estimator = Estimator(calibrate=False)
    assert not estimator.observe("m", 1000, 1500)
    assert estimator.factor("m") == 1.0

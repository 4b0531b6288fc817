"""Tests for proxy/history/limits.py: what Kiro refused and accepted, per model."""
from __future__ import annotations

from proxy.history.limits import LEARNED_MARGIN, LearnedLimits


class Clock:
    """A settable clock."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_budget_is_below_the_smallest_refusal():
    limits = LearnedLimits(Clock())
    assert limits.budget("m") is None
    limits.refused("m", 30_000)
    limits.refused("m", 50_000)
    assert limits.budget("m") == int(30_000 * LEARNED_MARGIN)
    assert limits.budget("other") is None


def test_budget_probes_between_accepted_and_refused_then_settles():
    limits = LearnedLimits(Clock())
    limits.refused("m", 40_000)
    limits.accepted("m", 10_000)
    assert limits.budget("m") == 25_000  # the middle
    limits.refused("m", 25_000)
    limits.accepted("m", 17_500)
    assert limits.budget("m") == 21_250
    limits.accepted("m", 23_000)  # within the margin of the refusal: stop probing
    assert limits.budget("m") == 23_000


def test_known_good_is_the_largest_accepted():
    limits = LearnedLimits(Clock())
    limits.accepted("m", 10_000)
    limits.accepted("m", 8_000)
    assert limits.known_good("m") == 10_000


def test_a_newer_answer_overrides_a_contradicting_one():
    limits = LearnedLimits(Clock())
    limits.accepted("m", 25_000)
    limits.refused("m", 20_000)
    assert limits.known_good("m") is None
    limits.accepted("m", 22_000)  # Kiro took more than it once refused: the limit moved
    assert limits.budget("m") is None and limits.known_good("m") == 22_000


def test_learned_figures_expire():
    clock = Clock()
    limits = LearnedLimits(clock, ttl=60)
    limits.refused("m", 30_000)
    limits.accepted("m", 10_000)
    clock.now = 61
    assert limits.budget("m") is None and limits.known_good("m") is None


def test_memory_is_bounded():
    limits = LearnedLimits(Clock(), max_models=2)
    for name in ("a", "b", "c"):
        limits.refused(name, 1000)
    assert set(limits.snapshot()) == {"b", "c"}

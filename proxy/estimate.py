"""Token estimates for a `Chat`, used for count_tokens, usage before Kiro reports its own, and
the history budget — calibrated per model against the input size Kiro itself reports.

`estimate_tokens` is the raw, deterministic count. `Estimator` scales it by a per-model
correction factor learned from (raw estimate, Kiro-reported input) pairs, so count_tokens,
the usage numbers and the history budget all agree with what Kiro counts.
"""
from __future__ import annotations

import json
import math
import re
import threading
from collections import OrderedDict
from typing import Optional

from proxy.chat import Chat, ImagePart, Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart

# Claude-family tokenizers average ~3.5-4 characters per token on English and code; CJK runs
# closer to one token per character. Counting non-ASCII characters at full weight keeps the
# estimate from under-shooting on Chinese text, which would make clients compact too late.
CHARS_PER_TOKEN = 3.6
IMAGE_TOKENS = 1600  # a typical ~1 MP image
MESSAGE_OVERHEAD = 4  # role markers and separators per turn

# Calibration. Kiro's figure (contextUsagePercentage x window) also counts Kiro's own hidden
# prompt, which dominates small requests: samples below MIN_SAMPLE_TOKENS say little about the
# ratio. The bounds keep one odd figure (a cached prefix, a rounding of the percentage on a
# 1M window) from scaling every later estimate absurdly.
MIN_SAMPLE_TOKENS = 500
FACTOR_MIN = 0.5
FACTOR_MAX = 3.0
SMOOTHING = 0.3  # weight of a new sample once a model has 1/SMOOTHING samples
MAX_MODELS = 64  # bounded memory: model ids are client-influenced (model_map, defaults)

_WIDE = re.compile("[\u2e81-\U0010ffff]")  # CJK and beyond: about one token per character


def text_tokens(text: str) -> int:
    """Estimated tokens of one string."""
    if not text:
        return 0
    wide = 0 if text.isascii() else len(_WIDE.findall(text))
    return math.ceil((len(text) - wide) / CHARS_PER_TOKEN) + wide


def message_tokens(message: Message) -> int:
    """Estimated tokens of one turn, its overhead included."""
    total = MESSAGE_OVERHEAD
    for part in message.parts:
        if isinstance(part, (TextPart, ThinkingPart)):
            total += text_tokens(part.text)
        elif isinstance(part, ImagePart):
            total += IMAGE_TOKENS
        elif isinstance(part, ToolCallPart):
            total += text_tokens(part.name) + text_tokens(json.dumps(part.arguments, ensure_ascii=False))
        elif isinstance(part, ToolResultPart):
            total += text_tokens(part.content) + IMAGE_TOKENS * len(part.images)
    return total


def fixed_tokens(chat: Chat) -> int:
    """Estimated tokens of what every request repeats: the system prompt and the tool specs."""
    total = text_tokens(chat.system)
    for tool in chat.tools:
        total += text_tokens(tool.name) + text_tokens(tool.description)
        total += text_tokens(json.dumps(tool.schema, ensure_ascii=False, separators=(",", ":")))
    return total


def estimate_tokens(chat: Chat) -> int:
    """Estimated input tokens of the whole request: system, turns, tools (uncalibrated)."""
    return max(1, fixed_tokens(chat) + sum(message_tokens(m) for m in chat.messages))


class Calibration:
    """Per-model correction factors (Kiro-reported / estimated), bounded and smoothed."""

    def __init__(self, *, smoothing: float = SMOOTHING, lower: float = FACTOR_MIN,
                 upper: float = FACTOR_MAX, min_tokens: int = MIN_SAMPLE_TOKENS,
                 max_models: int = MAX_MODELS):
        self._smoothing = smoothing
        self._lower, self._upper = lower, upper
        self._min_tokens = min_tokens
        self._max_models = max_models
        self._factors: OrderedDict[str, tuple[float, int]] = OrderedDict()  # id -> (factor, samples)
        self._lock = threading.Lock()

    def factor(self, model_id: Optional[str]) -> float:
        """The learned factor for a model; 1.0 until Kiro has reported on it."""
        if not model_id:
            return 1.0
        with self._lock:
            entry = self._factors.get(model_id)
        return entry[0] if entry else 1.0

    def observe(self, model_id: str, estimated: int, reported: int) -> bool:
        """Learn from one request: our raw estimate and Kiro's figure; False if ignored."""
        if not model_id or estimated < self._min_tokens or reported <= 0:
            return False
        ratio = min(self._upper, max(self._lower, reported / estimated))
        with self._lock:
            factor, samples = self._factors.pop(model_id, (1.0, 0))
            samples += 1
            # The first samples average plainly (fast start), later ones move an EMA (smooth).
            weight = max(self._smoothing, 1.0 / samples)
            factor = factor + weight * (ratio - factor)
            self._factors[model_id] = (min(self._upper, max(self._lower, factor)), samples)
            while len(self._factors) > self._max_models:
                self._factors.popitem(last=False)  # least recently learned model goes first
        return True

    def snapshot(self) -> dict:
        """{model id: {"factor", "samples"}} for the panel and tests."""
        with self._lock:
            return {k: {"factor": round(f, 4), "samples": n} for k, (f, n) in self._factors.items()}


class Estimator:
    """The one estimator behind count_tokens, usage and the history budget."""

    def __init__(self, calibrate: bool = True, calibration: Optional[Calibration] = None):
        self.calibrate = calibrate
        self.calibration = calibration or Calibration()

    def factor(self, model_id: Optional[str]) -> float:
        """The correction in force for a model (1.0 when calibration is off)."""
        return self.calibration.factor(model_id) if self.calibrate else 1.0

    def scale(self, raw: int, model_id: Optional[str]) -> int:
        """A raw estimate in calibrated tokens."""
        return max(1, round(raw * self.factor(model_id)))

    def estimate(self, chat: Chat, model_id: Optional[str] = None) -> int:
        """Calibrated input tokens of `chat` for a Kiro model id (raw when the id is unknown)."""
        return self.scale(estimate_tokens(chat), model_id)

    def observe(self, model_id: str, raw_estimate: int, reported: int) -> bool:
        """Feed one (raw estimate, Kiro-reported input tokens) pair; False if not used."""
        if not self.calibrate:
            return False
        return self.calibration.observe(model_id, raw_estimate, reported)

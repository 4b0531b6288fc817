"""Public model names -> Kiro model ids, and the catalogue served by /v1/models.

Clients send whatever their vendor calls a model (`claude-sonnet-4-5-20250929`,
`gpt-4o-mini`, `gemini-2.5-pro`, Claude Code's `claude-opus-5-5`); Kiro only takes the
dot-form ids of its own catalogue and answers `INVALID_MODEL_ID` for anything else.
`resolve_model` therefore never fails: every name lands on some Kiro id.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Mapping, Optional

DEFAULT_CONTEXT_WINDOW = 200_000  # Kiro's window unless the id says 1M (kiro-upstream §2.3)
ONE_M_CONTEXT_WINDOW = 1_000_000  # the `-1m` ids


@dataclass(frozen=True)
class KiroModel:
    """A Kiro model id with its context window; `thinking_suffix` says the client asked `-thinking`."""
    id: str
    context_window: int = DEFAULT_CONTEXT_WINDOW
    display_name: str = ""
    thinking_suffix: bool = False


def _entry(model_id: str, display_name: str) -> KiroModel:
    """A catalogue entry; the window follows the `-1m` suffix."""
    window = ONE_M_CONTEXT_WINDOW if model_id.endswith("-1m") else DEFAULT_CONTEXT_WINDOW
    return KiroModel(model_id, window, display_name)


# The ids Kiro's ListAvailableModels has been seen to return (kiro-upstream §2.6), newest
# first within each family: /v1/models lists them in this order.
_PUBLIC = (
    _entry("auto", "Auto (Kiro picks the model)"),
    _entry("claude-opus-4.8", "Claude Opus 4.8"),
    _entry("claude-opus-4.7", "Claude Opus 4.7"),
    _entry("claude-opus-4.6", "Claude Opus 4.6"),
    _entry("claude-opus-4.6-1m", "Claude Opus 4.6 (1M context)"),
    _entry("claude-opus-4.5", "Claude Opus 4.5"),
    _entry("claude-sonnet-4.6", "Claude Sonnet 4.6"),
    _entry("claude-sonnet-4.6-1m", "Claude Sonnet 4.6 (1M context)"),
    _entry("claude-sonnet-4.5", "Claude Sonnet 4.5"),
    _entry("claude-sonnet-4.5-1m", "Claude Sonnet 4.5 (1M context)"),
    _entry("claude-sonnet-4", "Claude Sonnet 4"),
    _entry("claude-haiku-4.5", "Claude Haiku 4.5"),
    _entry("deepseek-3.2", "DeepSeek 3.2"),
    _entry("glm-5", "GLM 5"),
    _entry("glm-4.7", "GLM 4.7"),
    _entry("glm-4.7-flash", "GLM 4.7 Flash"),
    _entry("minimax-m2.5", "MiniMax M2.5"),
    _entry("minimax-m2.1", "MiniMax M2.1"),
    _entry("qwen3-coder-next", "Qwen3 Coder Next"),
    _entry("qwen3-coder-480b", "Qwen3 Coder 480B"),
    _entry("kimi-k2.5", "Kimi K2.5"),
    _entry("agi-nova-beta-1m", "AGI Nova Beta (1M context)"),
)
# Accepted when asked for by name but not advertised: Kiro hides Sonnet 3.7 from its catalogue.
_HIDDEN = (_entry("CLAUDE_3_7_SONNET_20250219_V1_0", "Claude Sonnet 3.7"),)

_BY_ID = {m.id.lower(): m for m in _PUBLIC + _HIDDEN}

# Other spellings of catalogue ids: Kiro's own auto aliases and the legacy internal ids
# of the older CodeWhisperer host (kiro-upstream §2.6 table).
_ALIASES = {
    "auto-kiro": "auto",
    "kiro-auto": "auto",
    "claude_sonnet_4_20250514_v1_0": "claude-sonnet-4",
    "claude_sonnet_4_5_20250929_v1_0": "claude-sonnet-4.5",
    "claude_opus_4_5_20251101_v1_0": "claude-opus-4.5",
    "claude-3.7-sonnet": "CLAUDE_3_7_SONNET_20250219_V1_0",
    "claude-sonnet-3.7": "CLAUDE_3_7_SONNET_20250219_V1_0",
}

_FAMILIES = ("opus", "sonnet", "haiku")
# A small/cheap tier in OpenAI or Gemini naming; those go to our small model.
_SMALL_TIER = re.compile(r"(?:^|[-_.])(mini|nano|lite|flash|small)(?:$|[-_.])")
_SMALL_MODEL = "claude-haiku-4.5"
_OPENAI = re.compile(r"^(?:gpt|chatgpt|o\d|codex|text-|davinci|babbage)|codex")
_GEMINI = re.compile(r"^(?:gemini|gemma)")

# Suffixes clients add that Kiro ids never carry; stripped repeatedly in any order.
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")  # -20250929, -2024-08-06
_LATEST_SUFFIX = re.compile(r"-latest$")
_THINKING_SUFFIX = re.compile(r"-thinking$")
_ONE_M_SUFFIX = re.compile(r"(?:-1m|\[1m\])$")  # Claude Code writes `[1m]`, Kiro `-1m`
_BEDROCK_PREFIX = re.compile(r"^(?:[a-z]{2,4}\.)?anthropic\.")  # us.anthropic.claude-…
_BEDROCK_SUFFIX = re.compile(r"-v\d+:\d+$")  # …-v1:0
_DIGIT_DASH_DIGIT = re.compile(r"(?<=\d)-(?=\d)")  # 4-5 -> 4.5


@dataclass(frozen=True)
class _Name:
    """A client name taken apart: the bare base and the flags its suffixes carried."""
    base: str
    one_m: bool
    thinking: bool


def public_models() -> list[KiroModel]:
    """The catalogue /v1/models lists (Kiro ids, `auto` included)."""
    return list(_PUBLIC)


def resolve_model(name: str, extra_map: Optional[Mapping[str, str]] = None,
                  default: str = "claude-sonnet-4.5") -> KiroModel:
    """The Kiro model for a client's model name; unknown names give `default`. Never raises."""
    raw = (name or "").strip()
    parsed = _parse(raw)
    model = _lookup_extra(raw, parsed, extra_map or {}) or _resolve(raw, parsed) \
        or _known(default or "auto")
    return dataclasses.replace(model, thinking_suffix=parsed.thinking)


def _known(model_id: str) -> KiroModel:
    """The catalogue entry for an id, or a plain entry for an id we do not list."""
    found = _BY_ID.get(model_id.lower())
    if found is not None:
        return found
    return _entry(model_id, model_id)


def _parse(raw: str) -> _Name:
    """Lower-case, drop vendor prefixes and date/latest/thinking/1m suffixes, dot the version."""
    name = raw.lower().rsplit("/", 1)[-1]  # "anthropic/claude-…", "models/gemini-…"
    name = _BEDROCK_SUFFIX.sub("", _BEDROCK_PREFIX.sub("", name))
    one_m = thinking = False
    while True:
        before = name
        name = _DATE_SUFFIX.sub("", _LATEST_SUFFIX.sub("", name))
        if _THINKING_SUFFIX.search(name):
            name, thinking = _THINKING_SUFFIX.sub("", name), True
        if _ONE_M_SUFFIX.search(name):
            name, one_m = _ONE_M_SUFFIX.sub("", name), True
        if name == before:
            break
    return _Name(_DIGIT_DASH_DIGIT.sub(".", name), one_m, thinking)


def _lookup_extra(raw: str, parsed: _Name, extra_map: Mapping[str, str]) -> Optional[KiroModel]:
    """The operator's own mapping, tried on the name as sent, then on its normalised forms."""
    if not extra_map:
        return None
    lowered = {str(k).strip().lower(): v for k, v in extra_map.items() if v}
    for key in (raw.lower(), _with_one_m(parsed), parsed.base):
        if key in lowered:
            return _known(str(lowered[key]).strip())
    return None


def _with_one_m(parsed: _Name) -> str:
    """The base name with the 1M marker put back in Kiro's spelling."""
    return parsed.base + "-1m" if parsed.one_m else parsed.base


def _catalogue(model_id: str) -> Optional[KiroModel]:
    """A catalogue entry by id or alias, case-insensitively."""
    key = model_id.lower()
    if key in _ALIASES:
        return _BY_ID[_ALIASES[key].lower()]
    return _BY_ID.get(key)


def _resolve(raw: str, parsed: _Name) -> Optional[KiroModel]:
    """Built-in rules: exact ids, Claude families, then OpenAI / Gemini names."""
    for key in (raw, _with_one_m(parsed), parsed.base):
        found = _catalogue(key)
        if found is not None:
            return found
    claude = _claude_family(parsed)
    if claude is not None:
        return claude
    if _OPENAI.search(parsed.base) or _GEMINI.search(parsed.base):
        return _BY_ID[_SMALL_MODEL] if _SMALL_TIER.search(parsed.base) else None
    return None


def _claude_family(parsed: _Name) -> Optional[KiroModel]:
    """Sonnet / Opus / Haiku at the version asked for, else that family's newest model."""
    match = re.search(r"(?:^|[^a-z])(opus|sonnet|haiku)(?:$|[^a-z])", parsed.base)
    if match is None:
        return None
    family = match.group(1)
    version = re.search(rf"{family}-(\d+(?:\.\d+)?)", parsed.base) \
        or re.search(rf"(\d+(?:\.\d+)?)-{family}", parsed.base)
    if version is not None:
        number = version.group(1).removesuffix(".0")
        candidates = [f"claude-{family}-{number}"]
        if parsed.one_m:
            candidates.insert(0, candidates[0] + "-1m")
        for candidate in candidates:
            found = _catalogue(candidate)
            if found is not None:
                return found
    return _newest(family, parsed.one_m)


def _newest(family: str, one_m: bool) -> KiroModel:
    """The family's newest catalogue model (its newest 1M variant when 1M was asked for)."""
    members = [m for m in _PUBLIC if m.id.startswith(f"claude-{family}-")]
    if one_m:
        members = [m for m in members if m.id.endswith("-1m")] or members
    else:
        members = [m for m in members if not m.id.endswith("-1m")]
    # _PUBLIC is ordered newest first within a family
    return members[0]

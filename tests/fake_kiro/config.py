"""FakeConfig: every knob of the fake Kiro, changeable at runtime via POST /__fake/config."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .catalog import MODEL_IDS

HELLO_TEXT = "Hello! This is the fake Kiro."


_AT_LEAST_ONE = {"text_chunk_chars", "tool_fragment_chars", "log_size"}


class ConfigError(ValueError):
    """An unknown field or a value of the wrong type in a config update."""


@dataclass
class FakeConfig:
    """Behaviour switches; defaults mimic the real upstream as described in kiro-upstream.md."""
    input_limit_tokens: int = 200_000  # estimated input tokens (len(body)//4) above this -> "Input is too long."
    max_body_bytes: int = 615_000  # bodies above this -> "Improperly formed request."
    require_profile_arn: bool = True  # runtime.*.kiro.dev behaviour: profileArn required for every account
    reject_empty_tool_uses: bool = False  # strict mode: `"toolUses": []` -> Improperly formed
    models: list = field(default_factory=lambda: list(MODEL_IDS))  # known modelIds
    rotate_refresh_tokens: bool = True  # each refresh returns a new refresh token
    invalidate_old_refresh_tokens: bool = True  # ...and the previous one stops working
    expires_in: int = 3600  # access-token lifetime in seconds
    usage_limit: float = 1000.0  # default monthly credit limit of new accounts
    credits_per_request: float = 0.25  # credits charged (and metered) per completed chat
    frame_delay: float = 0.0  # seconds between frames
    emit_metadata: bool = False  # append a metadataEvent (tokenUsage + stopReason)
    text_chunk_chars: int = 4  # characters per assistantResponseEvent delta
    tool_fragment_chars: int = 7  # max characters per toolUseEvent input fragment
    slow_first_byte_delay: float = 3.0  # default delay of the slow_first_byte fault
    device_pending_polls: int = 0  # device-flow polls answered authorization_pending before success
    hello_text: str = HELLO_TEXT
    log_size: int = 200  # requests kept for GET /__fake/requests
    seed_accounts: list = field(default_factory=list)  # [{"auth_method":..., "refresh_token":..., ...}]

    def public(self) -> dict:
        """The config as JSON (seed accounts included)."""
        return dataclasses.asdict(self)

    def updated(self, changes: dict) -> "FakeConfig":
        """A copy with `changes` applied; unknown fields or wrong types raise ConfigError."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in fields:
                raise ConfigError(f"unknown config field {name!r}")
            current = getattr(self, name)
            values[name] = _coerce(name, current, value)
            if name in _AT_LEAST_ONE and values[name] < 1:
                raise ConfigError(f"{name} must be >= 1")
        return dataclasses.replace(self, **values)


def _coerce(name: str, current: Any, value: Any) -> Any:
    """Check `value` against the type of the field's current value (ints may become floats)."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be a boolean")
        return value
    if isinstance(current, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name} must be a number")
        if value < 0:
            raise ConfigError(f"{name} must be >= 0")
        return int(value) if isinstance(current, int) and float(value).is_integer() else value
    if isinstance(current, str):
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string")
        return value
    if isinstance(current, list):
        if not isinstance(value, list):
            raise ConfigError(f"{name} must be a list")
        return list(value)
    raise ConfigError(f"{name} cannot be changed")

"""Settings: defaults < settings.json (the panel's) < environment < command-line flags.

Every Kiro host is a setting. `KIRO_UPSTREAM_URL` points every Kiro operation at one
base URL (the fake in tests), keeping each operation's path.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

ENV_PREFIX = "KIRO_PROXY_"


def default_data_dir() -> Path:
    """`KIRO_PROXY_HOME`, else `~/.kiro-proxy`."""
    return Path(os.environ.get("KIRO_PROXY_HOME") or Path.home() / ".kiro-proxy")


@dataclass
class Settings:
    """Everything the proxy can be told. Field docs are the README's settings table."""
    host: str = "127.0.0.1"  # bind address; 0.0.0.0 only when asked
    port: int = 8080
    data_dir: Path = field(default_factory=default_data_dir)
    api_keys: list = field(default_factory=list, repr=False)  # client keys for /v1/*; empty = any key
    admin_token: str = field(default="", repr=False)  # bearer token for /api/*; empty = admin API only from 127.0.0.1

    # Kiro hosts; {region} is the account's API or auth region.
    upstream_url: str = ""  # one base URL for every Kiro operation (KIRO_UPSTREAM_URL)
    kiro_api_url: str = "https://q.{region}.amazonaws.com"
    kiro_auth_url: str = "https://prod.{region}.auth.desktop.kiro.dev"
    kiro_oidc_url: str = "https://oidc.{region}.amazonaws.com"
    kiro_usage_url: str = "https://q.{region}.amazonaws.com"
    kiro_mcp_url: str = "https://q.{region}.amazonaws.com"
    kiro_version: str = "0.11.107"  # the Kiro IDE version our headers claim

    # Timeouts (seconds).
    connect_timeout: float = 10.0
    read_timeout: float = 300.0  # max silence between upstream bytes
    first_byte_timeout: float = 120.0  # max wait for the first upstream event
    request_deadline: float = 900.0  # whole-stream cap
    refresh_timeout: float = 30.0
    ping_interval: float = 15.0  # keep-alive while the upstream is silent

    # Tokens.
    refresh_before_seconds: int = 900  # refresh access tokens this close to expiry

    # Models.
    default_model: str = "claude-sonnet-4.5"  # Kiro id for names we cannot map
    model_map: dict = field(default_factory=dict)  # extra public name -> Kiro id

    # Request guards.
    max_request_bytes: int = 32 * 1024 * 1024  # client bodies over this get 413 before they are read
    max_body_bytes: int = 600_000  # Kiro rejects bodies over ~615 KB as "Improperly formed"
    max_tools: int = 64
    max_tool_description: int = 10_000

    # Long conversations (proxy/history): when a request is shrunk to fit Kiro, and how.
    history_retry_on_too_long: bool = True  # shrink and retry on "Input is too long" / oversized body
    history_max_retries: int = 4  # each retry halves the request: 4 reach 1/16 of it
    history_pre_estimate: bool = True  # shrink before sending when the estimate is over the budget
    history_window_fraction: float = 0.85  # token budget: this share of the model's context window
    history_max_input_tokens: int = 0  # a lower token budget (0 = the window fraction only)
    history_auto_truncate: bool = False  # always apply the two limits below
    history_max_messages: int = 200
    history_max_chars: int = 400_000
    history_drop_slack: float = 0.25  # when turns must go, drop this share below the budget (room to grow)
    history_keep_recent: int = 4  # newest messages never shortened before older ones are dropped
    history_tool_result_max_chars: int = 4_000  # old tool output is cut to this first
    history_smart_summary: bool = True  # summarise dropped turns with a Kiro call of their own
    history_summary_model: str = ""  # model for that call ("" = the request's model)
    history_summary_max_chars: int = 6_000
    history_summary_max_calls: int = 3  # per request; a longer dropped part is condensed harder
    summary_cache_enabled: bool = True
    summary_cache_min_delta_messages: int = 3  # re-summarise once this many more messages were dropped
    summary_cache_min_delta_chars: int = 4_000  # ... or this many more characters
    summary_cache_max_age_seconds: float = 180.0
    summary_cache_max_entries: int = 256  # conversations remembered (bounded memory)
    token_calibration: bool = True  # learn per-model estimate corrections from Kiro's context usage

    # Serving.
    max_connections: int = 1000  # gevent Pool size: the DoS guard
    max_upstream_streams: int = 200  # concurrent Kiro streams; over it clients get 503
    shutdown_grace: float = 5.0  # seconds streams get to finish after SIGTERM (idle keep-alives wait too)

    # Account pool (proxy/pool.py): choice, stickiness, faults.
    pool_policy: str = "spread"  # spread | round_robin | priority
    pool_priority: list = field(default_factory=list)  # account ids tried first, in order (priority policy)
    sticky_seconds: float = 60.0  # a conversation keeps its account this long after its last request
    probation_streams: int = 1  # streams an account may run until it has answered once (0 = no limit)
    queue_wait: float = 5.0  # max seconds a request waits for a free account before 429/503
    throttle_cooldown: float = 3600.0  # rest after Kiro's "suspicious activity" throttle
    rate_limit_cooldown: float = 60.0  # rest after a per-account 429 that names no Retry-After
    retry_attempts: int = 4  # upstream attempts per request before the first byte
    retry_backoff: float = 0.25  # first backoff before retrying a transient failure (doubles, jittered)
    retry_backoff_max: float = 4.0

    # Rate limits (proxy/limits.py); 0 = no limit.
    account_min_interval: float = 0.0  # seconds between two requests on one account
    account_rpm: int = 0  # requests per minute per account
    global_rpm: int = 0  # requests per minute over all accounts
    account_max_streams: int = 0  # concurrent upstream streams per account

    # Jobs (jobs/).
    quota_refresh_minutes: float = 30.0  # usage (credits) refresh of the usable accounts
    health_check_minutes: float = 10.0  # probe of cooled-down, exhausted and failing accounts
    stats_save_seconds: float = 60.0  # how often per-account stats are written to stats.json

    def __post_init__(self) -> None:
        if self.pool_policy not in ("spread", "round_robin", "priority"):
            raise ValueError(f"pool_policy must be spread, round_robin or priority, not {self.pool_policy!r}")

    def url(self, kind: str, region: str = "us-east-1") -> str:
        """Base URL (no trailing slash) for a Kiro host kind: api, auth, oidc, usage, mcp."""
        if self.upstream_url:
            return self.upstream_url.rstrip("/")
        template = getattr(self, f"kiro_{kind}_url")
        return template.format(region=region).rstrip("/")

    @property
    def accounts_path(self) -> Path:
        """The accounts database file."""
        return Path(self.data_dir) / "accounts.json"

    @property
    def settings_path(self) -> Path:
        """The settings file the panel edits."""
        return Path(self.data_dir) / "settings.json"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_ENV_ALIASES = {"KIRO_UPSTREAM_URL": "upstream_url", "KIRO_PROXY_HOME": "data_dir"}
# KIRO_PROXY_* names that are not settings on purpose: the README's Codex set-up reads the client key
# from KIRO_PROXY_KEY, and .ci/run sets KIRO_PROXY_REQUIRE_CLIENTS for the test suite.
_NOT_SETTINGS = {"KIRO_PROXY_KEY", "KIRO_PROXY_REQUIRE_CLIENTS"}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}

# Limits of the numeric settings: (lowest allowed, whether the lowest itself is allowed). Every
# other number must be >= 0; these read "0" as nonsense (a zero timeout, no connections at all).
_POSITIVE = {"connect_timeout", "read_timeout", "first_byte_timeout", "request_deadline", "refresh_timeout",
             "ping_interval", "max_connections", "max_upstream_streams", "max_body_bytes", "max_request_bytes",
             "max_tools", "max_tool_description", "retry_attempts", "quota_refresh_minutes",
             "health_check_minutes", "stats_save_seconds", "history_window_fraction"}
_FRACTIONS = {"history_window_fraction", "history_drop_slack"}  # at most 1


class SettingsError(ValueError):
    """A setting has a value the proxy cannot use; the message names the setting and says why."""

    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(message)
        self.field = field  # the Settings field at fault, when one is


def _default(name: str) -> Any:
    """The default value of a field (its type decides how a string is read)."""
    f = _FIELDS[name]
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def _coerce(name: str, value: Any) -> Any:
    """Turn a string from the environment or a flag (or a JSON value from settings.json) into the
    field's type; ValueError says what was expected."""
    default = _default(name)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"{value!r} is not true or false (use true/false, 1/0, yes/no or on/off)")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a whole number") from None
    if isinstance(default, float):
        try:
            number = float(str(value).strip()) if not isinstance(value, (int, float)) or isinstance(value, bool) \
                else float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return number
    if isinstance(default, Path):
        return Path(value).expanduser() if isinstance(value, (str, os.PathLike)) else _wrong(value, "a path")
    if isinstance(default, list):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
        if not isinstance(value, str):
            return _wrong(value, "a comma-separated list")
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(default, dict):
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        if not isinstance(value, str):
            return _wrong(value, "name=value pairs separated by commas")
        pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
        bad = [item for item in pairs if len(item) != 2 or not item[0].strip() or not item[1].strip()]
        if bad:
            raise ValueError(f"{'='.join(bad[0])!r} is not a name=value pair")
        return {k.strip(): v.strip() for k, v in pairs}
    if not isinstance(value, str):
        return _wrong(value, "text")
    return value


def _wrong(value: Any, expected: str) -> Any:
    raise ValueError(f"{value!r} is not {expected}")


def validate(settings: Settings) -> Settings:
    """Refuse values no setting can mean (a negative timeout, port 70000); SettingsError names the field."""
    for name in _FIELDS:
        value = getattr(settings, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if name in _POSITIVE and value <= 0:
            raise SettingsError(f"{name} must be greater than 0, not {value:g}", name)
        if value < 0:
            raise SettingsError(f"{name} must not be negative, not {value:g}", name)
        if name in _FRACTIONS and value > 1:
            raise SettingsError(f"{name} is a fraction and must be at most 1, not {value:g}", name)
    if not 0 <= settings.port <= 65535:
        raise SettingsError(f"port must be 0..65535, not {settings.port}", "port")
    if not str(settings.host).strip():
        raise SettingsError("host must not be empty", "host")
    if settings.history_drop_slack >= 1:
        raise SettingsError(f"history_drop_slack must be below 1, not {settings.history_drop_slack:g}",
                            "history_drop_slack")
    return settings


def unknown_env_names(env: Optional[Mapping[str, str]] = None) -> list[str]:
    """KIRO_PROXY_* variables that name no setting: typos (KIRO_PROXY_API_KEY for _KEYS) would
    otherwise be ignored without a word, and an API key that is silently not set leaves /v1 open."""
    env = os.environ if env is None else env
    return sorted(name for name in env
                  if name.startswith(ENV_PREFIX) and name not in _ENV_ALIASES and name not in _NOT_SETTINGS
                  and name[len(ENV_PREFIX):].lower() not in _FIELDS)


def suggest_env_name(name: str) -> Optional[str]:
    """The setting variable a misspelt KIRO_PROXY_* name most likely meant."""
    known = [ENV_PREFIX + f.upper() for f in _FIELDS] + list(_ENV_ALIASES)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    return close[0] if close else None


def load_settings(file_values: Optional[Mapping[str, Any]] = None,
                  env: Optional[Mapping[str, str]] = None,
                  flags: Optional[Mapping[str, Any]] = None) -> Settings:
    """Merge the layers; unknown keys in the file are ignored; a bad value raises SettingsError
    (a ValueError) naming where it came from."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}  # field -> where its value came from, for messages
    for key, value in (file_values or {}).items():
        if key in _FIELDS and key not in {"data_dir", "host", "port"}:
            sources[key] = f"settings.json: {key}"
            values[key] = _layer(key, value, sources[key])
    for env_name, value in env.items():
        name = _ENV_ALIASES.get(env_name)
        if name is None and env_name.startswith(ENV_PREFIX):
            name = env_name[len(ENV_PREFIX):].lower()
        if name in _FIELDS and value != "":
            sources[name] = env_name
            values[name] = _layer(name, value, env_name)
    for key, value in (flags or {}).items():
        if value is not None and key in _FIELDS:
            sources[key] = f"--{key.replace('_', '-')}"
            values[key] = _layer(key, value, sources[key])
    try:
        return validate(Settings(**values))
    except SettingsError as e:
        source = sources.get(e.field or "")
        raise SettingsError(f"{source}: {e}" if source else str(e), e.field) from None
    except ValueError as e:  # Settings.__post_init__ (pool_policy)
        raise SettingsError(f"{sources.get('pool_policy', 'pool_policy')}: {e}", "pool_policy") from None


def _layer(name: str, value: Any, source: str) -> Any:
    """One layer's value for `name`, or SettingsError naming `source`."""
    try:
        return _coerce(name, value)
    except ValueError as e:
        raise SettingsError(f"{source}: {e}") from None

"""Tests for proxy/settings.py: layering, reading values, refusing bad ones, and the README's table."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from proxy.settings import (Settings, SettingsError, load_settings, suggest_env_name, unknown_env_names,
                            validate)

README = Path(__file__).resolve().parents[3] / "README.md"


def test_layers_file_then_env_then_flags():
    settings = load_settings(file_values={"read_timeout": 50, "queue_wait": 2},
                             env={"KIRO_PROXY_READ_TIMEOUT": "60"}, flags={"port": 9000})
    assert (settings.read_timeout, settings.queue_wait, settings.port) == (60.0, 2.0, 9000)


def test_file_cannot_move_the_data_dir_host_or_port():
    settings = load_settings(file_values={"host": "0.0.0.0", "port": 1, "data_dir": "/x"}, env={})
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)


@pytest.mark.parametrize("env, message", [
    ({"KIRO_PROXY_PORT": "abc"}, "KIRO_PROXY_PORT: 'abc' is not a whole number"),
    ({"KIRO_PROXY_PORT": "70000"}, "KIRO_PROXY_PORT: port must be 0..65535"),
    ({"KIRO_PROXY_READ_TIMEOUT": "-5"}, "KIRO_PROXY_READ_TIMEOUT: read_timeout must be greater than 0, not -5"),
    ({"KIRO_PROXY_CONNECT_TIMEOUT": "0"}, "connect_timeout must be greater than 0"),
    ({"KIRO_PROXY_QUEUE_WAIT": "-1"}, "KIRO_PROXY_QUEUE_WAIT: queue_wait must not be negative"),
    ({"KIRO_PROXY_REQUEST_DEADLINE": "nan"}, "is not a finite number"),
    ({"KIRO_PROXY_PING_INTERVAL": "soon"}, "'soon' is not a number"),
    ({"KIRO_PROXY_HISTORY_AUTO_TRUNCATE": "maybe"}, "'maybe' is not true or false"),
    ({"KIRO_PROXY_HISTORY_WINDOW_FRACTION": "1.5"}, "must be at most 1"),
    ({"KIRO_PROXY_HISTORY_DROP_SLACK": "1"}, "history_drop_slack must be below 1"),
    ({"KIRO_PROXY_MODEL_MAP": "a=b,oops"}, "'oops' is not a name=value pair"),
    ({"KIRO_PROXY_POOL_POLICY": "random"}, "KIRO_PROXY_POOL_POLICY: pool_policy must be"),
    ({"KIRO_PROXY_MAX_REQUEST_BYTES": "0"}, "max_request_bytes must be greater than 0"),
])
def test_bad_values_name_their_source_and_say_why(env, message):
    with pytest.raises(SettingsError) as info:
        load_settings(env=env)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)  # callers that catch ValueError keep working


def test_bad_flag_and_file_values_name_their_source():
    with pytest.raises(SettingsError, match="^--port: port must not be negative"):
        load_settings(env={}, flags={"port": -1})
    with pytest.raises(SettingsError, match="^settings.json: read_timeout: 'x' is not a number"):
        load_settings(file_values={"read_timeout": "x"}, env={})
    with pytest.raises(SettingsError, match="settings.json: api_keys: 5 is not a comma-separated list"):
        load_settings(file_values={"api_keys": 5}, env={})


@pytest.mark.parametrize("text, value", [("1", True), ("TRUE", True), ("on", True), ("yes", True),
                                         ("0", False), ("false", False), ("Off", False), ("no", False)])
def test_switches_read_the_usual_words(text, value):
    assert load_settings(env={"KIRO_PROXY_HISTORY_AUTO_TRUNCATE": text}).history_auto_truncate is value


def test_lists_maps_and_aliases():
    settings = load_settings(env={"KIRO_PROXY_API_KEYS": " a, ,b ", "KIRO_PROXY_MODEL_MAP": "x=y, z = w",
                                  "KIRO_UPSTREAM_URL": "http://127.0.0.1:9", "KIRO_PROXY_HOME": "~/kp"})
    assert settings.api_keys == ["a", "b"] and settings.model_map == {"x": "y", "z": "w"}
    assert settings.upstream_url == "http://127.0.0.1:9" and settings.data_dir == Path("~/kp").expanduser()


def test_empty_env_value_means_unset():
    assert load_settings(env={"KIRO_PROXY_PORT": ""}).port == 8080


def test_defaults_are_valid():
    assert validate(Settings()) == Settings()


def test_repr_hides_client_keys():
    settings = load_settings(env={"KIRO_PROXY_API_KEYS": "sk-client-secret-1"})
    assert "sk-client-secret-1" not in repr(settings)


def test_unknown_kiro_proxy_variables_are_reported_with_a_suggestion():
    env = {"KIRO_PROXY_API_KEY": "x", "KIRO_PROXY_PORT": "1", "KIRO_PROXY_HOME": "/h", "KIRO_PROXY_KEY": "k",
           "KIRO_UPSTREAM_URL": "u", "OTHER": "o"}
    assert unknown_env_names(env) == ["KIRO_PROXY_API_KEY"]
    assert suggest_env_name("KIRO_PROXY_API_KEY") == "KIRO_PROXY_API_KEYS"
    assert suggest_env_name("KIRO_PROXY_NOTHING_LIKE_IT") is None


def _readme_settings() -> list[tuple[str, str]]:
    """(env name, default) of every row of the README's settings table."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Settings"):text.index("## Layout")]
    rows = []
    for line in table.splitlines():
        match = re.match(r"\| (?:`--[^`]+` \()?`(KIRO_[A-Z_]+)`\)? \| (?:`([^`]*)`|empty|[^|]*) \|", line)
        if match:
            rows.append((match.group(1), match.group(2)))
    return rows


def test_every_readme_variable_is_a_setting_with_the_documented_default():
    rows = _readme_settings()
    assert len(rows) > 50  # the table was found
    defaults = Settings()
    for name, default in rows:
        assert not unknown_env_names({name: "x"}), f"{name} is documented but is no setting"
        if name == "KIRO_PROXY_HOME" or default is None:  # a home-relative path; "empty"
            continue
        field = name[len("KIRO_PROXY_"):].lower()
        assert getattr(load_settings(env={name: default}), field) == getattr(defaults, field), \
            f"{name}: the README says {default}"

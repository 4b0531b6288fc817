"""Tests for the settings store."""
import json

from store.settings import SettingsStore, read_settings_file


def test_empty_store_has_no_values(tmp_path):
    assert SettingsStore(tmp_path / "settings.json").values() == {}


def test_set_merges_and_none_removes(tmp_path):
    s = SettingsStore(tmp_path / "settings.json")
    assert s.set(port=9000, default_model="m") == {"port": 9000, "default_model": "m"}
    s.set(default_model=None, max_tools=10)
    assert s.values() == {"port": 9000, "max_tools": 10}
    assert SettingsStore(tmp_path / "settings.json").values() == {"port": 9000, "max_tools": 10}


def test_values_is_a_copy(tmp_path):
    s = SettingsStore(tmp_path / "settings.json")
    s.set(a=1)
    s.values()["a"] = 2
    assert s.values() == {"a": 1}


def test_read_settings_file_without_opening_the_store(tmp_path):
    path = tmp_path / "settings.json"
    assert read_settings_file(path) == {}
    SettingsStore(path).set(model_map={"x": "y"})
    assert read_settings_file(path) == {"model_map": {"x": "y"}}
    assert json.loads(path.read_text()) == {"settings": {"1": {"model_map": {"x": "y"}}}}

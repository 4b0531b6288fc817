"""Tests for the stats file: atomic snapshots, private mode, and refusing what we did not write."""
import json
import os

import pytest

from store import STATS_FILE, open_stores
from store.stats import StatsFile
from store.tiny import StoreCorrupt


def test_missing_file_loads_empty(tmp_path):
    assert StatsFile(tmp_path / "stats.json").load() == {}


def test_save_then_load(tmp_path):
    stats = StatsFile(tmp_path / "stats.json")
    stats.save({"a": {"requests": 2, "last_error": "réseau"}})
    assert stats.load() == {"a": {"requests": 2, "last_error": "réseau"}}
    assert json.loads((tmp_path / "stats.json").read_text())["version"] == 1
    assert os.stat(tmp_path / "stats.json").st_mode & 0o777 == 0o600


@pytest.mark.parametrize("text", ["[1, 2]", '{"accounts": []}', "{oops"])
def test_foreign_content_is_corrupt(tmp_path, text):
    (tmp_path / "stats.json").write_text(text)
    with pytest.raises(StoreCorrupt):
        StatsFile(tmp_path / "stats.json").load()


def test_leftover_temp_copies_are_removed(tmp_path):
    leftover = tmp_path / ".stats.json.tmp-abc"
    leftover.write_text("half")
    StatsFile(tmp_path / "stats.json")
    assert not leftover.exists()


def test_open_stores_gives_the_stats_file(tmp_path):
    stores = open_stores(tmp_path / "data")
    try:
        assert stores.stats.path == tmp_path / "data" / STATS_FILE
    finally:
        stores.close()

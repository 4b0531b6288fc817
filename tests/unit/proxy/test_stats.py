"""Tests for per-account stats: counting, the proven flag, pruning and the stats file."""
import json
import os

import pytest

from proxy.stats import AccountStats, Stats
from store.stats import StatsFile


@pytest.fixture
def stats_file(tmp_path) -> StatsFile:
    """A stats file in a temp data dir (not created yet)."""
    return StatsFile(tmp_path / "stats.json")


def test_counts_attempts_successes_and_errors_by_kind():
    stats = Stats()
    stats.record_attempt("a", 10.0)
    stats.record_attempt("a", 11.0)
    stats.record_ok("a", 11.5)
    stats.record_error("a", "server_error", "boom", 12.0)
    stats.record_error("a", "server_error", "boom again", 13.0)
    stats.record_error("a", "network", "refused", 14.0)
    record = stats.get("a")
    assert (record.requests, record.ok, record.last_used, record.last_ok) == (2, 1, 11.0, 11.5)
    assert record.errors == {"server_error": 2, "network": 1}
    assert record.last_error == "network: refused" and record.last_error_at == 14.0
    assert record.last_fault_at == 0.0  # none of these was the account's fault


def test_unknown_account_reads_as_empty_and_copies_do_not_leak():
    stats = Stats()
    assert stats.get("nobody") == AccountStats()
    stats.record_error("a", "x", "y", 1.0)
    copy = stats.get("a")
    copy.errors["x"] = 99
    copy.requests = 42
    assert stats.get("a").errors == {"x": 1} and stats.get("a").requests == 0


def test_proven_after_an_answer_and_again_unproven_after_a_fault():
    stats = Stats()
    assert not stats.get("a").proven
    stats.record_ok("a", 5.0)
    assert stats.get("a").proven
    stats.record_error("a", "suspicious_activity", "throttled", 6.0, fault=True)
    assert not stats.get("a").proven
    stats.record_ok("a", 7.0)
    assert stats.get("a").proven


def test_long_error_text_is_cut():
    stats = Stats()
    stats.record_error("a", "k", "x" * 5000, 1.0)
    assert len(stats.get("a").last_error) == 300


def test_save_and_load_round_trip(stats_file):
    stats = Stats(stats_file)
    stats.record_attempt("a", 1.0)
    stats.update("a", cooldown_until=99.0, cooldown_reason="throttled", usage={"used": 1.0, "limit": 2.0})
    assert stats.save()
    assert oct(os.stat(stats_file.path).st_mode & 0o777) == "0o600"
    saved = json.loads(stats_file.path.read_text())
    assert saved["version"] == 1 and saved["accounts"]["a"]["requests"] == 1
    again = Stats(StatsFile(stats_file.path))
    assert again.get("a") == stats.get("a")


def test_prune_forgets_removed_accounts():
    stats = Stats()
    for account_id in ("a", "b", "c"):
        stats.record_attempt(account_id, 1.0)
    stats.prune(["b"])
    assert list(stats.snapshot()) == ["b"]


def test_a_corrupt_file_is_ignored_and_replaced(stats_file):
    stats_file.path.write_text("{not json")
    stats = Stats(stats_file)
    assert stats.snapshot() == {}
    stats.record_attempt("a", 1.0)
    assert stats.save()
    assert json.loads(stats_file.path.read_text())["accounts"]["a"]["requests"] == 1


def test_unknown_fields_in_a_record_are_ignored(stats_file):
    stats_file.path.write_text(json.dumps({"version": 1, "accounts": {"a": {"requests": 3, "future": True},
                                                                      "b": "junk"}}))
    stats = Stats(stats_file)
    assert stats.get("a").requests == 3
    assert "b" not in stats.snapshot()


def test_without_a_file_save_reports_false():
    assert Stats().save() is False


def test_a_failed_write_is_reported_not_raised(tmp_path):
    stats = Stats(StatsFile(tmp_path / "missing-dir" / "stats.json"))
    stats.record_attempt("a", 1.0)
    assert stats.save() is False

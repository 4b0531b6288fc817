"""Tests for the stats job: saves to the data dir and forgets removed accounts."""
import json

from jobs.stats import save_stats
from proxy.account import Account
from proxy.stats import Stats
from store.accounts import AccountStore
from store.stats import StatsFile


def test_saves_and_prunes(tmp_path):
    accounts = AccountStore(tmp_path / "accounts.json")
    accounts.add(Account(id="kept", refresh_token="r1"))
    stats = Stats(StatsFile(tmp_path / "stats.json"))
    stats.record_attempt("kept", 1.0)
    stats.record_attempt("removed", 1.0)
    assert save_stats(stats, accounts) is True
    saved = json.loads((tmp_path / "stats.json").read_text())
    assert list(saved["accounts"]) == ["kept"]
    accounts.close()

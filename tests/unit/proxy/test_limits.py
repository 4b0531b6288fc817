"""Tests for the rate limiter: intervals, per-minute windows and stream caps, on explicit times."""
from proxy.limits import Block, LimitConfig, Limiter


def limiter(**config) -> Limiter:
    """A limiter with only the given limits switched on."""
    return Limiter(LimitConfig(**config))


def test_no_limits_never_block():
    lim = limiter()
    for _ in range(1000):
        assert lim.account_block("a", 0.0) is None
        assert lim.global_block(0.0) is None
        lim.admit("a", 0.0)
    assert lim.streams("a") == 1000 and lim.streams() == 1000


def test_min_interval_blocks_until_it_has_passed():
    lim = limiter(account_min_interval=2.0)
    assert lim.account_block("a", 100.0) is None
    lim.admit("a", 100.0)
    lim.release("a")
    assert lim.account_block("a", 100.5) == Block("interval", 1.5)
    assert lim.account_block("b", 100.5) is None  # per account
    assert lim.account_block("a", 102.0) is None


def test_account_rpm_frees_when_the_oldest_request_leaves_the_window():
    lim = limiter(account_rpm=3)
    for t in (10.0, 20.0, 30.0):
        lim.admit("a", t)
    assert lim.account_block("a", 40.0) == Block("account_rpm", 30.0)  # 10 + 60 - 40
    assert lim.account_block("a", 70.0) is None
    lim.admit("a", 70.0)
    assert lim.account_block("a", 71.0) == Block("account_rpm", 9.0)  # 20 + 60 - 71


def test_the_longer_wait_wins_when_two_limits_block():
    lim = limiter(account_rpm=1, account_min_interval=5.0)
    lim.admit("a", 0.0)
    assert lim.account_block("a", 1.0) == Block("account_rpm", 59.0)


def test_global_rpm_counts_every_account():
    lim = limiter(global_rpm=2)
    lim.admit("a", 0.0)
    lim.admit("b", 1.0)
    assert lim.global_block(2.0) == Block("global_rpm", 58.0)
    assert lim.global_block(60.5) is None


def test_account_stream_cap_and_release():
    lim = limiter(account_max_streams=2)
    lim.admit("a", 0.0)
    lim.admit("a", 0.0)
    block = lim.account_block("a", 0.0)
    assert block == Block("account_streams", None) and block.saturated
    lim.release("a")
    assert lim.account_block("a", 0.0) is None


def test_stream_cap_override_for_one_account():
    lim = limiter()
    lim.admit("a", 0.0)
    assert lim.account_block("a", 0.0, max_streams=1) == Block("account_streams", None)
    assert lim.account_block("a", 0.0) is None


def test_overall_stream_cap():
    lim = limiter(max_streams=2)
    lim.admit("a", 0.0)
    lim.admit("b", 0.0)
    assert lim.global_block(0.0) == Block("streams", None)
    lim.release("b")
    assert lim.global_block(0.0) is None


def test_release_without_a_stream_changes_nothing():
    lim = limiter(max_streams=1)
    lim.release("ghost")
    assert lim.streams() == 0
    lim.admit("a", 0.0)
    lim.release("a")
    lim.release("a")
    assert lim.streams() == 0 and lim.streams("a") == 0


def test_windows_stay_bounded():
    lim = limiter(account_rpm=5, global_rpm=5)
    for t in range(10_000):
        lim.admit("a", float(t))
        lim.release("a")
    assert len(lim._starts["a"]) <= 60 and len(lim._global) <= 60


def test_config_from_settings():
    from proxy.settings import Settings
    config = LimitConfig.from_settings(Settings(account_rpm=7, global_rpm=9, account_min_interval=1.5,
                                                account_max_streams=3, max_upstream_streams=50))
    assert config == LimitConfig(1.5, 7, 9, 3, 50)

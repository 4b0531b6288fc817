"""Tests for build_scheduler: every job registered with its interval and arguments (not started)."""
from types import SimpleNamespace

import pytest

from jobs import build_scheduler
from jobs.health import check_health, refresh_quota
from jobs.refresh import refresh_expiring
from jobs.stats import save_stats
from proxy.pool import Pool
from proxy.settings import Settings
from proxy.stats import Stats


@pytest.fixture
def services(tmp_path):
    """The parts of Services the scheduler reads."""
    from store.accounts import AccountStore
    accounts = AccountStore(tmp_path / "accounts.json")
    settings = Settings(health_check_minutes=10, quota_refresh_minutes=30, stats_save_seconds=60)
    pool = Pool(accounts, settings, stats=Stats())
    yield SimpleNamespace(settings=settings, pool=pool, tokens=object(), session=object(),
                          stores=SimpleNamespace(accounts=accounts))
    accounts.close()


def test_jobs_and_intervals(services):
    scheduler = build_scheduler(services)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"refresh_tokens", "health_check", "refresh_quota", "save_stats"}
    intervals = {job_id: job.trigger.interval.total_seconds() for job_id, job in jobs.items()}
    assert intervals == {"refresh_tokens": 300, "health_check": 600, "refresh_quota": 1800, "save_stats": 60}
    assert jobs["refresh_tokens"].func is refresh_expiring
    assert jobs["health_check"].func is check_health
    assert jobs["refresh_quota"].func is refresh_quota
    assert jobs["save_stats"].func is save_stats


def test_jobs_get_the_services_they_run_on(services):
    jobs = {job.id: job for job in build_scheduler(services).get_jobs()}
    assert jobs["health_check"].kwargs["pool"] is services.pool
    assert jobs["health_check"].kwargs["tokens"] is services.tokens
    assert jobs["refresh_quota"].kwargs["max_age"] == 900  # skips what the health check just read
    assert jobs["save_stats"].kwargs == {"stats": services.pool.stats, "accounts": services.stores.accounts}
    assert jobs["refresh_tokens"].kwargs["before_seconds"] == services.settings.refresh_before_seconds


def test_intervals_follow_the_settings(services):
    services.settings.health_check_minutes = 2
    services.settings.stats_save_seconds = 5
    jobs = {job.id: job for job in build_scheduler(services).get_jobs()}
    assert jobs["health_check"].trigger.interval.total_seconds() == 120
    assert jobs["save_stats"].trigger.interval.total_seconds() == 5


def test_slow_jobs_tolerate_a_stalled_loop(services):
    scheduler = build_scheduler(services)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["health_check"].misfire_grace_time == 300
    assert jobs["refresh_quota"].misfire_grace_time == 300
    assert scheduler._job_defaults == {"coalesce": True, "max_instances": 1, "misfire_grace_time": 120}

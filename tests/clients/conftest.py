"""Fixtures for the real-client tier: where the CLIs are and a clean environment to run them in."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import REPO

BIN = REPO / "tests" / "clients" / "node_modules" / ".bin"


def cli_path(name: str) -> Path:
    """The npm-installed CLI; missing is a failure in CI (KIRO_PROXY_REQUIRE_CLIENTS=1), a skip elsewhere."""
    path = BIN / name
    if not path.exists():
        if os.environ.get("KIRO_PROXY_REQUIRE_CLIENTS") == "1":
            pytest.fail(f"{path} is missing: run `npm ci` in tests/clients")
        pytest.skip(f"{name} not installed (npm ci in tests/clients)")
    return path


@pytest.fixture
def cli_env(tmp_path) -> dict:
    """A minimal environment with a fresh HOME, so no user config or credentials leak in."""
    home = tmp_path / "home"
    home.mkdir()
    return {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home),
            "LANG": "C.UTF-8", "TERM": "dumb", "NO_COLOR": "1"}


@pytest.fixture
def workdir(tmp_path) -> Path:
    """An empty working directory for a CLI run."""
    path = tmp_path / "work"
    path.mkdir()
    return path

"""A fake Kiro upstream for the proxy's tests: `create_fake_app(FakeConfig())`, or
`python -m tests.fake_kiro --port 0`. See README.md in this directory.

Exports are resolved lazily so that `python -m tests.fake_kiro` can monkey-patch with gevent
before Flask/Werkzeug are imported.
"""
from __future__ import annotations

__all__ = ["create_fake_app", "FakeConfig"]


def __getattr__(name: str):
    """Lazy `from tests.fake_kiro import create_fake_app, FakeConfig`."""
    if name == "create_fake_app":
        from .app import create_fake_app
        return create_fake_app
    if name == "FakeConfig":
        from .config import FakeConfig
        return FakeConfig
    raise AttributeError(name)

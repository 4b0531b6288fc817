"""A protocol blueprint alone in a Flask app, with a scripted relay: route tests without Kiro."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, Flask


class FakeRelay:
    """Returns scripted events (or raises a scripted error) and records the Chats it was given."""

    def __init__(self, events=(), error=None):
        self.events, self.error, self.chats = list(events), error, []

    def start(self, chat, raw_estimate=None):
        """The scripted answer for `chat`."""
        self.chats.append(chat)
        if self.error is not None:
            raise self.error
        return iter(self.events)


def blueprint_app(blueprint: Blueprint, relay: FakeRelay, estimated_tokens: int = 42) -> Flask:
    """A Flask app with only `blueprint` and the services its views read."""
    app = Flask(__name__)
    app.extensions["kiro_proxy"] = SimpleNamespace(relay=relay, settings=None,
                                                   estimate_tokens=lambda chat, raw=None: estimated_tokens)
    app.register_blueprint(blueprint)
    return app

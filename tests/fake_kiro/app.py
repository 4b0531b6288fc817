"""The fake Kiro Flask app: `create_fake_app(config)`; state lives in `app.extensions["fake_kiro"]`."""
from __future__ import annotations

import json
import time
from typing import Optional

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from . import bodies
from .auth_routes import auth
from .chat import generate_assistant_response
from .config import FakeConfig
from .control import control
from .service_routes import list_profiles, models_body, service, usage_body
from .state import FakeState, logged_body, logged_headers
from .web import EXTENSION, fake_state, guarded

CHAT_TARGET = "AmazonCodeWhispererStreamingService.GenerateAssistantResponse"


def create_fake_app(config: Optional[FakeConfig] = None) -> Flask:
    """A fresh fake Kiro app with its own state."""
    app = Flask(__name__)
    app.extensions[EXTENSION] = FakeState(config)
    app.register_blueprint(auth)
    app.register_blueprint(service)
    app.register_blueprint(control)
    app.add_url_rule("/generateAssistantResponse", "generate_assistant_response", _chat_path, methods=["POST"])
    app.add_url_rule("/", "aws_json", _aws_json, methods=["POST"])
    app.before_request(_start_log)
    app.after_request(_finish_log)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _chat_path():
    """POST /generateAssistantResponse (REST, or AWS-JSON with the path tolerated)."""
    target = request.headers.get("x-amz-target")
    if target and target != CHAT_TARGET:
        return _aws_json()
    return generate_assistant_response()


def _aws_json():
    """POST / dispatched on `x-amz-target` (AWS JSON 1.0 style)."""
    target = request.headers.get("x-amz-target", "")
    operation = target.rpartition(".")[2]
    if target == CHAT_TARGET:
        return generate_assistant_response()
    if operation == "GetUsageLimits":
        account, early = guarded("usage")
        return early or bodies.json_response(usage_body(account))
    if operation == "ListAvailableModels":
        account, early = guarded("models")
        if early:
            return early
        body = request.get_json(silent=True) or {}
        return bodies.json_response(models_body(int(body.get("maxResults") or 50), body.get("nextToken")))
    if operation in ("ListAvailableProfiles", "ListProfiles"):
        return list_profiles()
    if target.startswith("AmazonQDeveloperStreamingService."):
        return bodies.json_response(bodies.IMPROPERLY_FORMED, 400)  # different schema upstream (§1.1)
    return bodies.json_response({"__type": "UnknownOperationException", "message": f"Unknown operation {target!r}"},
                                400)


def _start_log() -> None:
    """Note the request's start for the log (control-API calls are not logged)."""
    if not request.path.startswith("/__fake/"):
        g.fake_started = time.time()


def _finish_log(response):
    """Log method, path, selected headers, body (secrets masked), status and outcome."""
    if request.path.startswith("/__fake/"):
        return response
    state = fake_state()
    raw = request.get_data(cache=True)
    entry = {"time": g.get("fake_started", time.time()), "method": request.method, "path": request.path,
             "query": request.query_string.decode("latin-1"), "headers": logged_headers(request.headers),
             "body": logged_body(raw, request.is_json), "status": response.status_code,
             "account_id": g.get("fake_account_id"), "fault": g.get("fake_fault"),
             "rule": g.get("fake_rule"), "directive": g.get("fake_directive")}
    if response.status_code >= 400 and response.mimetype == "application/json":
        try:
            entry["response"] = json.loads(response.get_data())
        except json.JSONDecodeError:
            pass  # not a JSON error body; the status says enough
    state.record(entry)
    return response


def _http_error(error: HTTPException):
    """404/405 etc. as small JSON bodies."""
    return bodies.json_response({"message": error.description, "reason": None}, error.code or 500)


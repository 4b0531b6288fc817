"""Exact Kiro error bodies (docs/kiro-upstream.md §4, §5) and the JSON responses that carry them."""
from __future__ import annotations

import json
import uuid
from typing import Optional

from flask import Response

IMPROPERLY_FORMED = {"message": "Improperly formed request.", "reason": None}
INPUT_TOO_LONG = {"message": "Input is too long.", "reason": "CONTENT_LENGTH_EXCEEDS_THRESHOLD"}
INVALID_TOOL_USE = {"message": "Invalid tool use format.", "reason": "REQUEST_BODY_INVALID"}
INVALID_MODEL = {"message": "Invalid model. Please select a different model to continue.",
                 "reason": "INVALID_MODEL_ID"}
PROFILE_ARN_REQUIRED = {"message": "profileArn is required for this request.", "reason": None}
BEARER_INVALID = {"message": "The bearer token included in the request is invalid.", "reason": None}
MONTHLY_LIMIT = {"message": "You have reached the limit.", "reason": "MONTHLY_REQUEST_COUNT"}
CAPACITY = {"message": "I am experiencing high traffic, please try again shortly.",
            "reason": "INSUFFICIENT_MODEL_CAPACITY"}
RATE_LIMITED = {"message": "Too many requests, please wait before trying again.",
                "reason": "USER_REQUEST_RATE_EXCEEDED"}
SERVER_ERROR = {"message": "Encountered an unexpected error when processing the request, please try again.",
                "reason": None}
UNAVAILABLE_HTML = "<html><body><h1>503 Service Unavailable</h1></body></html>"

INVALID_GRANT = {"error": "invalid_grant", "error_description": "Invalid refresh token provided"}
INVALID_CLIENT = {"error": "invalid_client", "error_description": "Invalid client provided"}

# The x-amzn-errortype each status carries (AWS-typical; §4).
ERROR_TYPES = {400: "ValidationException", 402: "ServiceQuotaExceededException",
               403: "AccessDeniedException", 429: "ThrottlingException",
               500: "InternalServerException"}


def suspended(user_id: str) -> dict:
    """403 TEMPORARILY_SUSPENDED body naming the account's user id."""
    return {"message": f"Your User ID ({user_id}) temporarily is suspended. We've locked your account as a "
                       "security precaution. To restore access, please contact our support team to verify "
                       "your identity: https://support.aws.amazon.com/#/contacts/kiro",
            "reason": "TEMPORARILY_SUSPENDED"}


def suspicious(user_id: str) -> dict:
    """429 per-account throttle body (suspicious activity), reason null."""
    return {"message": "Due to suspicious activity, we are imposing temporary limits on how frequently your "
                       f"account ({user_id}) can send a request to Kiro while we investigate.",
            "reason": None}


def invalid_request(description: str) -> dict:
    """OAuth-style 400 body for a malformed auth request."""
    return {"error": "invalid_request", "error_description": description}


def dumps(obj: object) -> str:
    """Compact JSON, byte-for-byte like the bodies in §4."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def request_id() -> str:
    """A fresh AWS-style request id."""
    return str(uuid.uuid4())


def json_response(body: object, status: int = 200, retry_after: Optional[int] = None,
                  error_type: Optional[str] = None) -> Response:
    """A JSON response with `x-amzn-requestid` (and `x-amzn-errortype` on errors)."""
    resp = Response(dumps(body), status=status, mimetype="application/json")
    resp.headers["x-amzn-requestid"] = request_id()
    if status in ERROR_TYPES and isinstance(body, dict) and "message" in body:  # Kiro-style errors only
        resp.headers["x-amzn-errortype"] = error_type or ERROR_TYPES[status]
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp

"""The Responses API `Response` object, its `usage` and its in-stream `error`, as plain dicts."""
from __future__ import annotations

from typing import Optional

from proxy.chat import Reply, Usage
from proxy.errors import ErrorKind
from proxy.protocols.common import as_proxy_error
from proxy.protocols.openai_errors import openai_error_body
from proxy.protocols.openai_responses.context import ResponseContext

# response.failed error codes Codex acts on: context_length_exceeded / insufficient_quota /
# invalid_prompt stop at once, rate_limit_exceeded waits ("Please try again in Ns"), the rest retry.
_FAILURE_CODES = {
    ErrorKind.CONTEXT_TOO_LONG: "context_length_exceeded",
    ErrorKind.QUOTA_EXHAUSTED: "insufficient_quota",
    ErrorKind.RATE_LIMITED: "rate_limit_exceeded",
    ErrorKind.INVALID_REQUEST: "invalid_prompt",
}
_OPTIONAL_ECHO = ("prompt_cache_key", "safety_identifier", "max_tool_calls", "top_logprobs")


def response_id(reply: Reply) -> str:
    """The client-facing response id."""
    return f"resp_{reply.id}"


def response_object(reply: Reply, context: ResponseContext, status: str, output: list[dict], *,
                    usage: Optional[dict] = None, error: Optional[dict] = None,
                    incomplete_reason: Optional[str] = None) -> dict:
    """A full Response object; request fields are echoed with the API's defaults, `store` is always false."""
    echo = context.echo
    obj = {
        "id": response_id(reply),
        "object": "response",
        "created_at": reply.created,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": echo.get("instructions"),
        "max_output_tokens": echo.get("max_output_tokens"),
        "model": reply.model,
        "output": output,
        "parallel_tool_calls": echo.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": echo.get("reasoning", {"effort": None, "summary": None}),
        "service_tier": echo.get("service_tier", "default"),
        "store": False,  # nothing is ever stored, whatever the request asked
        "temperature": echo.get("temperature", 1.0),
        "text": echo.get("text", {"format": {"type": "text"}}),
        "tool_choice": echo.get("tool_choice", "auto"),
        "tools": echo.get("tools", []),
        "top_p": echo.get("top_p", 1.0),
        "truncation": echo.get("truncation", "disabled"),
        "usage": usage,
        "user": echo.get("user"),
        "metadata": echo.get("metadata", {}),
    }
    obj.update({key: echo[key] for key in _OPTIONAL_ECHO if key in echo})
    return obj


def usage_object(usage: Optional[Usage], reply: Reply) -> dict:
    """`usage` from the last Usage event (input falls back to the request estimate)."""
    input_tokens = usage.input_tokens if usage else reply.input_tokens
    output_tokens = usage.output_tokens if usage else 0
    cached = min(usage.cache_read_tokens, input_tokens) if usage else 0
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},  # Kiro does not count reasoning separately
        "total_tokens": input_tokens + output_tokens,
    }


def error_object(err: Exception) -> dict:
    """`response.error` for a mid-stream failure: a code Codex acts on and a readable message."""
    err = as_proxy_error(err)
    message = openai_error_body(err)[1]["error"]["message"]
    if err.kind is ErrorKind.RATE_LIMITED and err.retry_after is not None:
        message = f"{message} Please try again in {max(1, int(err.retry_after))}s."  # Codex reads this
    return {"code": _FAILURE_CODES.get(err.kind, "server_error"), "message": message}

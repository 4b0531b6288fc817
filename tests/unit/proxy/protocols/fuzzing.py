"""Deterministic mutation fuzzing for the protocol parsers.

`mutants(body)` takes a valid request body and yields copies with one value replaced (by a
wrong-typed, null, empty, huge or look-alike value) or one key removed, at every path of the
body. `crashes(parse, bodies)` runs a parser over them and returns what went wrong: any
exception other than a `ProxyError`, an error that is not a 400, a 400 that names no field,
and an accepted body that the estimator or the Kiro request builder then chokes on (each of
those would be a 500 for the client).
"""
from __future__ import annotations

import copy
import traceback
from typing import Any, Callable, Iterable, Iterator

from proxy.chat import Chat
from proxy.errors import ErrorKind, ProxyError
from proxy.estimate import estimate_tokens
from proxy.kiro.request import build_request

# What a careless or hostile client may put anywhere.
ODD_VALUES: list[Any] = [None, [], {}, "", "x", 0, -1, 2.5, 10**30, 1e300, True, [None], [{}], ["x"], [[]],
                         {"type": None}, {"type": 7}, {"type": "x"}]
# Look-alike strings for the keys that select behaviour (types, roles, modes, urls, ids).
SELECTOR_KEYS = {"type", "role", "mode", "effort", "summary", "media_type", "mimeType", "name", "url",
                 "image_url", "data", "thinkingLevel", "display", "tool_choice", "responseMimeType",
                 "arguments", "input", "content", "output", "call_id", "id", "tool_use_id"}
SELECTOR_VALUES = ["user", "assistant", "system", "developer", "model", "function", "tool", "text", "image",
                   "document", "tool_result", "tool_use", "thinking", "server_tool_use", "web_search_tool_result",
                   "mcp_tool_result", "base64", "url", "content", "custom", "web_search_20250305", "auto", "any",
                   "none", "required", "enabled", "adaptive", "json_schema", "json_object", "image_url",
                   "input_audio", "refusal", "message", "function_call", "custom_tool_call", "local_shell_call",
                   "tool_search_call", "function_call_output", "tool_search_output", "reasoning",
                   "web_search_call", "additional_tools", "item_reference", "input_text", "input_image",
                   "namespace", "local_shell", "tool_search", "allowed_tools", "ANY", "NONE", "HIGH",
                   "image/jpg", "application/pdf", "data:image/png;base64,AAAA", "data:image/png;base64,",
                   "data:,", "http://example.test/a.png", "{", "[]", "{}", "null", "a__b"]
MAX_ITEMS = 6  # list items visited per list: enough to reach every kind of entry in the bases


def trimmed(node: Any, items: int = 3) -> Any:
    """A capture cut to fuzzable size: lists to `items` items, strings to 200 characters."""
    if isinstance(node, dict):
        return {key: trimmed(value, items) for key, value in node.items()}
    if isinstance(node, list):
        return [trimmed(value, items) for value in node[:items]]
    if isinstance(node, str):
        return node[:200]
    return node


def paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into `node` (the root included), depth first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node[:MAX_ITEMS]):
            yield from paths(value, prefix + (i,))


def replaced(body: Any, path: tuple, value: Any) -> Any:
    """A deep copy of `body` with the value at `path` replaced."""
    if not path:
        return copy.deepcopy(value)
    out = copy.deepcopy(body)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = copy.deepcopy(value)
    return out


def removed(body: Any, path: tuple) -> Any:
    """A deep copy of `body` without the value at `path`."""
    out = copy.deepcopy(body)
    node = out
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return out


def mutants(body: Any) -> Iterator[tuple[str, Any]]:
    """(description, mutated body) for every single-point change of `body`."""
    for value in (None, [], "x", 1, True, [{}]):
        yield f"body = {value!r}", value
    for path in paths(body):
        values = list(ODD_VALUES)
        if path and path[-1] in SELECTOR_KEYS:
            values += SELECTOR_VALUES
        for value in values:
            yield f"{list(path)} = {value!r}", replaced(body, path, value)
        if path:
            yield f"del {list(path)}", removed(body, path)


def _where(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__} at {frame.filename.rsplit('/main/', 1)[-1]}:{frame.lineno}: {exc}"


def crashes(parse: Callable[[Any], Chat], bodies: Iterable[tuple[str, Any]]) -> list[str]:
    """What went wrong for each body that did not end in a Chat or a 400 naming its field."""
    found: list[str] = []
    for description, body in bodies:
        try:
            chat = parse(body)
        except ProxyError as e:
            if e.kind is not ErrorKind.INVALID_REQUEST:
                found.append(f"{description}: {e.kind.name} instead of a 400 ({e.message})")
            elif isinstance(body, dict) and not e.param:
                found.append(f"{description}: the 400 names no field ({e.message})")
            continue
        except Exception as e:  # the bug this fuzzing looks for
            found.append(f"{description}: parse raised {_where(e)}")
            continue
        try:
            estimate_tokens(chat)
            build_request(chat, model_id="claude-sonnet-4.5", profile_arn=None, conversation_id="c")
        except ProxyError:
            pass  # e.g. a body too large for Kiro: a typed answer, not a crash
        except Exception as e:
            found.append(f"{description}: accepted, then {_where(e)}")
    return found

"""A Gemini `GenerateContentRequest` (or `CountTokensRequest`) to a neutral `Chat`; pure.

The model comes from the URL path (`/v1beta/models/<model>:generateContent`), never the body.
Gemini has no conversation id, so `session_key` stays None.
"""
from __future__ import annotations

from typing import Any, Optional

from proxy.chat import Chat, ResponseFormat, Thinking, Tool, ToolChoice, WebSearch
from proxy.errors import bad_request
from proxy.protocols.gemini.contents import parse_contents, parse_system
from proxy.protocols.gemini.fields import (bad_value, bool_at, float_at, has, int_at, invalid,
                                           join, list_at, obj_at, pick, snake, str_at,
                                           unknown_name)
from proxy.protocols.gemini.schema import to_json_schema

# Every top-level field of GenerateContentRequest; the rest get Google's "Unknown name" 400.
_REQUEST_FIELDS = {"model", "contents", "systemInstruction", "tools", "toolConfig",
                   "safetySettings", "generationConfig", "cachedContent", "labels",
                   "serviceTier", "store"}
_REQUEST_KEYS = _REQUEST_FIELDS | {snake(f) for f in _REQUEST_FIELDS}
_SEARCH_TOOLS = ("googleSearch", "googleSearchRetrieval", "enterpriseWebSearch")
_REFUSED_TOOLS = {
    # a clear 400 beats a model that silently pretends; Gemini CLI's web_fetch then falls
    # back to fetching the page itself
    "urlContext": "urlContext is not supported by this proxy (it cannot fetch URLs for the model)",
    "codeExecution": "codeExecution is not supported by this proxy (it has no code sandbox)",
    "retrieval": "retrieval is not supported by this proxy",
    "fileSearch": "fileSearch is not supported by this proxy",
    "googleMaps": "googleMaps is not supported by this proxy",
    "computerUse": "computerUse is not supported by this proxy",
    "mcpServers": "mcpServers is not supported by this proxy",
}
_EFFORTS = {"MINIMAL": "low", "LOW": "low", "MEDIUM": "medium", "HIGH": "high"}


def parse(body: Any, model: str, stream: bool = False) -> Chat:
    """A GenerateContentRequest as a Chat for `model`."""
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.")
    for key in body:
        if key not in _REQUEST_KEYS:
            raise unknown_name(key)
    if has(body, "cachedContent"):
        raise invalid("cachedContent", "cached contents are not supported: this proxy stores "
                                       "none; send the full contents instead")
    chat = Chat(model=model, messages=parse_contents(pick(body, "contents")), stream=stream,
                system=parse_system(pick(body, "systemInstruction")))
    tools, web_search = _tools(list_at(body, "tools", ""))
    chat.web_search = web_search
    chat.tools, chat.tool_choice = _tool_config(tools, obj_at(body, "toolConfig", ""))
    config = obj_at(body, "generationConfig", "") or {}
    _generation_config(chat, config, "generationConfig")
    return chat


def parse_count_tokens(body: Any, model: str) -> Chat:
    """A CountTokensRequest: plain `contents`, or a whole `generateContentRequest`."""
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.")
    inner = pick(body, "generateContentRequest")
    if inner is not None:
        if not isinstance(inner, dict):
            raise bad_value("generateContentRequest", "TYPE_MESSAGE", inner)
        return parse(inner, model)
    for key in body:
        if key not in ("contents",):
            raise unknown_name(key)
    return Chat(model=model, messages=parse_contents(pick(body, "contents")))


def _tools(entries: list) -> tuple[list[Tool], Optional[WebSearch]]:
    """Function declarations as Tools; a Google Search tool as the proxy's web search."""
    tools: list[Tool] = []
    web_search = None
    for ti, entry in enumerate(entries):
        path = f"tools[{ti}]"
        if not isinstance(entry, dict):
            raise bad_value(path, "TYPE_MESSAGE", entry)
        for key, message in _REFUSED_TOOLS.items():
            if has(entry, key):
                raise invalid(join(path, key), message)
        if any(has(entry, key) for key in _SEARCH_TOOLS):
            web_search = WebSearch(tool_name="google_search")
        for di, decl in enumerate(list_at(entry, "functionDeclarations", path)):
            tool = _declaration(decl, f"{path}.functionDeclarations[{di}]")
            if any(t.name == tool.name for t in tools):
                raise invalid(f"{path}.functionDeclarations[{di}].name",
                              f"Duplicate function declaration found: {tool.name}")
            tools.append(tool)
    return tools, web_search


def _declaration(decl: Any, path: str) -> Tool:
    """One FunctionDeclaration; `parametersJsonSchema` wins over the OpenAPI-style `parameters`."""
    if not isinstance(decl, dict):
        raise bad_value(path, "TYPE_MESSAGE", decl)
    name = str_at(decl, "name", path)
    if not name:
        raise invalid(join(path, "name"), "function name must not be empty")
    schema = pick(decl, "parametersJsonSchema")
    field = "parametersJsonSchema"
    if schema is None:
        schema, field = pick(decl, "parameters"), "parameters"
    if schema is None:
        schema = {"type": "object", "properties": {}}
    if not isinstance(schema, dict):
        raise bad_value(join(path, field), "TYPE_MESSAGE", schema)
    return Tool(name=name, description=str_at(decl, "description", path) or "",
                schema=to_json_schema(schema))


def _tool_config(tools: list[Tool], config: Optional[dict]) -> tuple[list[Tool], ToolChoice]:
    """functionCallingConfig's mode and allowed names as a ToolChoice (and a filtered tool list)."""
    calling = obj_at(config, "functionCallingConfig", "toolConfig") if config else None
    if not calling:
        return tools, ToolChoice()
    path = "toolConfig.functionCallingConfig"
    mode = (str_at(calling, "mode", path) or "AUTO").upper()
    allowed = list_at(calling, "allowedFunctionNames", path)
    for i, name in enumerate(allowed):
        if not any(t.name == name for t in tools):
            raise invalid(f"{path}.allowedFunctionNames[{i}]",
                          f"function {name!r} is not among the declared functions")
    if allowed:
        tools = [t for t in tools if t.name in allowed]
    if mode in ("AUTO", "VALIDATED", "MODE_UNSPECIFIED"):
        return tools, ToolChoice("auto")
    if mode == "NONE":
        return tools, ToolChoice("none")
    if mode == "ANY":
        if len(allowed) == 1:
            return tools, ToolChoice("tool", allowed[0])
        return tools, ToolChoice("any")
    raise invalid(join(path, "mode"), f'unknown mode "{mode}"; use AUTO, ANY, NONE or VALIDATED')


def _generation_config(chat: Chat, config: dict, path: str) -> None:
    """Limits, sampling, stop sequences, structured output and thinking."""
    chat.max_tokens = int_at(config, "maxOutputTokens", path)
    if chat.max_tokens is not None and chat.max_tokens <= 0:
        raise invalid(join(path, "maxOutputTokens"), "must be a positive number")
    chat.temperature = float_at(config, "temperature", path)
    chat.top_p = float_at(config, "topP", path)
    # topK, seed, penalties, logprobs: Kiro has no knob for them; accepted and ignored
    stops = list_at(config, "stopSequences", path)
    for i, stop in enumerate(stops):
        if not isinstance(stop, str):
            raise bad_value(f"{path}.stopSequences[{i}]", "TYPE_STRING", stop)
    chat.stop_sequences = [s for s in stops if s]
    count = int_at(config, "candidateCount", path)
    if count is not None and count > 1:
        raise invalid(join(path, "candidateCount"),
                      "only one candidate is supported; set candidateCount to 1")
    modalities = list_at(config, "responseModalities", path)
    if any(str(m).upper() not in ("TEXT", "MODALITY_UNSPECIFIED") for m in modalities):
        raise invalid(join(path, "responseModalities"), "this proxy can only answer with TEXT")
    chat.response_format = _response_format(config, path)
    chat.thinking = _thinking(obj_at(config, "thinkingConfig", path), join(path, "thinkingConfig"))


def _response_format(config: dict, path: str) -> Optional[ResponseFormat]:
    """responseMimeType + responseSchema / responseJsonSchema as a ResponseFormat."""
    mime = (str_at(config, "responseMimeType", path) or "").strip().lower()
    schema = pick(config, "responseJsonSchema")
    field = "responseJsonSchema"
    if schema is None:
        schema, field = pick(config, "responseSchema"), "responseSchema"
    if schema is not None and not isinstance(schema, dict):
        raise bad_value(join(path, field), "TYPE_MESSAGE", schema)
    if mime in ("", "text/plain") and schema is None:
        return None
    if mime not in ("", "application/json"):
        raise invalid(join(path, "responseMimeType"),
                      f'unsupported response MIME type "{mime}"; use text/plain or '
                      "application/json")
    if schema is None:
        return ResponseFormat(type="json_object")
    return ResponseFormat(type="json_schema", schema=to_json_schema(schema), name="response")


def _thinking(config: Optional[dict], path: str) -> Optional[Thinking]:
    """thinkingConfig: a budget (0 off, -1 adaptive), or a level (adaptive effort)."""
    if not config:
        return None
    include = bool(bool_at(config, "includeThoughts", path))
    budget = int_at(config, "thinkingBudget", path)
    level = str_at(config, "thinkingLevel", path)
    if budget is not None and level is not None:
        raise invalid(path, "thinkingBudget and thinkingLevel cannot be used together")
    if level is not None:
        level = level.upper()
        if level == "THINKING_LEVEL_UNSPECIFIED":
            return Thinking(mode="adaptive", include=include)
        if level not in _EFFORTS:
            raise invalid(join(path, "thinkingLevel"),
                          f'unknown level "{level}"; use MINIMAL, LOW, MEDIUM or HIGH')
        return Thinking(mode="adaptive", effort=_EFFORTS[level], include=include)
    if budget is None:  # includeThoughts alone asks for the model's default reasoning
        return Thinking(mode="adaptive", include=True) if include else None
    if budget == 0:
        return None
    if budget < 0:  # -1 is Gemini's "dynamic" budget
        return Thinking(mode="adaptive", include=include)
    return Thinking(mode="enabled", budget_tokens=budget, include=include)

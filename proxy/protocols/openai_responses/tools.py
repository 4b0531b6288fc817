"""Responses `tools` and `tool_choice` -> neutral `Tool`s, the web-search offer and the tool registry.

Decisions (see the package docstring for the full list):
- `function` keeps its JSON schema; `custom` (freeform, e.g. `apply_patch` or code mode's `exec`)
  becomes a one-string-field tool `{input}` whose description carries the grammar; `local_shell`
  becomes a function `local_shell{command[], workdir?, timeout_ms?}`; `tool_search` (client
  execution) becomes a function `tool_search`. The registry remembers each kind so calls render back
  as `custom_tool_call`, `local_shell_call` or `tool_search_call`.
- `namespace` tools are flattened to `<namespace>__<name>`; calls render back with `namespace` set.
- Any `web_search*` tool sets `chat.web_search`; the relay serves it.
- Hosted tools this proxy cannot run (file_search, computer use, code_interpreter, image_generation,
  mcp, hosted shell/apply_patch) are dropped with a warning, so a client's default tool set still works.
- Tools declared with `defer_loading: true` are held back until the conversation uses them or a
  `tool_search_output` loads them, as the Responses API does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from proxy.chat import Tool, ToolChoice, WebSearch
from proxy.errors import bad_request
from proxy.protocols.openai_responses.context import ClientTool, ToolKind, kiro_tool_name

_HOSTED_IGNORED = {
    "file_search", "computer", "computer_use", "computer_use_preview", "code_interpreter",
    "image_generation", "mcp", "shell", "apply_patch", "programmatic_tool_calling",
}

_FREEFORM_NOTE = ("This is a freeform tool: pass its raw input text as the string argument `input` "
                  "(the text itself is not JSON).")

LOCAL_SHELL_SCHEMA = {
    "type": "object",
    "properties": {
        "command": {"type": "array", "items": {"type": "string"},
                    "description": 'The program and its arguments, e.g. ["bash", "-lc", "ls -la"].'},
        "workdir": {"type": "string", "description": "Working directory for the command (optional)."},
        "timeout_ms": {"type": "integer", "description": "Timeout in milliseconds (optional)."},
    },
    "required": ["command"],
}
LOCAL_SHELL_DESCRIPTION = "Runs a shell command on the user's machine and returns its output."

TOOL_SEARCH_SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "Search query for tools."},
        "limit": {"type": "number", "description": "Maximum number of tools to return."},
    },
    "required": ["query"],
}
TOOL_SEARCH_DESCRIPTION = "Searches for more tools; the tools it finds become available afterwards."


def freeform_schema(input_description: str) -> dict:
    """The schema every custom (freeform) tool gets: one required string `input`."""
    return {"type": "object",
            "properties": {"input": {"type": "string", "description": input_description}},
            "required": ["input"]}


@dataclass
class ToolSet:
    """The tools of one request as Kiro will see them, and how each maps back to the client."""
    tools: list[Tool] = field(default_factory=list)
    registry: dict[str, ClientTool] = field(default_factory=dict)
    web_search: Optional[WebSearch] = None
    deferred: dict[str, Tool] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add_all(self, tools: Any, param: str, *, load_deferred: bool = False) -> None:
        """Add every entry of a `tools` list (top level, `additional_tools` or `tool_search_output`)."""
        if not isinstance(tools, list):
            raise bad_request(f"{param} must be an array of tools.", param)
        for i, tool in enumerate(tools):
            self.add(tool, f"{param}[{i}]", load_deferred=load_deferred)

    def add(self, tool: Any, param: str, *, namespace: Optional[str] = None,
            load_deferred: bool = False) -> None:
        """Add one tool entry of any type; namespaces are flattened."""
        if not isinstance(tool, dict):
            raise bad_request(f"{param} must be an object.", param)
        kind = tool.get("type")
        if not isinstance(kind, str):
            raise bad_request(f"{param}.type is required and must be a string.", f"{param}.type")
        if kind == "namespace" and namespace is None:
            ns = _required_str(tool, "name", param)
            inner = tool.get("tools") or []
            if not isinstance(inner, list):
                raise bad_request(f"{param}.tools must be an array.", f"{param}.tools")
            for j, sub in enumerate(inner):
                self.add(sub, f"{param}.tools[{j}]", namespace=ns, load_deferred=load_deferred)
        elif kind == "function":
            name = _required_str(tool, "name", param)
            schema = tool.get("parameters")
            if schema is None:
                schema = {"type": "object", "properties": {}}
            elif not isinstance(schema, dict):
                raise bad_request(f"{param}.parameters must be a JSON Schema object.", f"{param}.parameters")
            self._register("function", name, namespace, _description(tool, param), schema,
                           deferred=tool.get("defer_loading") is True and not load_deferred)
        elif kind == "custom":
            name = _required_str(tool, "name", param)
            description, input_description = _freeform_text(tool, param)
            self._register("custom", name, namespace, description, freeform_schema(input_description),
                           deferred=tool.get("defer_loading") is True and not load_deferred)
        elif namespace is not None:
            raise bad_request(f"{param}: a namespace may hold only function and custom tools, not {kind!r}.",
                              f"{param}.type")
        elif kind == "local_shell":
            self._register("local_shell", "local_shell", None, LOCAL_SHELL_DESCRIPTION, LOCAL_SHELL_SCHEMA)
        elif kind == "tool_search":
            schema = tool.get("parameters")
            if not isinstance(schema, dict):
                schema = TOOL_SEARCH_SCHEMA
            self._register("tool_search", "tool_search", None,
                           _description(tool, param) or TOOL_SEARCH_DESCRIPTION, schema)
        elif kind.startswith("web_search"):
            if self.web_search is None:
                self.web_search = WebSearch()
        elif kind in _HOSTED_IGNORED:
            self.warnings.append(f"{param}: the hosted tool {kind!r} is not available through this proxy; ignored.")
        else:
            self.warnings.append(f"{param}: unknown tool type {kind!r}; ignored.")

    def use(self, kiro_name: str) -> None:
        """A deferred tool the conversation refers to is offered from now on."""
        tool = self.deferred.pop(kiro_name, None)
        if tool is not None:
            self.tools.append(tool)

    def find(self, name: str, namespace: Optional[str] = None) -> Optional[str]:
        """The Kiro name of the client tool called `name` (optionally in `namespace`), if declared."""
        exact = kiro_tool_name(name, namespace)
        if exact in self.registry:
            return exact
        if namespace is None:
            matches = [k for k, t in self.registry.items() if t.name == name]
            if len(matches) == 1:
                return matches[0]
        return None

    def _register(self, kind: ToolKind, name: str, namespace: Optional[str], description: str,
                  schema: dict, *, deferred: bool = False) -> None:
        kiro_name = kiro_tool_name(name, namespace)
        if kiro_name in self.registry:
            if kiro_name in self.deferred and not deferred:
                self.use(kiro_name)  # a tool_search_output loads a tool declared as deferred
            return  # first declaration wins: clients repeat tools across additional_tools items
        self.registry[kiro_name] = ClientTool(kind, name, namespace)
        tool = Tool(name=kiro_name, description=description, schema=schema)
        if deferred:
            self.deferred[kiro_name] = tool
        else:
            self.tools.append(tool)


def parse_tool_choice(choice: Any, toolset: ToolSet) -> ToolChoice:
    """`tool_choice` -> ToolChoice; a named tool must be among the declared ones."""
    if choice is None or choice == "auto":
        return ToolChoice("auto")
    if choice == "none":
        return ToolChoice("none")
    if choice == "required":
        if not toolset.registry and toolset.web_search is None:
            raise bad_request("tool_choice is 'required' but the request offers no tools.", "tool_choice")
        return ToolChoice("any")
    if not isinstance(choice, dict):
        raise bad_request("tool_choice must be 'auto', 'none', 'required' or an object.", "tool_choice")
    kind = choice.get("type")
    if kind in ("function", "custom"):
        name = choice.get("name")
        if not isinstance(name, str) or not name:
            raise bad_request("tool_choice.name is required and must be a string.", "tool_choice.name")
        namespace = choice.get("namespace") if isinstance(choice.get("namespace"), str) else None
        kiro_name = toolset.find(name, namespace)
        if kiro_name is None:
            raise bad_request(f"tool_choice names the tool {name!r}, which is not among the request's tools.",
                              "tool_choice.name")
        toolset.use(kiro_name)
        return ToolChoice("tool", kiro_name)
    if kind == "allowed_tools":
        mode = choice.get("mode", "auto")
        if mode not in ("auto", "required"):
            raise bad_request("tool_choice.mode must be 'auto' or 'required'.", "tool_choice.mode")
        return ToolChoice("any" if mode == "required" else "auto")
    if isinstance(kind, str) and kind.startswith("web_search") and toolset.web_search is not None:
        return ToolChoice("tool", toolset.web_search.tool_name)
    if kind == "local_shell" and "local_shell" in toolset.registry:
        return ToolChoice("tool", "local_shell")
    raise bad_request(f"tool_choice of type {kind!r} is not supported here (the tool is not offered or "
                      "not available through this proxy).", "tool_choice.type")


def _required_str(tool: dict, key: str, param: str) -> str:
    value = tool.get(key)
    if not isinstance(value, str) or not value:
        raise bad_request(f"{param}.{key} is required and must be a non-empty string.", f"{param}.{key}")
    return value


def _description(tool: dict, param: str) -> str:
    value = tool.get("description")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request(f"{param}.description must be a string.", f"{param}.description")
    return value


def _freeform_text(tool: dict, param: str) -> tuple[str, str]:
    """(tool description, `input` description) for a custom tool, with its input format spelled out."""
    fmt = tool.get("format")
    if fmt is not None and not isinstance(fmt, dict):
        raise bad_request(f"{param}.format must be an object.", f"{param}.format")
    note, input_description = _FREEFORM_NOTE, "The raw input text for this tool."
    if fmt and fmt.get("type") == "grammar":
        syntax = fmt.get("syntax") if isinstance(fmt.get("syntax"), str) else "lark"
        definition = fmt.get("definition")
        if not isinstance(definition, str) or not definition.strip():
            raise bad_request(f"{param}.format.definition is required for a grammar format.",
                              f"{param}.format.definition")
        note += f" The text must match this {syntax} grammar:\n```\n{definition.strip()}\n```"
        input_description = f"The raw input text; it must match the {syntax} grammar in the tool description."
    base = _description(tool, param)
    return (f"{base}\n\n{note}" if base else note), input_description

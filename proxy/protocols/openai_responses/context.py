"""What the Responses renderer must know about one request besides the stream events.

Kiro sees one flat list of JSON-schema tools. The Responses API has several tool kinds
(function, freeform `custom`, `local_shell`, client `tool_search`) and namespaces, and each
kind comes back as a different output item. The parser records, per Kiro-side tool name,
which client tool it stands for; the renderer looks calls up here to emit the right item.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

ToolKind = Literal["function", "custom", "local_shell", "tool_search"]

# Kiro tool names allow [a-zA-Z0-9_-]; a double underscore keeps namespace and name apart
# and is the spelling Codex itself uses when it flattens namespaces (e.g. `clock__sleep`).
NAMESPACE_SEPARATOR = "__"


def kiro_tool_name(name: str, namespace: Optional[str] = None) -> str:
    """The flat name Kiro sees: `<namespace>__<name>` for a namespaced tool, else `name`."""
    return f"{namespace}{NAMESPACE_SEPARATOR}{name}" if namespace else name


@dataclass(frozen=True)
class ClientTool:
    """The client's tool behind one Kiro tool name: its kind, own name and namespace."""
    kind: ToolKind
    name: str
    namespace: Optional[str] = None


@dataclass
class ResponseContext:
    """Per-request facts for rendering: client tools by Kiro name, echoed request fields, reasoning visibility."""
    tools: dict[str, ClientTool] = field(default_factory=dict)
    echo: dict = field(default_factory=dict)  # request fields every Response object repeats
    show_reasoning: bool = True

    def client_tool(self, kiro_name: str) -> ClientTool:
        """The client tool behind a Kiro tool name; a name nobody declared is rendered as a plain function."""
        # no guessing a namespace from "__": Codex's own MCP tools are top-level `mcp__server__tool`
        return self.tools.get(kiro_name) or ClientTool("function", kiro_name)

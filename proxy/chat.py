"""The neutral conversation model: every protocol converts to and from these types only.

A client request becomes a `Chat`; the upstream answer comes back as a sequence of
`StreamEvent`s. No protocol module knows another protocol or Kiro's JSON, and nothing
in here does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Union

Role = Literal["user", "assistant"]
StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal"]


# ---------------------------------------------------------------- request parts

@dataclass
class TextPart:
    """Plain text."""
    text: str


@dataclass
class ImagePart:
    """An inline image; `data` is base64 without a `data:` prefix."""
    media_type: str  # image/png, image/jpeg, image/gif, image/webp
    data: str


@dataclass
class ToolCallPart:
    """An assistant's call of a client tool; `arguments` is the parsed JSON object."""
    id: str
    name: str
    arguments: dict


@dataclass
class ToolResultPart:
    """The client's answer to a tool call, as text (plus any images the tool returned)."""
    call_id: str
    content: str
    is_error: bool = False
    images: list[ImagePart] = field(default_factory=list)


@dataclass
class ThinkingPart:
    """Reasoning text the model produced in an earlier turn (replayed by the client)."""
    text: str
    signature: str = ""


Part = Union[TextPart, ImagePart, ToolCallPart, ToolResultPart, ThinkingPart]


@dataclass
class Message:
    """One turn. Protocols fold their extra roles (system inside messages, developer, tool)
    into these two: tool results travel in user turns, tool calls in assistant turns."""
    role: Role
    parts: list[Part]

    def text(self) -> str:
        """The turn's plain text parts joined; tool parts are not included."""
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))


# ---------------------------------------------------------------- request options

@dataclass
class Tool:
    """A client-side function tool. `schema` is a JSON Schema object for its input."""
    name: str
    description: str
    schema: dict


@dataclass
class ToolChoice:
    """auto: model decides; any: must call some tool; tool: must call `name`; none: no tools."""
    mode: Literal["auto", "any", "tool", "none"] = "auto"
    name: Optional[str] = None


@dataclass
class Thinking:
    """Extended reasoning request. `enabled` carries a token budget, `adaptive` an effort."""
    mode: Literal["enabled", "adaptive"]
    budget_tokens: Optional[int] = None
    effort: Optional[str] = None  # low | medium | high | max
    include: bool = True  # False: reason, but do not show the reasoning to the client


@dataclass
class ResponseFormat:
    """Structured output: `json_object` (any JSON object) or `json_schema` (fits `schema`)."""
    type: Literal["json_object", "json_schema"]
    schema: Optional[dict] = None
    name: Optional[str] = None


@dataclass
class WebSearch:
    """The client offered a server-side web search tool; the proxy serves it via Kiro MCP."""
    tool_name: str = "web_search"
    max_uses: Optional[int] = None


@dataclass
class Chat:
    """One client request, whatever protocol it came in."""
    model: str  # the client's model name, echoed back; mapped to a Kiro id later
    messages: list[Message]
    system: str = ""
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice = field(default_factory=ToolChoice)
    max_tokens: Optional[int] = None
    temperature: Optional[float] = None
    top_p: Optional[float] = None
    stop_sequences: list[str] = field(default_factory=list)
    stream: bool = False
    thinking: Optional[Thinking] = None
    response_format: Optional[ResponseFormat] = None
    web_search: Optional[WebSearch] = None
    session_key: Optional[str] = None  # conversation identity for account stickiness


# ---------------------------------------------------------------- response events

@dataclass(frozen=True)
class TextDelta:
    """A piece of visible answer text."""
    text: str


@dataclass(frozen=True)
class ThinkingDelta:
    """A piece of reasoning text; a final one may carry only a `signature`."""
    text: str = ""
    signature: str = ""


@dataclass(frozen=True)
class ToolCallStart:
    """The model begins a client tool call."""
    id: str
    name: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A fragment of the tool call's JSON arguments, as the upstream streamed it."""
    id: str
    fragment: str


@dataclass(frozen=True)
class ToolCallEnd:
    """The tool call is complete; `arguments` is the parsed object of all fragments."""
    id: str
    arguments: dict


@dataclass(frozen=True)
class ServerToolCall:
    """The proxy ran a server-side tool (web search) on the model's behalf."""
    id: str
    name: str
    input: dict


@dataclass(frozen=True)
class ServerToolResult:
    """Results of a server-side tool: for web search, dicts with title, url, snippet."""
    id: str
    name: str
    results: list
    error: Optional[str] = None


@dataclass(frozen=True)
class Usage:
    """Token counts for the request so far; the last one wins.

    `input_tokens` is the whole input, cached part included; `cache_read_tokens` says how
    much of it Kiro served from its prompt cache (Anthropic's uncached figure is the difference).
    """
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    credits: Optional[float] = None


@dataclass(frozen=True)
class Stop:
    """The answer is finished."""
    reason: StopReason
    stop_sequence: Optional[str] = None


@dataclass(frozen=True)
class StreamError:
    """The upstream failed after the answer had started; renderers emit their in-stream error."""
    error: "ProxyErrorLike"


@dataclass(frozen=True)
class Ping:
    """Nothing arrived for a while: renderers emit their keep-alive."""


StreamEvent = Union[TextDelta, ThinkingDelta, ToolCallStart, ToolCallDelta, ToolCallEnd,
                    ServerToolCall, ServerToolResult, Usage, Stop, StreamError, Ping]

# proxy.errors.ProxyError; named loosely here to keep this module import-free.
ProxyErrorLike = Exception


@dataclass
class Reply:
    """What a renderer needs besides the events: identity and the pre-computed input size."""
    id: str
    model: str  # the client's model name, echoed back
    created: int  # unix seconds
    input_tokens: int  # estimate, used where a protocol needs it before the upstream says

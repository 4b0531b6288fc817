"""StreamEvents -> Responses output items and the stream events that build them. A pure state machine.

Each output item is announced (`response.output_item.added`), filled by its delta events, and
closed (`response.output_item.done`); Codex keeps only the `.done` forms and ends the turn only on
`response.completed`, so every item that was added is closed before `response.completed` or
`response.incomplete` (save a truncated call, below). `response.failed` closes nothing: a `.done` item is final for the client
(Codex records it and may dispatch a tool call at once) while a failed turn is retried whole, so
a half-made item must never be finished there.
Function calls stream their argument fragments as they come. Freeform (`custom`), `local_shell`
and `tool_search` calls appear whole once the call is complete, because their client form is not
the JSON Kiro streams. A call cut short by max_tokens is never finished, of any kind: a truncated
patch or command must not run (a function call's `.added` and deltas may have gone out; its
`.done` never does). Item ids are `<prefix>_<reply id>_<output index>`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

from proxy.chat import (Ping, Reply, ServerToolCall, ServerToolResult, Stop, StreamError, StreamEvent,
                        TextDelta, ThinkingDelta, ToolCallDelta, ToolCallEnd, ToolCallStart, Usage)
from proxy.protocols.openai_responses.context import ClientTool, ResponseContext
from proxy.protocols.openai_responses.response import error_object, response_object, usage_object

Emitted = tuple[str, dict]  # (event type, fields besides `type` and `sequence_number`)

_PREFIX = {"message": "msg", "reasoning": "rs", "function": "fc", "custom": "ctc", "local_shell": "lsh",
           "tool_search": "ts", "web_search": "ws"}
_INCOMPLETE_REASON = {"max_tokens": "max_output_tokens", "refusal": "content_filter"}


@dataclass
class _Text:
    """An open message or reasoning item."""
    kind: str
    index: int
    id: str
    chunks: list[str] = field(default_factory=list)


@dataclass
class _Call:
    """An open client tool call; only function calls have an output index before they end."""
    tool: ClientTool
    call_id: str
    fragments: list[str] = field(default_factory=list)
    index: Optional[int] = None
    id: str = ""


@dataclass
class _Search:
    """An open web search the proxy runs for the model."""
    index: int
    id: str
    query: str


class OutputBuilder:
    """Consumes one answer's StreamEvents; `final` holds the finished Response object."""

    def __init__(self, reply: Reply, context: ResponseContext):
        self.reply, self.context = reply, context
        self.items: list[Optional[dict]] = []  # done forms by output index; None while open
        self.final: Optional[dict] = None
        self._text: Optional[_Text] = None
        self._calls: dict[str, _Call] = {}
        self._searches: dict[str, _Search] = {}
        self._usage: Optional[Usage] = None

    @property
    def done(self) -> bool:
        """True once a terminal event (completed, incomplete or failed) was produced."""
        return self.final is not None

    def start(self) -> list[Emitted]:
        """response.created and response.in_progress."""
        snapshot = response_object(self.reply, self.context, "in_progress", [])
        return [("response.created", {"response": snapshot}), ("response.in_progress", {"response": snapshot})]

    def feed(self, event: StreamEvent) -> list[Emitted]:
        """The stream events one StreamEvent produces (none after the terminal event)."""
        if self.done or isinstance(event, Ping):
            return []
        if isinstance(event, TextDelta):
            return self._text_delta("message", event.text) if event.text else []
        if isinstance(event, ThinkingDelta):
            show = event.text and self.context.show_reasoning
            return self._text_delta("reasoning", event.text) if show else []
        if isinstance(event, ToolCallStart):
            return self._call_start(event)
        if isinstance(event, ToolCallDelta):
            return self._call_delta(event)
        if isinstance(event, ToolCallEnd):
            call = self._calls.pop(event.id, None)
            return self._call_end(call, event.arguments) if call else []
        if isinstance(event, ServerToolCall):
            return self._search_start(event)
        if isinstance(event, ServerToolResult):
            return self._search_end(event)
        if isinstance(event, Usage):
            self._usage = event
            return []
        if isinstance(event, Stop):
            return self.finish(event)
        if isinstance(event, StreamError):
            return self.fail(event.error)
        return []

    def finish(self, stop: Stop) -> list[Emitted]:
        """Close what is open and produce response.completed (or .incomplete when cut short)."""
        reason = _INCOMPLETE_REASON.get(stop.reason)
        out = self._close_text("incomplete" if reason else "completed")
        # A call still open was cut off by max_tokens. It is never finished: Codex runs every
        # function_call `.done` item it receives, whatever its status, so a truncated call announced
        # by `.added` stays unfinished and is left out of the response's output.
        self._calls.clear()
        for search in list(self._searches.values()):
            out.append(self._item_done(search.index, self._search_item(search, "incomplete")))
        self._searches.clear()
        status = "incomplete" if reason else "completed"
        self.final = response_object(self.reply, self.context, status, self._output(),
                                     usage=usage_object(self._usage, self.reply), incomplete_reason=reason)
        out.append((f"response.{status}", {"response": self.final}))
        return out

    def fail(self, error: Exception) -> list[Emitted]:
        """response.failed with the error; Codex retries the turn (or stops, by the error code)."""
        usage = usage_object(self._usage, self.reply) if self._usage else None
        self.final = response_object(self.reply, self.context, "failed", self._output(), usage=usage,
                                     error=error_object(error))
        return [("response.failed", {"response": self.final})]

    # ---------------------------------------------------------------- message and reasoning items

    def _text_delta(self, kind: str, text: str) -> list[Emitted]:
        out: list[Emitted] = []
        current = self._text
        if current is None or current.kind != kind:
            out += self._close_text("completed")
            index, item_id = self._reserve(kind)
            current = self._text = _Text(kind, index, item_id)
            out += self._open_text(current)
        current.chunks.append(text)
        if kind == "message":
            out.append(("response.output_text.delta", {**self._ref(current), "content_index": 0,
                                                       "delta": text, "logprobs": []}))
        else:
            out.append(("response.reasoning_summary_text.delta", {**self._ref(current), "summary_index": 0,
                                                                  "delta": text}))
        return out

    def _open_text(self, text: _Text) -> list[Emitted]:
        index, item_id, kind = text.index, text.id, text.kind
        if kind == "message":
            item = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
            part = ("response.content_part.added", {**self._ref(text), "content_index": 0,
                                                     "part": _output_text("")})
        else:
            item = {"id": item_id, "type": "reasoning", "summary": []}
            part = ("response.reasoning_summary_part.added", {**self._ref(text), "summary_index": 0,
                                                               "part": {"type": "summary_text", "text": ""}})
        return [("response.output_item.added", {"output_index": index, "item": item}), part]

    def _close_text(self, status: str) -> list[Emitted]:
        text, self._text = self._text, None
        if text is None:
            return []
        full = "".join(text.chunks)
        ref = self._ref(text)
        if text.kind == "message":
            part = _output_text(full)
            item = {"id": text.id, "type": "message", "status": status, "role": "assistant", "content": [part]}
            return [("response.output_text.done", {**ref, "content_index": 0, "text": full, "logprobs": []}),
                    ("response.content_part.done", {**ref, "content_index": 0, "part": part}),
                    self._item_done(text.index, item)]
        part = {"type": "summary_text", "text": full}
        item = {"id": text.id, "type": "reasoning", "summary": [part]}
        return [("response.reasoning_summary_text.done", {**ref, "summary_index": 0, "text": full}),
                ("response.reasoning_summary_part.done", {**ref, "summary_index": 0, "part": part}),
                self._item_done(text.index, item)]

    # ---------------------------------------------------------------- client tool calls

    def _call_start(self, event: ToolCallStart) -> list[Emitted]:
        out = self._close_text("completed")
        call = _Call(self.context.client_tool(event.name), event.id)
        self._calls[event.id] = call
        if call.tool.kind == "function":
            call.index, call.id = self._reserve("function")
            out.append(("response.output_item.added",
                        {"output_index": call.index, "item": self._function_item(call, "in_progress", "")}))
        return out

    def _call_delta(self, event: ToolCallDelta) -> list[Emitted]:
        call = self._calls.get(event.id)
        if call is None or not event.fragment:
            return []
        call.fragments.append(event.fragment)
        if call.index is None:
            return []
        return [("response.function_call_arguments.delta", {**self._ref(call), "delta": event.fragment})]

    def _call_end(self, call: _Call, arguments: dict) -> list[Emitted]:
        kind = call.tool.kind
        if kind == "function":
            return self._function_end(call, arguments)
        call.index, call.id = self._reserve(kind)
        ref = self._ref(call)
        if kind == "custom":
            text = _custom_input(arguments)
            out = [("response.output_item.added", {"output_index": call.index,
                                                   "item": self._custom_item(call, "in_progress", "")})]
            if text:
                out.append(("response.custom_tool_call_input.delta", {**ref, "delta": text}))
            out.append(("response.custom_tool_call_input.done", {**ref, "input": text}))
            return out + [self._item_done(call.index, self._custom_item(call, "completed", text))]
        if kind == "local_shell":
            item = {"id": call.id, "type": "local_shell_call", "status": "in_progress", "call_id": call.call_id,
                    "action": _shell_action(arguments)}
        else:
            item = {"id": call.id, "type": "tool_search_call", "status": "in_progress", "call_id": call.call_id,
                    "execution": "client", "arguments": arguments}
        return [("response.output_item.added", {"output_index": call.index, "item": item}),
                self._item_done(call.index, {**item, "status": "completed"})]

    def _function_end(self, call: _Call, arguments: dict) -> list[Emitted]:
        out: list[Emitted] = []
        streamed = "".join(call.fragments)
        if not streamed:  # the upstream sent the input whole: still give the client one delta
            streamed = json.dumps(arguments, ensure_ascii=False)
            out.append(("response.function_call_arguments.delta", {**self._ref(call), "delta": streamed}))
        # the done form must be valid JSON for the arguments Kiro parsed; keep the streamed text when it is
        text = streamed if _loads(streamed) == arguments else json.dumps(arguments, ensure_ascii=False)
        out.append(("response.function_call_arguments.done", {**self._ref(call), "arguments": text}))
        out.append(self._item_done(call.index or 0, self._function_item(call, "completed", text)))
        return out

    def _function_item(self, call: _Call, status: str, arguments: str) -> dict:
        item = {"id": call.id, "type": "function_call", "status": status, "call_id": call.call_id,
                "name": call.tool.name}
        if call.tool.namespace:
            item["namespace"] = call.tool.namespace
        item["arguments"] = arguments
        return item

    def _custom_item(self, call: _Call, status: str, text: str) -> dict:
        item = {"id": call.id, "type": "custom_tool_call", "status": status, "call_id": call.call_id,
                "name": call.tool.name}
        if call.tool.namespace:
            item["namespace"] = call.tool.namespace
        item["input"] = text
        return item

    # ---------------------------------------------------------------- web search (run by the proxy)

    def _search_start(self, event: ServerToolCall) -> list[Emitted]:
        out = self._close_text("completed")
        index, item_id = self._reserve("web_search")
        query = event.input.get("query") if isinstance(event.input.get("query"), str) else ""
        search = self._searches[event.id] = _Search(index, item_id, query)
        ref = self._ref(search)
        return out + [("response.output_item.added",
                       {"output_index": index, "item": self._search_item(search, "in_progress")}),
                      ("response.web_search_call.in_progress", ref),
                      ("response.web_search_call.searching", ref)]

    def _search_end(self, event: ServerToolResult) -> list[Emitted]:
        search = self._searches.pop(event.id, None)
        if search is None:
            return []
        if event.error:
            return [self._item_done(search.index, self._search_item(search, "failed"))]
        sources = [{"type": "url", "url": r["url"]} for r in event.results
                   if isinstance(r, dict) and isinstance(r.get("url"), str)]
        return [("response.web_search_call.completed", self._ref(search)),
                self._item_done(search.index, self._search_item(search, "completed", sources))]

    @staticmethod
    def _search_item(search: _Search, status: str, sources: Optional[list] = None) -> dict:
        action: dict = {"type": "search", "query": search.query}
        if sources is not None:
            action["sources"] = sources
        return {"id": search.id, "type": "web_search_call", "status": status, "action": action}

    # ---------------------------------------------------------------- bookkeeping

    def _reserve(self, kind: str) -> tuple[int, str]:
        index = len(self.items)
        self.items.append(None)
        return index, f"{_PREFIX[kind]}_{self.reply.id}_{index}"

    def _item_done(self, index: int, item: dict) -> Emitted:
        self.items[index] = item
        return ("response.output_item.done", {"output_index": index, "item": item})

    @staticmethod
    def _ref(open_item) -> dict:
        return {"item_id": open_item.id, "output_index": open_item.index}

    def _output(self) -> list[dict]:
        return [item for item in self.items if item is not None]


def _output_text(text: str) -> dict:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _custom_input(arguments: dict) -> str:
    """The raw text of a freeform call: the `input` string (or a lone string argument the model chose)."""
    value = arguments.get("input")
    if isinstance(value, str):
        return value
    strings = [v for v in arguments.values() if isinstance(v, str)]
    if len(arguments) == 1 and strings:
        return strings[0]
    return json.dumps(arguments, ensure_ascii=False) if arguments else ""


def _shell_action(arguments: dict) -> dict:
    """Our local_shell arguments -> the client's exec action (a bare string command runs in bash -lc)."""
    command = arguments.get("command")
    if isinstance(command, str):
        command = ["bash", "-lc", command]
    elif isinstance(command, list):
        command = [c if isinstance(c, str) else json.dumps(c) for c in command]
    else:
        command = []
    env = arguments.get("env")
    timeout = arguments.get("timeout_ms")
    workdir = arguments.get("workdir")
    return {"type": "exec", "command": command,
            "env": {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {},
            "timeout_ms": timeout if isinstance(timeout, int) and not isinstance(timeout, bool) else None,
            "user": None,
            "working_directory": workdir if isinstance(workdir, str) else None}

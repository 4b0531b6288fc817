"""The Chat Completions adapter object that proxy/serving.py drives."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from proxy.chat import Reply, StreamEvent
from proxy.errors import ProxyError
from proxy.protocols.openai_chat import render
from proxy.protocols.openai_errors import openai_error_body


@dataclass(frozen=True)
class ChatCompletionsAdapter:
    """Renders answers and errors as Chat Completions; one per request when the stream
    options matter (`include_usage` is per request and the `Chat` has no field for it)."""
    include_usage: bool = False
    stream_mimetype: str = "text/event-stream"

    def render_stream(self, events: Iterable[StreamEvent], reply: Reply) -> Iterator[bytes]:
        """Bytes of the streamed answer; never raises."""
        return render.render_stream(events, reply, include_usage=self.include_usage)

    def render_message(self, events: list[StreamEvent], reply: Reply) -> dict:
        """The whole answer as a `chat.completion` object."""
        return render.render_message(events, reply)

    def render_error(self, err: ProxyError) -> tuple[int, dict]:
        """(status, body) in OpenAI's error shape."""
        return openai_error_body(err)


ADAPTER = ChatCompletionsAdapter()

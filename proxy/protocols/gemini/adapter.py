"""The Gemini adapter object that proxy/serving.py drives: one per request shape."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator

from proxy.chat import Chat, Reply, StreamEvent
from proxy.errors import ProxyError
from proxy.protocols.gemini.errors import google_error
from proxy.protocols.gemini.render import render_message, render_stream


@dataclass(frozen=True)
class GeminiAdapter:
    """Renders in Gemini's shapes; `sse` picks SSE over the JSON-array stream, and thoughts
    are shown only when the request's thinkingConfig said includeThoughts."""
    sse: bool = True
    include_thoughts: bool = False

    @property
    def stream_mimetype(self) -> str:
        """text/event-stream for alt=sse, else the streamed JSON array's type."""
        return "text/event-stream" if self.sse else "application/json"

    def for_request(self, chat: Chat, sse: bool) -> "GeminiAdapter":
        """The adapter for one request."""
        include = bool(chat.thinking and chat.thinking.include)
        return replace(self, sse=sse, include_thoughts=include)

    def render_stream(self, events: Iterable[StreamEvent], reply: Reply) -> Iterator[bytes]:
        """Bytes of the streamed answer; never raises."""
        return render_stream(events, reply, sse=self.sse, include_thoughts=self.include_thoughts)

    def render_message(self, events: list[StreamEvent], reply: Reply) -> dict:
        """The whole answer as one GenerateContentResponse."""
        return render_message(events, reply, include_thoughts=self.include_thoughts)

    def render_error(self, err: ProxyError) -> tuple[int, dict]:
        """(status, body) in Google's error shape."""
        return google_error(err)


ADAPTER = GeminiAdapter()

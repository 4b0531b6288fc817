"""The Anthropic adapter object that proxy.serving drives."""
from __future__ import annotations

from typing import Iterable, Iterator

from proxy.chat import Reply, StreamEvent
from proxy.errors import ProxyError

from .errors import render_error
from .message import render_message
from .stream import render_stream


class AnthropicAdapter:
    """Renders answers and errors in the Anthropic Messages protocol."""
    stream_mimetype = "text/event-stream"

    def render_stream(self, events: Iterable[StreamEvent], reply: Reply) -> Iterator[bytes]:
        """Bytes of the streamed answer; never raises."""
        return render_stream(events, reply)

    def render_message(self, events: list[StreamEvent], reply: Reply) -> dict:
        """The whole answer as a Message object."""
        return render_message(events, reply)

    def render_error(self, err: ProxyError) -> tuple[int, dict]:
        """(status, body) in Anthropic's error shape."""
        return render_error(err)


ADAPTER = AnthropicAdapter()

"""Tests for the adapter object serving.py drives."""
from proxy.chat import Reply, Stop, Usage
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.openai_chat import ADAPTER, ChatCompletionsAdapter


def make_reply() -> Reply:
    """A Reply with fixed identity."""
    return Reply(id="r1", model="m", created=1, input_tokens=3)


def test_default_adapter_streams_sse_without_usage():
    chunks = list(ADAPTER.render_stream([Usage(3, 1), Stop("end_turn")], make_reply()))
    assert ADAPTER.stream_mimetype == "text/event-stream"
    assert len(chunks) == 3 and b'"usage"' not in b"".join(chunks)


def test_include_usage_adapter_adds_the_usage_chunk():
    chunks = list(ChatCompletionsAdapter(include_usage=True).render_stream([Usage(3, 1), Stop("end_turn")],
                                                                          make_reply()))
    assert len(chunks) == 4 and chunks[2].startswith(b'data: {"id":"chatcmpl-r1"') and b'"choices":[]' in chunks[2]


def test_render_message_is_a_chat_completion():
    assert ADAPTER.render_message([Stop("end_turn")], make_reply())["object"] == "chat.completion"


def test_render_error_uses_the_openai_shape():
    err = ProxyError(ErrorKind.INVALID_REQUEST, "Missing required parameter: 'messages'.", param="messages")
    assert ADAPTER.render_error(err) == (400, {"error": {"message": "Missing required parameter: 'messages'.",
                                                         "type": "invalid_request_error", "param": "messages",
                                                         "code": None}})

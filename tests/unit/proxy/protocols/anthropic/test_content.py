"""Tests for Anthropic messages -> neutral Messages: blocks, folded system turns, and block 400s."""
import pytest

from proxy.chat import ImagePart, Message, TextPart, ThinkingPart, ToolCallPart, ToolResultPart
from proxy.errors import ErrorKind, ProxyError
from proxy.protocols.anthropic.content import parse_messages
from proxy.protocols.anthropic.websearch import encode_snippet

PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}


def user(*content) -> dict:
    """A user turn whose content is the given blocks (or one string)."""
    return {"role": "user", "content": content[0] if len(content) == 1 and isinstance(content[0], str)
            else list(content)}


def assistant(*content) -> dict:
    """An assistant turn whose content is the given blocks (or one string)."""
    return {**user(*content), "role": "assistant"}


def system(content) -> dict:
    """A `role: "system"` turn as Claude Code puts it inside messages."""
    return {"role": "system", "content": content, "output_config": {"effort": "medium"}}


def text(value: str) -> dict:
    """A text block with a cache_control marker (which must be ignored)."""
    return {"type": "text", "text": value, "cache_control": {"type": "ephemeral"}}


def reminder(value: str) -> TextPart:
    """How a folded system turn reads."""
    return TextPart(f"<system-reminder>\n{value}\n</system-reminder>")


def rejects(messages) -> ProxyError:
    """The ProxyError parse_messages raises for `messages`."""
    with pytest.raises(ProxyError) as caught:
        parse_messages(messages)
    assert caught.value.kind is ErrorKind.INVALID_REQUEST
    return caught.value


# ---------------------------------------------------------------- system turns

def test_system_turn_after_user_joins_that_user_turn():
    got = parse_messages([user(text("hi")), system([text("# Env")]), assistant("ok"), user("next")])
    assert got == [Message("user", [TextPart("hi"), reminder("# Env")]),
                   Message("assistant", [TextPart("ok")]), Message("user", [TextPart("next")])]


def test_system_turn_after_assistant_goes_before_the_next_user_turn():
    got = parse_messages([user("a"), assistant("b"), system("rule"), user("c")])
    assert got[2] == Message("user", [reminder("rule"), TextPart("c")])


def test_system_turn_first_goes_into_the_first_user_turn():
    got = parse_messages([system("rule"), user("a")])
    assert got == [Message("user", [reminder("rule"), TextPart("a")])]


def test_trailing_system_turn_after_assistant_becomes_a_user_turn():
    got = parse_messages([user("a"), assistant("b"), system("rule")])
    assert got[-1] == Message("user", [reminder("rule")])


def test_system_turn_already_tagged_is_not_wrapped_twice():
    tagged = "<system-reminder>\nx\n</system-reminder>"
    assert parse_messages([user("a"), system(tagged)])[0].parts[-1] == TextPart(tagged)


def test_system_only_conversation_still_has_a_user_turn():
    assert parse_messages([system("only")]) == [Message("user", [reminder("only")])]


def test_empty_system_turn_is_dropped():
    assert parse_messages([user("a"), system(""), system([])]) == [Message("user", [TextPart("a")])]


# ---------------------------------------------------------------- blocks

def test_string_and_text_blocks():
    got = parse_messages([user("plain"), assistant(text("one"), text("")), user(text("two"))])
    assert [m.parts for m in got] == [[TextPart("plain")], [TextPart("one")], [TextPart("two")]]


def test_image_block_and_data_url_prefix():
    data_url = {**PNG, "data": "data:image/png;base64,iVBORw0KGgo="}
    got = parse_messages([user({"type": "image", "source": PNG}, {"type": "image", "source": data_url})])
    assert got[0].parts == [ImagePart("image/png", "iVBORw0KGgo="), ImagePart("image/png", "iVBORw0KGgo=")]


def test_tool_use_and_tool_result_shapes():
    got = parse_messages([
        user("go"),
        assistant({"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
                  {"type": "tool_use", "id": "toolu_2", "name": "Noop"}),
        user({"type": "tool_result", "tool_use_id": "toolu_1", "content": "a\nb", "is_error": False,
              "cache_control": {"type": "ephemeral"}},
             {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
              "content": [text("first"), {"type": "image", "source": PNG}, text("second"),
                          {"type": "tool_reference", "tool_name": "CronCreate"}]},
             {"type": "tool_result", "tool_use_id": "toolu_3"}),
    ])
    assert got[1].parts == [ToolCallPart("toolu_1", "Bash", {"command": "ls"}),
                            ToolCallPart("toolu_2", "Noop", {})]
    assert got[2].parts == [
        ToolResultPart("toolu_1", "a\nb"),
        ToolResultPart("toolu_2", "first\nsecond\nTool loaded: CronCreate", is_error=True,
                       images=[ImagePart("image/png", "iVBORw0KGgo=")]),
        ToolResultPart("toolu_3", ""),
    ]


def test_thinking_kept_redacted_and_empty_thinking_dropped():
    got = parse_messages([user("q"), assistant(
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "thinking", "thinking": "", "signature": "only-sig"},
        {"type": "redacted_thinking", "data": "EncryptedStuff"},
        text("answer"))])
    assert got[1].parts == [ThinkingPart("hmm", "sig"), TextPart("answer")]


def test_assistant_turn_with_only_redacted_thinking_is_dropped():
    got = parse_messages([user("q"), assistant({"type": "redacted_thinking", "data": "x"}), user("r")])
    assert got == [Message("user", [TextPart("q")]), Message("user", [TextPart("r")])]


def test_web_search_history_becomes_text():
    got = parse_messages([user("news?"), assistant(
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "kiro"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
            {"type": "web_search_result", "title": "Kiro", "url": "https://kiro.dev",
             "encrypted_content": encode_snippet("An IDE."), "page_age": None},
            {"type": "web_search_result", "title": "Other", "url": "https://o.example",
             "encrypted_content": "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1YjYt"}]},
        {"type": "server_tool_use", "id": "srvtoolu_2", "name": "web_search", "input": {"query": "x"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_2",
         "content": {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}},
        text("Kiro is an IDE."))])
    assert got[1].parts == [
        TextPart("[Searched the web for: kiro]"),
        TextPart("[Web search results]\n1. Kiro - https://kiro.dev\n   An IDE.\n2. Other - https://o.example"),
        TextPart("[Searched the web for: x]"),
        TextPart("[Web search failed: max_uses_exceeded]"),
        TextPart("Kiro is an IDE."),
    ]


def test_other_server_blocks_become_text():
    got = parse_messages([user("q"), assistant(
        {"type": "mcp_tool_use", "id": "m1", "name": "lookup", "server_name": "docs", "input": {"q": 1}},
        {"type": "mcp_tool_result", "tool_use_id": "m1", "content": [text("found")]},
        {"type": "web_fetch_tool_result", "tool_use_id": "f1",
         "content": {"type": "web_fetch_tool_error", "error_code": "url_not_accessible"}})])
    assert got[1].parts == [TextPart('[Called tool docs/lookup with {"q": 1}]'),
                            TextPart("[Tool result]\nfound"),
                            TextPart("[web_fetch_tool_result: error url_not_accessible]")]


def test_documents_and_search_results_become_text():
    got = parse_messages([user(
        {"type": "document", "title": "Notes", "source": {"type": "text", "media_type": "text/plain",
                                                          "data": "line"}},
        {"type": "document", "source": {"type": "content", "content": [text("c1"), {"type": "image",
                                                                                      "source": PNG}]}},
        {"type": "document", "source": {"type": "content", "content": "inline"}},
        {"type": "search_result", "source": "https://s", "title": "S", "content": [text("body")]})])
    assert got[0].parts == [TextPart("Notes\n\nline"), TextPart("c1"), ImagePart("image/png", "iVBORw0KGgo="),
                            TextPart("inline"), TextPart("S (https://s)\nbody")]


# ---------------------------------------------------------------- block errors

@pytest.mark.parametrize("messages, message, param", [
    (["hi"], "messages.0: Input should be a valid dictionary", "messages.0"),
    ([{"content": "x"}], "messages.0.role: Field required", "messages.0.role"),
    ([{"role": "tool", "content": "x"}], "messages.0.role: Input should be 'user', 'assistant' or 'system'",
     "messages.0.role"),
    ([{"role": "user"}], "messages.0.content: Field required", "messages.0.content"),
    ([{"role": "user", "content": 5}],
     "messages.0.content: Input should be a valid string or a list of content blocks", "messages.0.content"),
    ([user("a"), {"role": "system", "content": 5}],
     "messages.1.content: Input should be a valid string or a list of text blocks", "messages.1.content"),
    ([user("a"), system([{"type": "image", "source": PNG}])],
     "messages.1.content.0.type: Input should be 'text'", "messages.1.content.0.type"),
    ([user(text("ok"), "bad")], "messages.0.content.1: Input should be a valid dictionary",
     "messages.0.content.1"),
    ([user(text("ok"), {"text": "x"})], "messages.0.content.1.type: Field required",
     "messages.0.content.1.type"),
    ([user({"type": "text"})], "messages.0.content.0.text: Field required", "messages.0.content.0.text"),
    ([user({"type": "text", "text": 3})], "messages.0.content.0.text: Input should be a valid string",
     "messages.0.content.0.text"),
    ([user("a"), assistant({"type": "tool_use", "id": "t", "name": "n", "input": "x"})],
     "messages.1.content.0.input: Input should be a valid dictionary", "messages.1.content.0.input"),
    ([user({"type": "tool_use", "id": "t", "name": "n", "input": {}})],
     "messages.0.content.0.type: 'tool_use' blocks are only allowed in assistant messages",
     "messages.0.content.0.type"),
    ([user("a"), assistant({"type": "tool_result", "tool_use_id": "t"})],
     "messages.1.content.0.type: 'tool_result' blocks are only allowed in user messages",
     "messages.1.content.0.type"),
    ([user({"type": "tool_result"})], "messages.0.content.0.tool_use_id: Field required",
     "messages.0.content.0.tool_use_id"),
    ([user({"type": "tool_result", "tool_use_id": "t", "is_error": "no"})],
     "messages.0.content.0.is_error: Input should be a valid boolean", "messages.0.content.0.is_error"),
    ([user({"type": "tool_result", "tool_use_id": "t", "content": [{"type": "audio"}]})],
     "messages.0.content.0.content.0.type: Input tag 'audio' found using 'type' does not match any of "
     "the expected tags: 'text', 'image', 'document', 'search_result', 'tool_reference'",
     "messages.0.content.0.content.0.type"),
    ([user({"type": "image", "source": {**PNG, "media_type": "image/bmp"}})],
     "messages.0.content.0.source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' "
     "or 'image/webp'", "messages.0.content.0.source.media_type"),
    ([user({"type": "image"})], "messages.0.content.0.source: Field required", "messages.0.content.0.source"),
    ([user({"type": "image", "source": {"type": "base64", "media_type": "image/png"}})],
     "messages.0.content.0.source.data: Field required", "messages.0.content.0.source.data"),
])
def test_block_errors(messages, message, param):
    err = rejects(messages)
    assert (err.message, err.param) == (message, param)


def test_unknown_block_type_lists_the_expected_tags():
    err = rejects([user({"type": "video"})])
    assert err.param == "messages.0.content.0.type"
    assert err.message.startswith("messages.0.content.0.type: Input tag 'video' found using 'type' does "
                                  "not match any of the expected tags: 'text', 'image', 'document', ")


def test_url_image_is_a_clear_400():
    err = rejects([user({"type": "image", "source": {"type": "url", "url": "https://x/a.png"}})])
    assert (err.message, err.param) == (
        "messages.0.content.0.source: 'url' image sources are not supported by this proxy (Kiro accepts "
        "only inline images); send the image as a 'base64' source", "messages.0.content.0.source")


def test_pdf_document_is_a_clear_400():
    err = rejects([user(text("read"), {"type": "document", "source": {
        "type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}})])
    assert (err.message, err.param) == (
        "messages.0.content.1.source: 'base64' document sources (PDF) are not supported by this proxy: "
        "Kiro accepts only text and images. Send the document's text as a text block or a 'text' source",
        "messages.0.content.1.source")


def test_every_message_empty_is_a_400():
    err = rejects([user(""), {"role": "assistant", "content": []}])
    assert (err.message, err.param) == ("messages: every message is empty; at least one needs content",
                                        "messages")

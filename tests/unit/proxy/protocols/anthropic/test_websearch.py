"""Tests for the web search block helpers: snippet round trip, page_age, result content."""
import pytest

from proxy.chat import ServerToolResult
from proxy.protocols.anthropic.websearch import decode_snippet, encode_snippet, page_age, result_content


def test_snippet_round_trip_and_foreign_content():
    assert decode_snippet(encode_snippet("Grüße, world")) == "Grüße, world"
    assert decode_snippet("EqgfCioIARgBIiQ3YTAw") == ""  # Anthropic's own encrypted content
    assert decode_snippet("kp1.not base64!") == ""
    assert decode_snippet(None) == ""


@pytest.mark.parametrize("result, expected", [
    ({"page_age": "2 days ago", "publishedDate": 1718000000000}, "2 days ago"),
    ({"publishedDate": 1718000000000}, "June 10, 2024"),
    ({"publishedDate": 0}, None),
    ({"publishedDate": "yesterday"}, None),
    ({}, None),
])
def test_page_age(result, expected):
    assert page_age(result) == expected


def test_result_content_skips_junk_and_maps_unknown_errors():
    event = ServerToolResult("s1", "web_search", ["junk", {"url": "https://a"}])
    assert result_content(event) == [{"type": "web_search_result", "title": "", "url": "https://a",
                                      "encrypted_content": encode_snippet(""), "page_age": None}]
    assert result_content(ServerToolResult("s1", "web_search", [], error="too_many_requests")) == {
        "type": "web_search_tool_result_error", "error_code": "too_many_requests"}
    assert result_content(ServerToolResult("s1", "web_search", [], error="HTTP 500")) == {
        "type": "web_search_tool_result_error", "error_code": "unavailable"}

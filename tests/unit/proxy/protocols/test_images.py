"""Tests for the shared inline-image decisions, and that every parser refuses corrupt image data
with a 400 naming the field (regression: only Chat Completions checked it; the others passed it
on for Kiro to refuse without saying which part was wrong)."""
import pytest

from proxy.errors import ProxyError
from proxy.protocols.anthropic.parse import parse_messages_request
from proxy.protocols.gemini.parse import parse as gemini_parse
from proxy.protocols.images import base64_data, data_url, media_type
from proxy.protocols.openai_chat.parse import parse as chat_parse
from proxy.protocols.openai_responses.parse import parse as responses_parse

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
BAD = "not base64 at all!"


@pytest.mark.parametrize("raw, expected", [("image/PNG ", "image/png"), ("image/jpg", "image/jpeg"),
                                           ("image/pjpeg", "image/jpeg"), ("image/bmp", "image/bmp")])
def test_media_type_is_normalised(raw, expected):
    assert media_type(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    (PNG, PNG), (PNG[:20] + "\n " + PNG[20:], PNG), ("AAA", "AAA="), ("-_8=", "+/8="),
])
def test_base64_data_is_cleaned(raw, expected):
    assert base64_data(raw, urlsafe=True) == expected


@pytest.mark.parametrize("raw", ["", "A", BAD, "-_8="])
def test_base64_data_that_does_not_decode_is_none(raw):
    assert base64_data(raw) is None


def test_data_url_parts():
    assert data_url(f"DATA:image/JPG;charset=x;base64,{PNG}") == ("image/jpeg", PNG)
    assert data_url("data:image/png,AAAA") is None
    assert data_url("https://x.test/a.png") is None


CORRUPT = [
    ("anthropic", lambda: parse_messages_request({"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": [{"type": "image", "source": {
            "type": "base64", "media_type": "image/png", "data": BAD}}]}]}, {}),
     "messages.0.content.0.source.data"),
    ("chat", lambda: chat_parse({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{BAD}"}}]}]}),
     "messages[0].content[0].image_url.url"),
    ("responses", lambda: responses_parse({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": f"data:image/png;base64,{BAD}"}]}]}),
     "input[0].content[0].image_url"),
    ("gemini", lambda: gemini_parse({"contents": [{"role": "user", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": BAD}}]}]}, "gemini-2.5-flash"),
     "contents[0].parts[0].inlineData.data"),
]


@pytest.mark.parametrize("parse, param", [(p, q) for _, p, q in CORRUPT], ids=[n for n, _, _ in CORRUPT])
def test_every_parser_refuses_corrupt_image_data_naming_the_field(parse, param):
    with pytest.raises(ProxyError) as e:
        parse()
    assert e.value.status == 400 and e.value.param == param
    assert "base64" in e.value.message.lower()

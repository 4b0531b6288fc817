"""Tests for the OpenAI-worded field readers."""
import pytest

from proxy.errors import ProxyError
from proxy.protocols.openai_chat.fields import describe, get_int, get_str, invalid_value


@pytest.mark.parametrize("value, text", [
    (None, "null"), (True, "a boolean"), (1, "an integer"), (1.5, "a decimal"), ("x", "a string"),
    ([], "an array"), ({}, "an object"),
])
def test_describe_names_json_types(value, text):
    assert describe(value) == text


@pytest.mark.parametrize("supported, listing", [
    (("a",), "'a'"), (("a", "b"), "'a' and 'b'"), (("a", "b", "c"), "'a', 'b', and 'c'"),
])
def test_invalid_value_lists_the_supported_values(supported, listing):
    assert invalid_value("p", "z", supported).message == f"Invalid value: 'z'. Supported values are: {listing}."


def test_null_counts_as_absent():
    assert get_str({"a": None}, "a", "a") is None
    with pytest.raises(ProxyError, match=r"^Missing required parameter: 'x.a'\.$"):
        get_str({"a": None}, "a", "x.a", required=True)


def test_int_minimum_is_inclusive():
    assert get_int({"a": 1}, "a", "a", minimum=1) == 1

"""Tool names and toolUseIds renamed into Kiro's charset, deterministically."""
import re

import pytest

from proxy.kiro.naming import hashed_name, safe_name, safe_tool_use_id

VALID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@pytest.mark.parametrize("name", ["get_weather", "Bash", "mcp__github__create-issue", "a" * 64,
                                  "tooluse_q1Fh7tPb2mKx9sLd0RwZuA"])
def test_valid_names_are_kept(name):
    assert safe_name(name) == name


@pytest.mark.parametrize("name, expected", [
    ("a" * 65, "a" * 55 + "_635361c4"),
    ("my.tool", "my_tool_bca2c361"),
    ("", "_e3b0c442"),
])
def test_odd_names_get_prefix_and_hash(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["x" * 200, "call_abc\nfc_def" + "0" * 70, "héllo wörld", "a/b:c"])
def test_renamed_is_valid_and_stable(name):
    renamed = safe_name(name)
    assert VALID.match(renamed)
    assert safe_name(name) == renamed


def test_distinct_names_stay_distinct():
    assert safe_name("a.b") != safe_name("a:b")
    assert safe_name("x" * 70) != safe_name("x" * 71)


def test_hashed_name_moves_even_valid_names():
    assert hashed_name("web_search") != "web_search"
    assert VALID.match(hashed_name("web_search"))


def test_tool_use_id_uses_the_same_mapping():
    cursor_id = "call_" + "a" * 40 + "\nfc_" + "b" * 33  # Cursor's compound 82-char ids
    assert safe_tool_use_id(cursor_id) == safe_name(cursor_id)
    assert VALID.match(safe_tool_use_id(cursor_id))

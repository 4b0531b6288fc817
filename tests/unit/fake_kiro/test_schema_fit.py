"""Tests for tests/fake_kiro/schema_fit.py: minimal values that fit a schema."""
import pytest

from tests.fake_kiro.schema_fit import example_for, fit_object


@pytest.mark.parametrize("schema, expected", [
    ({"type": "string"}, "example"),
    ({"type": "integer"}, 1),  # 1, not 0: "a score from 1-100" without a minimum in the schema
    ({"type": "number"}, 1),
    ({"type": "integer", "minimum": 0}, 0),
    ({"type": "integer", "minimum": -3}, -3),
    ({"type": "integer", "minimum": 3, "maximum": 9}, 3),
    ({"type": "integer", "minimum": 2.5}, 3),
    ({"type": "integer", "exclusiveMinimum": 5}, 6),
    ({"type": "integer", "exclusiveMinimum": -5}, -4),
    ({"type": "integer", "minimum": 2, "exclusiveMinimum": True}, 3),
    ({"type": "number", "exclusiveMinimum": 1}, 1.5),
    ({"type": "integer", "maximum": 0}, 0),
    ({"type": "integer", "maximum": 0.5}, 0),
    ({"type": "integer", "exclusiveMaximum": 1}, 0),
    ({"type": "number", "exclusiveMaximum": 1}, 0.5),
    ({"type": "number", "minimum": 0.5}, 0.5),
    ({"type": "integer", "maximum": -4}, -4),
    ({"type": "boolean"}, False),
    ({"type": "null"}, None),
    ({"enum": ["b", "a"]}, "b"),
    ({"const": 7}, 7),
    ({"type": "string", "minLength": 10}, "examplexxx"),
    ({"type": "string", "maxLength": 3}, "exa"),
    ({"type": "string", "format": "date-time"}, "2026-01-01T00:00:00Z"),
    ({"type": ["null", "integer"]}, 1),
    ({"anyOf": [{"type": "null"}, {"type": "boolean"}]}, False),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, [1, 1]),
    ({"type": "array", "items": {"type": "string"}}, []),
])
def test_scalar_and_array_examples(schema, expected):
    assert example_for(schema) == expected


def test_object_fills_required_props_recursively():
    schema = {"type": "object", "required": ["name", "age", "tags", "address", "mood"],
              "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18},
                             "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                             "address": {"type": "object", "required": ["zip"],
                                         "properties": {"zip": {"type": "string"}, "city": {"type": "string"}}},
                             "mood": {"type": "string", "enum": ["happy", "sad"]},
                             "optional": {"type": "string"}}}
    assert example_for(schema) == {"name": "name", "age": 18, "tags": ["tags"], "address": {"zip": "zip"},
                                   "mood": "happy"}


def test_upper_case_openapi_types():
    schema = {"type": "OBJECT", "required": ["n", "ok"],
              "properties": {"n": {"type": "INTEGER", "minimum": 1}, "ok": {"type": "BOOLEAN"}}}
    assert example_for(schema) == {"n": 1, "ok": False}


def test_gemini_cli_router_schema_gets_a_score_it_accepts():
    # the router's classifier schema (tests/fixtures/clients/gemini-cli/0023...) says "1-100"
    # only in a description; Gemini CLI rejects a score of 0
    schema = {"type": "OBJECT", "required": ["complexity_reasoning", "complexity_score"],
              "properties": {"complexity_reasoning": {"type": "STRING"},
                             "complexity_score": {"type": "INTEGER",
                                                  "description": "Complexity score from 1-100."}}}
    assert example_for(schema) == {"complexity_reasoning": "complexity_reasoning", "complexity_score": 1}


def test_refs_and_all_of():
    schema = {"$defs": {"Item": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}},
              "type": "object", "required": ["item", "both"],
              "properties": {"item": {"$ref": "#/$defs/Item"},
                             "both": {"allOf": [{"$ref": "#/$defs/Item"},
                                                {"required": ["x"], "properties": {"x": {"type": "string"}}}]}}}
    assert example_for(schema) == {"item": {"id": 1}, "both": {"id": 1, "x": "x"}}


def test_fit_object_keeps_given_values_and_honours_min_properties():
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
              "required": ["a"], "minProperties": 2}
    assert fit_object(schema, {"a": "given"}) == {"a": "given", "b": 1}

"""Tool input schemas cleaned into what Kiro accepts."""
import copy

import pytest

from proxy.kiro.schema import MAX_REF_DEPTH, clean_schema

EMPTY = {"type": "object", "properties": {}}


@pytest.mark.parametrize("schema, expected", [
    # already fine: unchanged, additionalProperties kept
    ({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
      "additionalProperties": False},
     {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
      "additionalProperties": False}),
    # Claude Code's shape: $schema dropped
    ({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
      "properties": {"q": {"type": "string"}}, "required": ["q"], "additionalProperties": False},
     {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"],
      "additionalProperties": False}),
    # MCP servers' nulls: the proven 400
    ({"type": "object", "properties": None, "required": None}, EMPTY),
    ({"type": "object", "properties": {"a": {"type": "string", "enum": None}}, "required": []},
     {"type": "object", "properties": {"a": {"type": "string"}}}),
    # vendor keys and annotations
    ({"type": "object", "defer_loading": True, "$id": "x", "$comment": "c", "properties": {}}, EMPTY),
    # root fixes
    ({}, EMPTY),
    ({"properties": {"a": {"type": "integer"}}},
     {"type": "object", "properties": {"a": {"type": "integer"}}}),
    ({"type": ["object", "null"], "properties": {}}, EMPTY),
    ({"type": "string"}, EMPTY),
    (None, EMPTY),
    ([1, 2], EMPTY),
    # duplicate / non-string required names
    ({"type": "object", "properties": {"a": {}}, "required": ["a", "a", 3]},
     {"type": "object", "properties": {"a": {}}, "required": ["a"]}),
    # empty combinator lists are invalid schemas
    ({"type": "object", "properties": {"a": {"anyOf": []}}},
     {"type": "object", "properties": {"a": {}}}),
])
def test_clean(schema, expected):
    assert clean_schema(schema) == expected


def test_property_names_that_look_like_keywords_are_kept():
    schema = {"type": "object", "properties": {"$schema": {"type": "string"},
                                               "defer_loading": {"type": "boolean"},
                                               "required": {"type": "array", "items": {"type": "string"}}}}
    assert clean_schema(schema) == schema


def test_recurses_into_every_subschema_position():
    nested = {"type": "object", "properties": {"x": {"type": "string"}}, "required": [],
              "$schema": "s", "additionalProperties": {"type": "object", "required": None}}
    schema = {"type": "object", "properties": {
        "items": {"type": "array", "items": nested},
        "tuple": {"type": "array", "items": [nested], "prefixItems": [nested]},
        "union": {"anyOf": [nested, {"type": "null"}], "oneOf": [nested], "allOf": [nested]},
        "cond": {"if": nested, "then": nested, "else": nested, "not": nested},
        "map": {"type": "object", "patternProperties": {"^x": nested}, "propertyNames": {"pattern": "^x"}},
    }}
    cleaned_nested = {"type": "object", "properties": {"x": {"type": "string"}},
                      "additionalProperties": {"type": "object"}}
    assert clean_schema(schema) == {"type": "object", "properties": {
        "items": {"type": "array", "items": cleaned_nested},
        "tuple": {"type": "array", "items": [cleaned_nested], "prefixItems": [cleaned_nested]},
        "union": {"anyOf": [cleaned_nested, {"type": "null"}], "oneOf": [cleaned_nested],
                  "allOf": [cleaned_nested]},
        "cond": {"if": cleaned_nested, "then": cleaned_nested, "else": cleaned_nested,
                 "not": cleaned_nested},
        "map": {"type": "object", "patternProperties": {"^x": cleaned_nested},
                "propertyNames": {"pattern": "^x"}},
    }}


def test_local_refs_are_inlined_and_defs_dropped():
    schema = {"type": "object", "$defs": {"Point": {"type": "object", "properties": {
        "x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]}},
        "definitions": {"Name": {"type": "string", "minLength": 1}},
        "properties": {"a": {"$ref": "#/$defs/Point", "description": "start"},
                       "b": {"type": "array", "items": {"$ref": "#/$defs/Point"}},
                       "n": {"$ref": "#/definitions/Name"}}}
    point = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
             "required": ["x", "y"]}
    assert clean_schema(schema) == {"type": "object", "properties": {
        "a": {**point, "description": "start"},
        "b": {"type": "array", "items": point},
        "n": {"type": "string", "minLength": 1}}}


def test_sibling_keywords_override_the_referenced_ones():
    schema = {"type": "object", "$defs": {"S": {"type": "string", "description": "generic"}},
              "properties": {"a": {"$ref": "#/$defs/S", "description": "specific"}}}
    assert clean_schema(schema)["properties"]["a"] == {"type": "string", "description": "specific"}


def test_cyclic_refs_stop_with_an_unconstrained_schema():
    schema = {"type": "object", "$defs": {"Node": {"type": "object", "properties": {
        "value": {"type": "string"}, "child": {"$ref": "#/$defs/Node"}}}},
        "properties": {"root": {"$ref": "#/$defs/Node"}}}
    root = clean_schema(schema)["properties"]["root"]
    assert root == {"type": "object", "properties": {"value": {"type": "string"}, "child": {}}}


def test_ref_to_root_and_remote_and_missing_refs():
    schema = {"type": "object", "properties": {"self": {"$ref": "#"},
                                               "remote": {"$ref": "https://example.com/s.json"},
                                               "missing": {"$ref": "#/$defs/Nope"}}}
    cleaned = clean_schema(schema)["properties"]
    assert cleaned["remote"] == {} and cleaned["missing"] == {}
    assert cleaned["self"]["type"] == "object"
    assert cleaned["self"]["properties"]["self"] == {}  # the cycle is cut at the second visit


def test_ref_chains_are_cut_at_the_depth_limit():
    defs = {f"D{i}": {"type": "object", "properties": {"next": {"$ref": f"#/$defs/D{i + 1}"}}}
            for i in range(MAX_REF_DEPTH + 5)}
    schema = {"type": "object", "$defs": defs, "properties": {"start": {"$ref": "#/$defs/D0"}}}
    node, depth = clean_schema(schema)["properties"]["start"], 0
    while node:
        node, depth = node["properties"]["next"], depth + 1
    assert depth == MAX_REF_DEPTH


def test_very_deep_schemas_do_not_recurse_forever():
    schema: dict = {"type": "string"}
    for _ in range(5000):
        schema = {"type": "array", "items": schema}
    cleaned = clean_schema({"type": "object", "properties": {"deep": schema}})
    assert cleaned["type"] == "object"


def test_boolean_subschemas_are_kept():
    schema = {"type": "object", "properties": {"any": True}, "additionalProperties": False}
    assert clean_schema(schema) == schema


def test_input_is_not_modified():
    schema = {"$schema": "s", "type": "object", "properties": None, "required": None,
              "$defs": {"A": {"type": "string"}}}
    before = copy.deepcopy(schema)
    clean_schema(schema)
    assert schema == before

"""Tests for Gemini Schema -> JSON Schema conversion."""
from proxy.protocols.gemini.schema import to_json_schema


def test_upper_case_types_become_json_schema_types():
    """The router's OBJECT/STRING/INTEGER schema comes out as plain JSON Schema."""
    schema = {"type": "OBJECT", "properties": {
        "reason": {"type": "STRING", "description": "Why."},
        "score": {"type": "INTEGER"}, "ratio": {"type": "NUMBER"}, "ok": {"type": "BOOLEAN"},
        "tags": {"type": "ARRAY", "items": {"type": "STRING"}}}, "required": ["score"]}
    assert to_json_schema(schema) == {"type": "object", "properties": {
        "reason": {"type": "string", "description": "Why."},
        "score": {"type": "integer"}, "ratio": {"type": "number"}, "ok": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}}}, "required": ["score"]}


def test_nullable_adds_null_to_type_and_enum():
    """nullable: true is spelled as a type list (and a null enum member) in JSON Schema."""
    assert to_json_schema({"type": "STRING", "nullable": True, "enum": ["a", "b"], "format": "enum"}) == \
        {"type": ["string", "null"], "enum": ["a", "b", None]}
    assert to_json_schema({"type": "INTEGER", "nullable": False}) == {"type": "integer"}


def test_property_ordering_orders_properties_and_disappears():
    """propertyOrdering has no JSON Schema keyword; the property order carries it instead."""
    out = to_json_schema({"type": "OBJECT", "propertyOrdering": ["b", "a"],
                          "properties": {"a": {"type": "STRING"}, "c": {"type": "STRING"},
                                         "b": {"type": "STRING"}}})
    assert list(out["properties"]) == ["b", "a", "c"]
    assert "propertyOrdering" not in out


def test_snake_case_keys_and_int64_strings():
    """The Python SDK's snake_case keys and proto int64 strings are normalised."""
    out = to_json_schema({"type": "ARRAY", "min_items": "1", "max_items": "3",
                          "items": {"any_of": [{"type": "STRING", "max_length": "5"},
                                               {"type": "NULL"}]},
                          "property_ordering": []})
    assert out == {"type": "array", "minItems": 1, "maxItems": 3,
                   "items": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]}}


def test_property_names_that_look_like_keywords_are_left_alone():
    """A property called `type` or `nullable` is a property, not a keyword."""
    out = to_json_schema({"type": "object", "properties": {
        "type": {"type": "string", "enum": ["STRING"]}, "nullable": {"type": "boolean"}}})
    assert out == {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["STRING"]}, "nullable": {"type": "boolean"}}}


def test_plain_json_schema_passes_through_unchanged():
    """A parametersJsonSchema that is already JSON Schema is not altered."""
    schema = {"type": "object", "properties": {"command": {"type": "string", "default": "ls"},
                                               "n": {"type": ["integer", "null"], "minimum": 0}},
              "required": ["command"], "additionalProperties": False,
              "$defs": {"x": {"type": "string"}}}
    assert to_json_schema(schema) == schema


def test_example_becomes_examples_and_unspecified_type_is_dropped():
    """OpenAPI's single `example` is JSON Schema's `examples`; TYPE_UNSPECIFIED means no type."""
    assert to_json_schema({"type": "TYPE_UNSPECIFIED", "example": 3}) == {"examples": [3]}

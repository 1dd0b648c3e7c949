"""The type table: every kind has its rule, and the rest of the runtime reads kinds only through it."""

from __future__ import annotations

from cognix.runtime.specs import TypeSpec
from cognix.runtime.typetable import INPUT_KINDS, RULES, Convert, Kind, leaf_schema

def test_every_kind_has_a_rule_and_the_input_kinds_are_cogs() -> None:
    assert set(RULES) == set(Kind)
    assert INPUT_KINDS == ("str", "int", "float", "bool", "path", "file", "secret", "object")
    assert {k.value for k, r in RULES.items() if r.union_member} == {"str", "int", "float", "bool", "object"}
    assert {k.value: r.convert for k, r in RULES.items() if r.convert is not Convert.AS_IS} == {
        "path": Convert.DOWNLOAD_PATH, "file": Convert.DOWNLOAD_FILE, "secret": Convert.SECRET}


def test_leaf_schemas_are_copies() -> None:
    schema = leaf_schema("secret")
    assert schema == {"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True}
    schema["title"] = "x"
    assert "title" not in leaf_schema(Kind.SECRET)
    assert leaf_schema(Kind.MODEL) == {"type": "object"}


def test_a_typespec_holds_a_kind() -> None:
    spec = TypeSpec(kind="int")
    assert spec.kind is Kind.INT and spec.kind == "int" and f"{spec.kind}" == "int"


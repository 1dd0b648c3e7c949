"""The runtime's type table: what each kind of value means, in one place (as Cog's `_adt.py` PrimitiveType does).

A predictor's annotations are reduced to TypeSpecs (predictor.py); each TypeSpec has one Kind. What a kind is to
the rest of the runtime lives in its KindRule: its JSON schema (schema.py), whether it may be an input and how a
request value becomes the Python value predict() gets (files.py), which Input(...) constraints apply to it
(predictor.py's checks) and what type its choices have. Nothing else interprets the kind's name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Optional


class Kind(str, enum.Enum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    PATH = "path"  # cog.Path: a URL or data URL in, a local file for predict()
    FILE = "file"  # cog.File (deprecated): a file object for predict()
    SECRET = "secret"  # cog.Secret: never echoed
    OBJECT = "object"  # dict, Any, TypedDict: JSON as it is
    ANY = "any"  # an output of no declared type
    MODEL = "model"  # a BaseModel output
    UNION = "union"  # members in TypeSpec.members
    ARRAY = "array"  # an output list whose items are lists or Optional (TypeSpec.items)

    def __str__(self) -> str:
        return self.value

    @property
    def rule(self) -> KindRule:
        return RULES[self]


class Convert(enum.Enum):
    """How a request value becomes predict()'s argument."""

    AS_IS = "as_is"
    DOWNLOAD_PATH = "download_path"  # to a temp file, a cog.Path to it
    DOWNLOAD_FILE = "download_file"  # into a file object
    SECRET = "secret"  # wrapped in cog.Secret


@dataclass(frozen=True)
class KindRule:
    schema: Optional[dict]  # the JSON schema of one value (None: built from the TypeSpec's parts)
    input: bool = False  # allowed as a predict()/train() parameter
    convert: Convert = Convert.AS_IS
    numeric: bool = False  # ge/le apply
    textual: bool = False  # min_length/max_length/regex apply
    choices: Optional[type] = None  # choices apply, all of this Python type
    choices_schema: Optional[str] = None  # the JSON type of the choices' enumeration
    union_member: bool = False  # may be a member of a Union input (plain JSON values only)


_URI = {"type": "string", "format": "uri"}
RULES: dict[Kind, KindRule] = {
    Kind.STR: KindRule({"type": "string"}, input=True, textual=True, choices=str, choices_schema="string",
                       union_member=True),
    Kind.INT: KindRule({"type": "integer"}, input=True, numeric=True, choices=int, choices_schema="integer",
                       union_member=True),
    Kind.FLOAT: KindRule({"type": "number"}, input=True, numeric=True, union_member=True),
    Kind.BOOL: KindRule({"type": "boolean"}, input=True, union_member=True),
    Kind.PATH: KindRule(_URI, input=True, convert=Convert.DOWNLOAD_PATH),
    Kind.FILE: KindRule(_URI, input=True, convert=Convert.DOWNLOAD_FILE),
    Kind.SECRET: KindRule({"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True},
                          input=True, convert=Convert.SECRET, textual=True),
    Kind.OBJECT: KindRule({"type": "object"}, input=True, union_member=True),
    Kind.ANY: KindRule({"type": "object"}),
    Kind.MODEL: KindRule(None),
    Kind.UNION: KindRule(None),
    Kind.ARRAY: KindRule(None),
}
INPUT_KINDS = tuple(kind.value for kind, rule in RULES.items() if rule.input)


def leaf_schema(kind: Kind | str) -> dict[str, Any]:
    """A fresh copy of the JSON schema of one value of `kind` (an object for kinds built from parts)."""
    return dict(Kind(kind).rule.schema or {"type": "object"})

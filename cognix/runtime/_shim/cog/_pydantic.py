"""Hooks that let the SDK's types sit in a pydantic model's fields, as they could in cog <= 0.16.

A model may declare its own `pydantic.BaseModel` output with `cog.Path`, `cog.File` or `cog.Secret` fields (pydantic
was cog's schema engine then). pydantic calls these hooks only when it builds such a model, so pydantic is never
imported here unless the model uses it; v2 (`__get_pydantic_core_schema__`) and v1 (`__get_validators__`) both work.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator


def core_schema(validate: Callable[[Any], Any]) -> Any:
    """pydantic 2: a plain validator calling `validate`, serialized as a string in JSON."""
    from pydantic_core import core_schema as cs

    try:
        serialization = cs.plain_serializer_function_ser_schema(str, when_used="json-unless-none")
    except (AttributeError, TypeError):  # very old pydantic_core
        serialization = None
    return cs.no_info_plain_validator_function(validate, serialization=serialization)


class PydanticType:
    """Mixin: `validate(value)` is the type's conversion; JSON_SCHEMA is what the field looks like."""

    JSON_SCHEMA: Dict[str, Any] = {"type": "string"}

    @classmethod
    def validate(cls, value: Any) -> Any:  # pragma: no cover - overridden
        return value

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return core_schema(cls.validate)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> Dict[str, Any]:
        return dict(cls.JSON_SCHEMA)

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[[Any], Any]]:
        yield cls.validate

    @classmethod
    def __modify_schema__(cls, field_schema: Dict[str, Any]) -> None:
        field_schema.update(cls.JSON_SCHEMA)

"""What a runner is made of, as the rest of the runtime sees it: its inputs, its output and their types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cognix.runtime.typetable import Kind


class RunnerError(Exception):
    """The runner can't be loaded or its signature isn't valid for Cog (definition-time error)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass
class TypeSpec:
    """One annotation reduced to what the schema and the runtime need."""

    kind: Kind  # given as a Kind or its name
    repeated: bool = False  # list[T]
    nullable: bool = False  # Optional[T]
    opaque: bool = False  # Annotated[T, Opaque]
    members: list[TypeSpec] = field(default_factory=list)  # union members
    model: type | None = None  # BaseModel output class
    fields: list[tuple[str, TypeSpec, bool]] = field(default_factory=list)  # model fields (name, type, has_default)
    values: TypeSpec | None = None  # dict[str, T] output values
    items: TypeSpec | None = None  # kind "array" (outputs only): a list whose items are lists or Optional,
    #                                e.g. List[List[float]] (embeddings) or List[Optional[str]]

    def __post_init__(self) -> None:
        self.kind = Kind(self.kind)


@dataclass
class FieldData:
    """Input(...) metadata, read from our FieldInfo or any look-alike (upstream cog, pydantic)."""

    description: str | None = None
    ge: float | int | None = None
    le: float | int | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: list[Any] | None = None
    deprecated: bool | None = None
    accept: str | None = None


@dataclass
class InputSpec:
    name: str
    order: int
    annotation: Any
    type: TypeSpec
    field: FieldData
    has_default: bool  # a default was written (possibly None)
    default: Any  # the written default (meaningful only when has_default)
    required: bool  # listed in the schema's `required`
    nullable: bool  # null is a valid value


@dataclass
class OutputSpec:
    type: TypeSpec
    iterator: bool = False  # Iterator/Generator: a list output produced item by item
    is_async_iterator: bool = False
    concatenate: bool = False  # ConcatenateIterator


@dataclass
class RunnerInfo:
    ref: str
    mode: str
    name: str  # the class or function name
    method: str  # "run", "predict" or the function's own name
    inputs: list[InputSpec]
    output: OutputSpec
    is_async: bool  # run method is `async def` (coroutine or async generator)
    is_generator: bool  # run method yields (sync or async)
    streaming: bool  # @streaming
    concurrent_max: int | None  # @concurrent(max=N)
    setup_takes_weights: bool
    setup_is_async: bool
    is_class: bool
    has_healthcheck: bool

    @property
    def is_concatenate(self) -> bool:
        return self.output.concatenate

    @property
    def is_iterator(self) -> bool:
        return self.output.iterator

    def input(self, name: str) -> InputSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)

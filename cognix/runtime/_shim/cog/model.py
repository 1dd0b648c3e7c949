"""`cog.BaseModel`: structured outputs; subclasses become dataclasses automatically (cog 0.17+).

Up to cog 0.16 `cog.BaseModel` was pydantic's, so models written then also expect what pydantic allowed; a subclass
here keeps the dataclass (0.23.1's behaviour) and accepts that too:
- a field annotated `Optional[T]` without a default may be left out and is None (pydantic's rule);
- a mutable default (`tags: List[str] = []`) is copied for each instance, as pydantic does, not refused;
- a pydantic `Field(default=..., description=...)` default gives its default (or default_factory);
- fields with defaults before fields without them are allowed (a dataclass refuses that order): then the
  constructor takes keyword arguments (positional ones in field order, as far as they go).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any, Callable, Dict, Tuple

from cognix.runtime import _compat


class BaseModel:
    """Subclass it with annotated fields; opt out of the dataclass with `auto_dataclass=False`."""

    def __init_subclass__(cls, *, auto_dataclass: bool = True, init: bool = True, **kwargs: Any) -> None:
        # keyword arguments other than auto_dataclass and init are passed to dataclass(), as in cog
        super().__init_subclass__()
        if not issubclass(cls.__bases__[0], BaseModel):
            raise TypeError(f'Primary base class of "{cls.__name__}" must inherit from BaseModel')
        for base in cls.__bases__[1:]:
            if dataclasses.is_dataclass(base):
                raise TypeError(f'Cannot mixin dataclass "{base.__name__}" while inheriting from `BaseModel`')
        if not auto_dataclass:
            cls._cog_auto_dataclass = False  # type: ignore[attr-defined]
            return
        _pydantic_style_defaults(cls)
        own_init = "__init__" in vars(cls)
        names = _compat.own_annotation_names(cls)
        saved = {name: vars(cls)[name] for name in names if name in vars(cls)}
        try:
            dataclasses.dataclass(init=init, **kwargs)(cls)
        except TypeError as err:
            if not init or "follows default argument" not in str(err):
                raise
            # pydantic allowed any field order: keep the dataclass, give it a keyword-friendly constructor
            for name in names:  # the failed pass already moved the defaults: put them back
                if name in saved:
                    setattr(cls, name, saved[name])
                elif name in vars(cls):
                    delattr(cls, name)
            dataclasses.dataclass(init=False, **kwargs)(cls)
            cls.__init__ = _any_order_init(cls)  # type: ignore[misc]
        else:
            if init and not own_init:
                cls.__init__ = _optional_fields_default_none(cls, cls.__init__)  # type: ignore[misc]
        cls._cog_auto_dataclass = True  # type: ignore[attr-defined]


def _is_pydantic_field_info(value: Any) -> bool:
    kind = type(value)
    return kind.__name__ == "FieldInfo" and (kind.__module__ or "").startswith("pydantic")


def _pydantic_style_defaults(cls: type) -> None:
    """Rewrite class-level defaults a dataclass refuses (mutable values, pydantic Field) into dataclass fields."""
    for name in _compat.own_annotation_names(cls):
        if name not in vars(cls):
            continue
        value = vars(cls)[name]
        if isinstance(value, dataclasses.Field):
            continue
        if _is_pydantic_field_info(value):
            factory = getattr(value, "default_factory", None)
            default = getattr(value, "default", dataclasses.MISSING)
            if callable(factory):
                setattr(cls, name, dataclasses.field(default_factory=factory))
            elif default is Ellipsis or type(default).__name__ in ("PydanticUndefinedType", "UndefinedType"):
                delattr(cls, name)  # required
            else:
                setattr(cls, name, default)
                value = default
        value = vars(cls).get(name, dataclasses.MISSING)
        if isinstance(value, (list, dict, set, bytearray)):
            setattr(cls, name, dataclasses.field(default_factory=functools.partial(copy.deepcopy, value)))


def _optional_names(cls: type) -> Tuple[str, ...]:
    """Fields without a default whose type allows None (resolved at first use: forward references work then)."""
    cached = vars(cls).get("_cog_optional_fields")
    if cached is not None:
        return cached
    try:
        hints = _compat.get_type_hints(cls)
    except Exception:  # an unresolvable annotation: no implicit None defaults
        hints = {}
    names = []
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.init:
            if _allows_none(hints.get(f.name, f.type)):
                names.append(f.name)
    result = tuple(names)
    cls._cog_optional_fields = result  # type: ignore[attr-defined]
    return result


def _allows_none(tp: Any) -> bool:
    """Optional[T], T | None, None; and Any, which pydantic 1 (cog <= 0.10's) treats as optional too."""
    if tp is Any or tp is None or tp is type(None):
        return True
    origin = _compat.get_origin(tp)
    if origin is _compat.Annotated:
        return _allows_none(_compat.get_args(tp)[0])
    if origin in _compat.UNION_ORIGINS:
        return any(a is type(None) for a in _compat.get_args(tp))
    if isinstance(tp, str):  # an annotation that could not be resolved
        text = tp.replace(" ", "")
        return text.startswith(("Optional[", "typing.Optional[")) or "|None" in text or "None|" in text
    return False


def _optional_fields_default_none(cls: type, init: Callable[..., None]) -> Callable[..., None]:
    """Wrap the dataclass __init__: Optional fields left out are None (pydantic's rule for Optional fields)."""
    names = [f.name for f in dataclasses.fields(cls) if f.init]

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        optional = _optional_names(cls)
        if optional:
            given = set(names[: len(args)]) | set(kwargs)
            for name in optional:
                if name not in given:
                    kwargs[name] = None
        init(self, *args, **kwargs)

    return __init__


def _any_order_init(cls: type) -> Callable[..., None]:
    """A constructor for a dataclass whose fields a generated __init__ can't order: positional arguments fill the
    fields in order, keywords by name; then defaults, default factories and None for Optional fields."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    others = [f for f in dataclasses.fields(cls) if not f.init]
    frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} positional arguments but {len(args)} were given")
        values: Dict[str, Any] = {}
        for f, arg in zip(fields, args):
            values[f.name] = arg
        for name, value in kwargs.items():
            if name in values:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            if not any(f.name == name for f in fields):
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
            values[name] = value
        optional = _optional_names(cls)
        missing = []
        for f in fields + others:
            if f.name in values:
                continue
            if f.default is not dataclasses.MISSING:
                values[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                values[f.name] = f.default_factory()
            elif f.name in optional:
                values[f.name] = None
            elif f.init:
                missing.append(f.name)
        if missing:
            raise TypeError(f"{cls.__name__}() missing required arguments: {', '.join(map(repr, missing))}")
        for name, value in values.items():
            if frozen:
                object.__setattr__(self, name, value)
            else:
                setattr(self, name, value)
        post_init = getattr(self, "__post_init__", None)
        if callable(post_init):
            post_init()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


__all__ = ["BaseModel"]

"""`cog.BaseModel`: structured outputs; subclasses become dataclasses automatically."""

from __future__ import annotations

import dataclasses
from typing import Any


class BaseModel:
    """Subclass it with annotated fields; opt out of the dataclass with `auto_dataclass=False`."""

    def __init_subclass__(cls, *, auto_dataclass: bool = True, init: bool = True, **kwargs: Any) -> None:
        # keyword arguments other than auto_dataclass are passed to dataclass(), as in cog
        super().__init_subclass__()
        if auto_dataclass:
            dataclasses.dataclass(init=init, **kwargs)(cls)

"""cog.yaml data on its way into the model: ignored keys taken out, Cog's weights entries mapped (the types
cognix/config/compat.py and cog_weights.py hand each other and model.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KeyPath = tuple[str | int, ...]


class MappedWeight(dict):  # type: ignore[type-arg]
    """WeightSpec fields made from a Cog weights entry, already checked (model.py constructs the WeightSpec: its
    dest may lie outside /src, where Cog's target puts it)."""


@dataclass(frozen=True)
class Ignored:
    """A cog.yaml key cognix accepts but does not use: where it is and why."""

    path: KeyPath
    reason: str


@dataclass
class Prepared:
    """Raw cog.yaml data with ignored keys taken out and Cog's weights entries mapped."""

    data: dict[str, Any]
    ignored: list[Ignored] = field(default_factory=list)
    # (loc, pydantic error type, message, input): "cognix" problems are reported at the key, others at the value
    errors: list[tuple[KeyPath, str, str, Any]] = field(default_factory=list)
    # weights[k] of the data handed on came from cog.yaml's weights[weight_index[k]] (one Cog entry with several
    # sources gives several WeightSpecs)
    weight_index: list[int] = field(default_factory=list)

    def remap(self, loc: KeyPath) -> KeyPath:
        """A validation error's location in the data handed on -> its location in cog.yaml."""
        if len(loc) >= 2 and loc[0] == "weights" and isinstance(loc[1], int) and loc[1] < len(self.weight_index):
            return ("weights", self.weight_index[loc[1]], *loc[2:])
        return loc

"""cognix.config: cog.yaml as a validated CogConfig, and the model's Python requirements."""

from cognix.config.loader import load_config
from cognix.config.model import (
    Build,
    CogConfig,
    Concurrency,
    Mount,
    RunStep,
    WeightSpec,
)
from cognix.config.requirements import Requirements, requirements_of

__all__ = [
    "Build",
    "CogConfig",
    "Concurrency",
    "Mount",
    "Requirements",
    "RunStep",
    "WeightSpec",
    "load_config",
    "requirements_of",
]

"""`cog.schema` (cog 0.8 to 0.16): the status and webhook-event enums of Cog's HTTP API.

Its pydantic request and response models (PredictionRequest, PredictionResponse, Training*, WebhookUrl) were the
old server's wire format; cognix's runtime has its own and does not provide them.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, List, Optional

#: where a built image keeps its OpenAPI schema
BUNDLED_SCHEMA_PATH = ".cog/openapi_schema.json"


class Status(str, Enum):
    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    FAILED = "failed"

    @staticmethod
    def is_terminal(status: Optional[Status]) -> bool:
        return status in {Status.SUCCEEDED, Status.CANCELED, Status.FAILED}


class WebhookEvent(str, Enum):
    START = "start"
    OUTPUT = "output"
    LOGS = "logs"
    COMPLETED = "completed"

    @classmethod
    def default_events(cls) -> List[WebhookEvent]:
        return [cls.START, cls.OUTPUT, cls.LOGS, cls.COMPLETED]


def __getattr__(name: str) -> Any:
    if name == "PYDANTIC_V2":  # computed on first use (cog.types)
        from cog import types

        return types.PYDANTIC_V2
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BUNDLED_SCHEMA_PATH", "PYDANTIC_V2", "Status", "WebhookEvent"]

"""`cog.logging` (cog 0.8 to 0.16): the JSON log format of Cog's server, for models that call setup_logging().

With structlog (which Cog's SDK brings) it configures what cog did: JSON lines with `severity` and `message`
(LOG_FORMAT=development: human-readable); without it, plain stdlib logging at that level.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Dict


def replace_level_with_severity(_: Any, __: str, event_dict: Dict[str, Any]) -> Dict[str, Any]:
    """structlog processor: the `level` field renamed `severity` and upper-cased (Stackdriver's name)."""
    if "level" in event_dict:
        event_dict["severity"] = event_dict.pop("level").upper()
    return event_dict


def setup_logging(*, log_level: int = logging.NOTSET) -> None:
    """Route stdlib and structlog logging through one handler on stderr, at `log_level`."""
    handler = logging.StreamHandler()
    try:
        import structlog
    except ImportError:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        development = os.environ.get("LOG_FORMAT", "") == "development"
        processors: list = [
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.TimeStamper(fmt="iso"),
        ]
        if development:
            processors.append(structlog.dev.set_exc_info)
        else:
            processors += [structlog.processors.format_exc_info, replace_level_with_severity]
        renamer = getattr(structlog.processors, "EventRenamer", None)
        if renamer is not None:
            processors.append(renamer("message"))
        structlog.configure(processors=processors + [structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
                            logger_factory=structlog.stdlib.LoggerFactory(), cache_logger_on_first_use=True)
        renderer = structlog.dev.ConsoleRenderer() if development else structlog.processors.JSONRenderer()
        handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=processors, processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(log_level)
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


__all__ = ["replace_level_with_severity", "setup_logging"]

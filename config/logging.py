"""Logging for every process (daphne, Celery worker and beat, the DHT runner, the validator node,
management commands): stdlib `logging` records rendered by structlog, as JSON lines (production) or
for a console (local). Code keeps calling `logging.getLogger(__name__)`; what `protocol.logs` and the
Celery signals bound (node, job, task) is merged into every line.

Django calls `logging_configure` at setup (settings.LOGGING_CONFIG); Celery calls it through its
`setup_logging` signal (config.celery), so its own formatting never replaces this."""

import logging
import logging.config
import sys
from typing import Any

import structlog
from structlog.typing import Processor

LOG_FORMATS = ("console", "json")

# Applied to every record, whether it came from stdlib logging or a structlog logger.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _renderers(log_format: str) -> list[Processor]:
    if log_format == "json":
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    # Plain tracebacks: rich's default shows local variables, which can hold key material.
    traceback = structlog.dev.plain_traceback
    return [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(), exception_formatter=traceback)]


def logging_dict(*, log_format: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: one handler on the root logger, its records rendered by structlog."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT={log_format!r}: expected one of {', '.join(LOG_FORMATS)}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderers(log_format)],
                # `extra={...}` of a stdlib call becomes keys of the line.
                "foreign_pre_chain": [*_SHARED, structlog.stdlib.ExtraAdder()],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.channels.server": {"level": "WARNING"},
            "daphne": {"level": "WARNING"},
            "celery": {"level": "WARNING"},
        },
    }


def logging_configure(config: dict[str, Any]) -> None:
    """settings.LOGGING_CONFIG: stdlib logging from `config`, structlog loggers into the same handler."""
    logging.config.dictConfig(config)
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

"""Context for log lines: bind who this node is and which job is being worked on, and every log
line inside (any `logging.getLogger(__name__)`, once config.logging has configured the process)
carries it. Built on `structlog.contextvars`, so asyncio tasks started inside inherit the binding
and leaving the block restores what was bound before."""

from contextlib import AbstractContextManager
from uuid import UUID

from structlog.contextvars import bound_contextvars


def bind_node(*, hotkey: str, role: str) -> AbstractContextManager[None]:
    """The node's own hotkey (SS58) and role, for the lifetime of a process's main loop."""
    return bound_contextvars(hotkey=hotkey, role=role)


def bind_job(job_uuid: UUID | str) -> AbstractContextManager[None]:
    """The job a block of work is about."""
    return bound_contextvars(job_uuid=str(job_uuid))

"""The Celery app of every role. Settings come from Django (CELERY_*: routes, queues, beat, limits);
logging is Django's (config.logging) with the running task bound into every line."""

import logging
import os
from collections.abc import Mapping
from contextvars import Token
from typing import Any

import structlog
from celery import Celery, signals
from django.conf import settings

from config.logging import logging_configure
from protocol.identity import node_ss58_or_empty
from protocol.liveness import CeleryLiveness, LivenessBeater

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
app = Celery("meshwork")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_bound: dict[str, Mapping[str, Token[Any]]] = {}  # task id → what task_prerun bound
_beaters: list[LivenessBeater] = []


@signals.setup_logging.connect
def _logging_setup(loglevel: int | str | None = None, **kwargs: Any) -> None:
    """Worker and beat log like every other process instead of Celery's own format; `-l` still sets
    the level."""
    logging_configure(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@signals.worker_process_init.connect
def _node_bind(**kwargs: Any) -> None:
    """Every line of a worker process says which node wrote it (tasks run on this thread)."""
    structlog.contextvars.bind_contextvars(role=str(settings.MESHWORK_ROLE), hotkey=node_ss58_or_empty())


@signals.task_prerun.connect
def _task_bind(task_id: str, task: Any, **kwargs: Any) -> None:
    _bound[task_id] = structlog.contextvars.bind_contextvars(task=task.name, task_id=task_id)


@signals.task_postrun.connect
def _task_unbind(task_id: str, **kwargs: Any) -> None:
    # Restores what was bound before, so an eager task run inside another keeps the outer's context.
    tokens = _bound.pop(task_id, None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)


@signals.worker_ready.connect
def _liveness_start(**kwargs: Any) -> None:
    """The worker's heartbeat (protocol/liveness.py), read by /readyz/ and `manage.py celery_alive`."""
    beater = LivenessBeater(CeleryLiveness())
    beater.start()
    _beaters.append(beater)


@signals.worker_shutdown.connect
def _liveness_stop(**kwargs: Any) -> None:
    while _beaters:
        _beaters.pop().stop()

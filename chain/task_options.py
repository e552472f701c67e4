"""Celery options for periodic tasks that read the chain (the role apps' metagraph copies).

A real chain's read may go to the node: an unreachable one (`ChainUnavailable`) is retried with
backoff and jitter inside the beat interval; anything else the runtime refused fails the task,
logged by Celery, and the next beat tries again. acks_late: these tasks rewrite a table from the
metagraph, so running one twice after a lost worker leaves the same rows."""

from collections.abc import Callable
from typing import Any, TypeVar

from celery import Task, shared_task

from chain.interface import ChainUnavailable

CHAIN_READ_TASK: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (ChainUnavailable,),
    "retry_backoff": True,
    "retry_backoff_max": 8,
    "retry_jitter": True,
    "max_retries": 3,
    "soft_time_limit": 60,
    "time_limit": 90,
}

T = TypeVar("T")


def chain_read_task(fn: Callable[[], T]) -> "Task[[], T]":
    """`@shared_task(**CHAIN_READ_TASK)`, typed (celery-types cannot type options passed as a dict)."""
    task: Task[[], T] = shared_task(**CHAIN_READ_TASK)(fn)
    return task

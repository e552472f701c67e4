"""Database calls from the long-running asyncio processes (the validator's node, the websocket
consumers, the DHT process) that outlive a Postgres restart.

Django reconnects only between requests (`close_old_connections` on request start and end): a
process that serves none keeps its broken connection for ever, and every later query fails with
"the connection is closed". `db_sync_to_async` is `sync_to_async` that, on a lost connection,
closes the thread's connections (the next query opens a fresh one) and tries again with backoff
until the database answers or DB_OUTAGE_RETRY_S passes.

Retrying is safe for the services called this way: each is one transaction, so a failed call
wrote nothing, and the writes are idempotent (compare-and-set on a status, "already done" guards)."""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

# What a lost or refused connection raises (psycopg's errors arrive wrapped as these).
CONNECTION_ERRORS = (OperationalError, InterfaceError)
MAX_PAUSE_S = 5.0


def connections_reset() -> None:
    """Closes this thread's database connections; Django opens fresh ones on the next query."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except CONNECTION_ERRORS:
            connection.connection = None  # closing a dead socket can fail: drop it all the same


def db_sync_to_async(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """`sync_to_async(fn)` (thread-sensitive: one connection per process) that survives an outage."""
    call = sync_to_async(fn)
    reset = sync_to_async(connections_reset)

    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        deadline = time.monotonic() + settings.DB_OUTAGE_RETRY_S
        pause = 0.1
        while True:
            try:
                return await call(*args, **kwargs)
            except CONNECTION_ERRORS as exc:
                await reset()
                if time.monotonic() + pause > deadline:
                    raise
                name = getattr(fn, "__qualname__", repr(fn))
                logger.warning("database unreachable in %s (%s); retrying in %.1fs", name, exc, pause)
                await asyncio.sleep(pause * random.uniform(1.0, 1.5))
                pause = min(pause * 2, MAX_PAUSE_S)

    return run

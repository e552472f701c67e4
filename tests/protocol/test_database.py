"""A long-running process's database calls outlive a lost connection (a Postgres restart): the
connection is closed and the call retried, instead of every later query failing."""

from typing import Any

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.db import IntegrityError, OperationalError, connection

from protocol.database import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _close() -> None:
    connection.close()


def _terminate(pid: int) -> None:
    """What a Postgres restart does to every session: the server ends it under the client's feet."""
    params = connection.get_connection_params()
    dsn = {k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}
    with psycopg.connect(**dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def test_plain_sync_to_async_stays_broken_after_the_connection_is_lost() -> None:
    # The failure this module exists for: without a reset, the dead connection is kept for ever.
    pid = await sync_to_async(_backend_pid)()
    await sync_to_async(_terminate)(pid)
    for _ in range(2):
        with pytest.raises(OperationalError):
            await sync_to_async(_backend_pid)()
    await sync_to_async(_close)()


async def test_a_lost_connection_is_replaced_and_the_call_retried() -> None:
    pid = await db_sync_to_async(_backend_pid)()
    await sync_to_async(_terminate)(pid)
    again = await db_sync_to_async(_backend_pid)()
    assert again != pid  # a fresh session answered
    assert await db_sync_to_async(_backend_pid)() == again  # and it is kept while it works


async def test_an_outage_longer_than_the_retry_window_raises(settings: Any) -> None:
    settings.DB_OUTAGE_RETRY_S = 0.5
    calls: list[int] = []

    def unreachable() -> None:
        calls.append(1)
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError):
        await db_sync_to_async(unreachable)()
    assert 2 <= len(calls) <= 10  # retried with backoff, then gave up


async def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def conflict() -> None:
        calls.append(1)
        raise IntegrityError("duplicate key")

    with pytest.raises(IntegrityError):
        await db_sync_to_async(conflict)()
    assert calls == [1]


async def test_arguments_and_results_pass_through() -> None:
    def add(a: int, *, b: int) -> int:
        return a + b

    assert await db_sync_to_async(add)(2, b=3) == 5

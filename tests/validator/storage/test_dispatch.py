import asyncio
import threading
from typing import Any
from uuid import uuid4

import django.db
import pytest

from protocol.messages.storage import (
    FacilitatorStorageMessage,
    ObjectDeleteRequest,
    ObjectFetchRequest,
    ObjectStoreRequest,
)
from validator.models import FacilitatorOutbox
from validator.storage import dispatch
from validator.storage.dispatch import StorageDispatch


def store_request() -> ObjectStoreRequest:
    return ObjectStoreRequest(object_id=uuid4(), size=1, sha256="0" * 64, path="/s/")


async def test_duplicates_in_flight_are_ignored_and_concurrency_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    running: list[Any] = []
    peak = 0
    lock = threading.Lock()

    def fake_run(message: Any) -> None:
        nonlocal peak
        with lock:
            running.append(message)
            peak = max(peak, len(running))
        release.wait(5)
        with lock:
            running.remove(message)

    monkeypatch.setattr(dispatch, "storage_request_run", fake_run)
    notified: list[int] = []
    storage = StorageDispatch(notify=lambda: notified.append(1), concurrency=2)
    first = store_request()
    assert storage.submit(first)
    assert not storage.submit(first)  # resent after a reconnect while still placing
    others: list[FacilitatorStorageMessage] = [store_request(), ObjectDeleteRequest(object_id=uuid4())]
    fetch = ObjectFetchRequest(object_id=first.object_id, request_id=uuid4(), path="/r/")
    assert all(storage.submit(m) for m in [*others, fetch])  # another operation or download is not a duplicate
    await asyncio.sleep(0.3)
    assert peak == 2  # the other two wait for a slot
    release.set()
    for _ in range(50):
        if not storage.in_flight:
            break
        await asyncio.sleep(0.05)
    assert not storage.in_flight
    assert len(notified) == 4
    assert storage.submit(first)  # no longer in flight: a resend runs again


@pytest.mark.django_db
def test_a_crash_is_answered_as_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(message: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(dispatch, "object_place", crash)
    monkeypatch.setattr(django.db.connections, "close_all", lambda: None)  # keep the test's transaction
    monkeypatch.setattr(dispatch, "close_old_connections", lambda: None)
    request = store_request()
    dispatch.storage_request_run(request)
    (row,) = FacilitatorOutbox.objects.all()
    assert row.payload["type"] == "object.failed"
    assert row.payload["reason"] == "internal"
    assert row.job_id is None


async def test_requests_for_one_object_run_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []

    def fake_run(message: Any) -> None:
        order.append(f"start {message.type}")
        threading.Event().wait(0.2)
        order.append(f"end {message.type}")

    monkeypatch.setattr(dispatch, "storage_request_run", fake_run)
    storage = StorageDispatch(notify=lambda: None, concurrency=4)
    store = store_request()
    storage.submit(store)
    storage.submit(ObjectDeleteRequest(object_id=store.object_id))
    await asyncio.gather(*storage.in_flight.values())
    assert order == ["start object.store", "end object.store", "start object.delete", "end object.delete"]
    assert not storage.object_locks

"""Runs the node's storage requests: each in a worker thread of its own (not thread-sensitive, so a
64 MiB placement never holds up the node's other DB calls), at most STORAGE_CONCURRENCY at once
so a burst cannot exhaust memory, and a request already in flight is not started twice (the
facilitator resends after reconnects). Every reply goes through the outbox; `notify` wakes its
flusher when a request ends."""

import asyncio
import logging
from collections.abc import Callable
from uuid import UUID

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from protocol.messages.storage import (
    FacilitatorStorageMessage,
    ObjectDeleteRequest,
    ObjectFetchRequest,
    ObjectStoreRequest,
    StorageFailureReason,
)
from validator.services.storage_objects import object_fetch_failed, object_store_failed
from validator.storage.deletion import object_delete
from validator.storage.placement import object_place
from validator.storage.retrieval import object_retrieve

logger = logging.getLogger(__name__)
STORAGE_CONCURRENCY = 4  # each holds up to about 4× an object in memory (plaintext, ciphertext, shares)


def storage_request_run(message: FacilitatorStorageMessage) -> None:
    """One request, synchronously, in the calling thread; a crash is answered as `internal`."""
    close_old_connections()
    try:
        if isinstance(message, ObjectStoreRequest):
            object_place(message)
        elif isinstance(message, ObjectFetchRequest):
            object_retrieve(message)
        else:
            object_delete(message)
    except Exception:
        logger.exception("storage: %s of %s crashed", message.type, message.object_id)
        _crash_answer(message)
    finally:
        connections.close_all()  # this worker thread's own connections: none is left open between requests


def _crash_answer(message: FacilitatorStorageMessage) -> None:
    try:
        if isinstance(message, ObjectStoreRequest):
            object_store_failed(object_id=message.object_id, reason=StorageFailureReason.INTERNAL, detail="crashed")
        elif isinstance(message, ObjectFetchRequest):
            object_fetch_failed(
                object_id=message.object_id,
                request_id=message.request_id,
                reason=StorageFailureReason.INTERNAL,
                detail="crashed",
            )
    except Exception:
        logger.exception("storage: could not record the crash of %s of %s", message.type, message.object_id)


def _request_key(message: FacilitatorStorageMessage) -> tuple[str, UUID, UUID | None]:
    return message.type, message.object_id, message.request_id if isinstance(message, ObjectFetchRequest) else None


class StorageDispatch:
    def __init__(self, *, notify: Callable[[], None], concurrency: int = STORAGE_CONCURRENCY) -> None:
        self.notify = notify
        self.slots = asyncio.Semaphore(concurrency)
        self.in_flight: dict[tuple[str, UUID, UUID | None], asyncio.Task[None]] = {}
        # Requests for one object run one after another: a delete never races the store it follows.
        self.object_locks: dict[UUID, tuple[asyncio.Lock, int]] = {}

    def submit(self, message: FacilitatorStorageMessage) -> bool:
        """False (and nothing started) when the same request is already in flight."""
        key = _request_key(message)
        if key in self.in_flight:
            return False
        self.in_flight[key] = asyncio.create_task(self._run(key, message))
        return True

    async def _run(self, key: tuple[str, UUID, UUID | None], message: FacilitatorStorageMessage) -> None:
        lock, users = self.object_locks.get(message.object_id, (asyncio.Lock(), 0))
        self.object_locks[message.object_id] = (lock, users + 1)
        try:
            async with lock, self.slots:
                await sync_to_async(storage_request_run, thread_sensitive=False)(message)
        finally:
            lock, users = self.object_locks[message.object_id]
            if users == 1:
                del self.object_locks[message.object_id]
            else:
                self.object_locks[message.object_id] = (lock, users - 1)
            self.in_flight.pop(key, None)
            self.notify()


STORAGE_REQUESTS = (ObjectStoreRequest, ObjectFetchRequest, ObjectDeleteRequest)

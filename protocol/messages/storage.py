"""Facilitator ↔ validator storage messages, over `/v1/facilitator/` (docs/storage.md).

The bytes never travel in these frames: the validator fetches an upload's plaintext from the
facilitator's staging endpoint and sends a download's plaintext back to it, over signed HTTP
(protocol/signed_http.py). These messages say what to move, and what came of it."""

import enum
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from protocol.messages.common import Message
from protocol.types import StrictModel

SHA256_HEX = r"^[0-9a-f]{64}$"
MAX_OBJECT_BYTES = 1 << 40  # a wire bound; the facilitator's STORAGE_MAX_OBJECT_BYTES is far lower


class StorageFailureReason(enum.StrEnum):
    """Why a store, fetch or delete did not happen (machine-readable; `detail` says more)."""

    INSUFFICIENT_SPACE = "insufficient_space"  # fewer than n miners of distinct coldkeys have room → 507
    STAGING_UNREADABLE = "staging_unreadable"  # the facilitator's staged bytes could not be fetched
    DIGEST_MISMATCH = "digest_mismatch"  # the staged bytes are not the size/sha256 announced
    UNRECOVERABLE = "unrecoverable"  # fewer than k intact shares could be read
    UNKNOWN_OBJECT = "unknown_object"  # this validator holds no such object
    DELIVERY_FAILED = "delivery_failed"  # the plaintext could not be sent back to the facilitator
    INTERNAL = "internal"


class ObjectHealth(StrictModel):
    """DESIGN.md's `health`: `shares` placed of `needed` (k) to read; `placed` is n, the shares
    the object is meant to have; `verified_at` the last time every live share passed an audit."""

    shares: int = Field(ge=0, le=255)
    needed: int = Field(ge=1, le=255)
    placed: int = Field(ge=0, le=255)
    verified_at: AwareDatetime | None = None


class ObjectStoreRequest(Message):
    """Facilitator → validator: place the object staged at `path` (relative to the facilitator's
    HTTP base) whose plaintext is `size` bytes with `sha256`."""

    type: Literal["object.store"] = "object.store"
    object_id: UUID
    size: int = Field(ge=0, le=MAX_OBJECT_BYTES)
    sha256: str = Field(pattern=SHA256_HEX)
    path: str = Field(min_length=1, max_length=300, pattern=r"^/")


class ObjectFetchRequest(Message):
    """Facilitator → validator: rebuild the object and PUT its plaintext to `path`, as request
    `request_id` (one download; the facilitator matches the reply by it)."""

    type: Literal["object.fetch"] = "object.fetch"
    object_id: UUID
    request_id: UUID
    path: str = Field(min_length=1, max_length=300, pattern=r"^/")


class ObjectDeleteRequest(Message):
    """Facilitator → validator: forget the object and delete its shares (idempotent)."""

    type: Literal["object.delete"] = "object.delete"
    object_id: UUID


class ObjectStored(Message):
    """Validator → facilitator: the object is placed (sent again on request: idempotent)."""

    type: Literal["object.stored"] = "object.stored"
    object_id: UUID
    health: ObjectHealth


class ObjectFetched(Message):
    """Validator → facilitator: the plaintext of request `request_id` was PUT to its path."""

    type: Literal["object.fetched"] = "object.fetched"
    object_id: UUID
    request_id: UUID


class ObjectHealthUpdate(Message):
    """Validator → facilitator: after an audit or a repair changed what the object looks like."""

    type: Literal["object.health"] = "object.health"
    object_id: UUID
    health: ObjectHealth


class ObjectDeleted(Message):
    type: Literal["object.deleted"] = "object.deleted"
    object_id: UUID


class ObjectFailed(Message):
    """Validator → facilitator: `operation` of the object failed; nothing of it is left stored
    when a store fails."""

    type: Literal["object.failed"] = "object.failed"
    object_id: UUID
    operation: Literal["store", "fetch", "delete"]
    request_id: UUID | None = None  # the fetch's, when operation is "fetch"
    reason: StorageFailureReason
    detail: str = Field(default="", max_length=2000)


FacilitatorStorageMessage = ObjectStoreRequest | ObjectFetchRequest | ObjectDeleteRequest
ValidatorStorageMessage = ObjectStored | ObjectFetched | ObjectHealthUpdate | ObjectDeleted | ObjectFailed

"""Placing an object (object.store): fetch the staged plaintext, encrypt it under a fresh key,
erasure-code it k-of-n, seal each share for its miner and put it on n miners of distinct coldkeys.
Either all n are placed and object.stored goes upstream, or nothing stays stored and object.failed
says why."""

import hashlib
import logging
from uuid import uuid4

from django.conf import settings

from protocol.messages.storage import ObjectStoreRequest, StorageFailureReason
from protocol.storage.envelope import key_wrap, object_encrypt
from protocol.storage.erasure import shares_encode
from validator.models import Miner, SharePlacement, StoredObject
from validator.selectors.storage import placements_not_deleted, storage_miner_candidates, stored_object_find
from validator.services.storage_objects import (
    object_store_failed,
    object_stored_record,
    placement_begin,
    placement_mark,
    stored_object_begin,
)
from validator.storage.codec import share_seal_for, storage_secret
from validator.storage.transport import TransportFailure, miner_space_available, share_delete, share_put, staged_get

logger = logging.getLogger(__name__)


def object_place(request: ObjectStoreRequest) -> None:
    existing = stored_object_find(object_id=request.object_id)
    if existing is not None and existing.status == StoredObject.Status.STORED:
        object_stored_record(object_id=existing.id)  # a resent store: the same answer again
        return
    if existing is not None and existing.status in (StoredObject.Status.DELETING, StoredObject.Status.DELETED):
        object_store_failed(
            object_id=request.object_id, reason=StorageFailureReason.INTERNAL, detail="the object was deleted"
        )
        return
    if request.size > settings.STORAGE_MAX_OBJECT_BYTES:  # held in memory here: never more than the bound
        object_store_failed(
            object_id=request.object_id,
            reason=StorageFailureReason.INTERNAL,
            detail=f"{request.size} bytes is over this validator's STORAGE_MAX_OBJECT_BYTES",
        )
        return
    if existing is not None:  # placing (a crashed attempt) or failed: its shares go before it starts over
        placements_withdraw(placements_not_deleted(object_id=existing.id))
    plaintext = _staged_fetch(request)
    if plaintext is None:
        return
    key, ciphertext = object_encrypt(plaintext, object_id=request.object_id)
    del plaintext
    k, n = settings.STORAGE_K, settings.STORAGE_N
    obj = stored_object_begin(
        object_id=request.object_id,
        size=request.size,
        sha256=request.sha256,
        ciphertext_size=len(ciphertext),
        wrapped_key=key_wrap(key, secret=storage_secret()),
        k=k,
        n=n,
    )
    shares = shares_encode(ciphertext, k=k, n=n)
    del ciphertext
    placed = _shares_place(obj, shares)
    if len(placed) < n:
        placements_withdraw(placed)
        object_store_failed(
            object_id=obj.id,
            reason=StorageFailureReason.INSUFFICIENT_SPACE,
            detail=f"{len(placed)} of {n} shares found a miner of a distinct coldkey with room",
        )
        return
    object_stored_record(object_id=obj.id)


def _staged_fetch(request: ObjectStoreRequest) -> bytes | None:
    try:
        plaintext = staged_get(request.path, request.size)
    except TransportFailure as exc:
        # A body longer or shorter than announced is the announcement's fault, not the link's.
        wrong_size = exc.reason in ("too_large", "malformed")
        reason = StorageFailureReason.DIGEST_MISMATCH if wrong_size else StorageFailureReason.STAGING_UNREADABLE
        object_store_failed(object_id=request.object_id, reason=reason, detail=f"staged object: {exc.detail}")
        return None
    if hashlib.sha256(plaintext).hexdigest() != request.sha256:
        object_store_failed(
            object_id=request.object_id,
            reason=StorageFailureReason.DIGEST_MISMATCH,
            detail="the staged bytes do not have the announced sha256",
        )
        return None
    return plaintext


def _shares_place(obj: StoredObject, shares: list[bytes]) -> list[SharePlacement]:
    """Each share on the best candidate of a coldkey not used yet that has room and takes it (a
    miner that fails is not asked again, but another of its coldkey may be); stops at the first
    share no candidate took (the object cannot be complete then). The placements made."""
    placed: list[SharePlacement] = []
    used_coldkeys: set[str] = set()
    tried: set[int] = set()
    for index, share in enumerate(shares):
        while True:
            candidates = storage_miner_candidates(exclude_coldkeys=used_coldkeys, exclude_miners=tried)
            if not candidates:
                return placed
            miner = candidates[0]
            tried.add(miner.pk)
            placement = share_place(obj=obj, index=index, share=share, miner=miner)
            if placement is not None:
                placed.append(placement)
                used_coldkeys.add(placement.coldkey)
                break
    return placed


def share_place(*, obj: StoredObject, index: int, share: bytes, miner: Miner) -> SharePlacement | None:
    """Share `index` sealed for `miner` and put there (a live placement), or None when the miner
    lacks room or fails (whatever it may have kept is deleted, or left to the cleanup sweep)."""
    try:
        if miner_space_available(miner=miner) < len(share):
            return None
    except TransportFailure as exc:
        logger.info("storage: miner %s did not say its space: %s", miner.hotkey, exc)
        return None
    share_id = uuid4()
    sealed, root = share_seal_for(share=share, share_id=share_id, miner_hotkey=miner.hotkey)
    chunk_bytes = settings.STORAGE_CHUNK_BYTES
    placement = placement_begin(
        obj=obj, index=index, miner=miner, size=len(sealed), chunk_bytes=chunk_bytes, root=root, share_id=share_id
    )
    try:
        share_put(miner=miner, share_id=share_id, sealed=sealed, root_hex=root, chunk_bytes=chunk_bytes)
    except TransportFailure as exc:
        logger.info("storage: miner %s refused share %s of %s: %s", miner.hotkey, index, obj.id, exc)
        placements_withdraw([placement])
        return None
    placement_mark(placement_id=share_id, status=SharePlacement.Status.LIVE)
    placement.status = SharePlacement.Status.LIVE
    return placement


def placements_withdraw(placements: list[SharePlacement]) -> None:
    """Best effort: each deleted on its miner (then `deleted`); one the miner did not confirm is
    `lost` ("withdrawn") so the cleanup sweep deletes it later."""
    for placement in placements:
        try:
            share_delete(miner=placement.miner, share_id=placement.id)
        except TransportFailure as exc:
            logger.info("storage: share %s not deleted on %s yet: %s", placement.id, placement.miner.hotkey, exc)
            placement_mark(placement_id=placement.id, status=SharePlacement.Status.LOST, lost_reason="withdrawn")
        else:
            placement_mark(placement_id=placement.id, status=SharePlacement.Status.DELETED)

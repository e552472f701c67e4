"""Retrieving an object (object.fetch): read live shares in random order, each checked against its
root before use (a bad one marks its placement corrupt and the next is read), stop at k intact,
decode, decrypt (the AEAD tag proves the whole), check the sha256 and PUT the plaintext back to
the facilitator."""

import hashlib
import logging
import random

from protocol.messages.storage import ObjectFetchRequest, StorageFailureReason
from protocol.storage.envelope import ObjectCorrupt, key_unwrap, object_decrypt
from protocol.storage.erasure import NotEnoughShares, shares_decode
from validator.models import StoredObject
from validator.selectors.storage import placements_live, stored_object_find
from validator.services.storage_objects import object_fetch_failed, object_fetched_record, placement_corrupt_record
from validator.storage.codec import share_unseal_checked, storage_secret
from validator.storage.transport import TransportFailure, retrieval_put, share_get

logger = logging.getLogger(__name__)


def object_retrieve(request: ObjectFetchRequest) -> None:
    obj = stored_object_find(object_id=request.object_id)
    if obj is None or obj.status != StoredObject.Status.STORED:
        _failed(request, StorageFailureReason.UNKNOWN_OBJECT, "this validator holds no such object")
        return
    try:
        plaintext = object_rebuild(obj)
    except (ObjectCorrupt, NotEnoughShares) as exc:
        _failed(request, StorageFailureReason.UNRECOVERABLE, str(exc) or type(exc).__name__)
        return
    if len(plaintext) != obj.size or hashlib.sha256(plaintext).hexdigest() != obj.sha256:
        _failed(request, StorageFailureReason.UNRECOVERABLE, "the rebuilt object is not the one stored")
        return
    try:
        retrieval_put(request.path, plaintext)
    except TransportFailure as exc:
        _failed(request, StorageFailureReason.DELIVERY_FAILED, exc.detail)
        return
    object_fetched_record(object_id=obj.id, request_id=request.request_id)


def object_ciphertext_read(obj: StoredObject) -> bytes:
    """The ciphertext from any k intact shares; NotEnoughShares when fewer could be read."""
    placements = placements_live(object_id=obj.id)
    random.shuffle(placements)  # spreads reads over the miners; no fixed first miner to lean on
    intact: dict[int, bytes] = {}
    for placement in placements:
        if len(intact) >= obj.k:
            break
        if placement.index in intact:
            continue
        try:
            sealed = share_get(miner=placement.miner, share_id=placement.id, size=placement.size)
        except TransportFailure as exc:
            logger.info("storage: share %s unreadable on %s: %s", placement.id, placement.miner.hotkey, exc)
            continue
        share = share_unseal_checked(sealed=sealed, placement=placement)
        if share is None:
            logger.warning("storage: share %s on %s does not match its root", placement.id, placement.miner.hotkey)
            placement_corrupt_record(placement_id=placement.id, detail="read for a retrieval: not its root")
            continue
        intact[placement.index] = share
    if len(intact) < obj.k:
        raise NotEnoughShares(f"{len(intact)} intact shares of the {obj.k} needed")
    return shares_decode(intact, k=obj.k, n=obj.n, size=obj.ciphertext_size)


def object_rebuild(obj: StoredObject) -> bytes:
    """The plaintext; ObjectCorrupt when the ciphertext or the wrapped key does not verify."""
    key = key_unwrap(bytes(obj.wrapped_key), secret=storage_secret())
    return object_decrypt(object_ciphertext_read(obj), key=key, object_id=obj.id)


def _failed(request: ObjectFetchRequest, reason: StorageFailureReason, detail: str) -> None:
    object_fetch_failed(object_id=request.object_id, request_id=request.request_id, reason=reason, detail=detail)

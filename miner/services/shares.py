"""Sealed shares on this miner's disk (docs/storage.md). An upload is streamed into a temporary
file while its sha256 (for the request's signature) and its chunk leaves (for the root) are
computed; only a complete, matching, admitted upload is renamed into place and recorded, so a
truncated or refused one leaves nothing behind."""

import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from django.db import transaction

from miner.models import StorageVolume, StoredShare
from miner.services.storage_space import StorageRefused, storage_admit, storage_lock
from protocol.storage.audit import AuditAnswer, AuditChallenge, audit_answer_build
from protocol.storage.proofs import chunk_count, chunk_leaf, share_root

READ_BYTES = 64 * 1024
LEAF_BYTES = 32


class ShareRefused(Exception):
    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail


@dataclass
class ReceivedShare:
    temp: Path
    size: int
    sha256: str
    root: str
    leaves: list[bytes]


def share_path(share: StoredShare) -> Path:
    return Path(share.volume.directory) / share.validator_hotkey / str(share.share_id)


def _leaves_path(path: Path) -> Path:
    return path.with_name(path.name + ".leaves")


def share_receive(
    *, read: Callable[[int], bytes], length: int, chunk_bytes: int, volume: StorageVolume
) -> ReceivedShare:
    """Streams exactly `length` bytes into a temporary file on `volume`; fewer is `truncated`."""
    incoming = Path(volume.directory) / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    temp = incoming / f"{secrets.token_hex(8)}.part"
    digest, pending, size = hashlib.sha256(), bytearray(), 0
    leaves: list[bytes] = []
    try:
        with temp.open("wb") as out:
            while size < length:
                block = read(min(READ_BYTES, length - size))
                if not block:
                    break
                size += len(block)
                digest.update(block)
                out.write(block)
                pending += block
                while len(pending) >= chunk_bytes:
                    leaves.append(chunk_leaf(len(leaves), bytes(pending[:chunk_bytes])))
                    del pending[:chunk_bytes]
        if size < length:
            raise ShareRefused(400, "truncated", f"the body ended after {size} of {length} bytes")
        if pending or not leaves:
            leaves.append(chunk_leaf(len(leaves), bytes(pending)))
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return ReceivedShare(temp=temp, size=size, sha256=digest.hexdigest(), root=share_root(leaves).hex(), leaves=leaves)


def share_discard(received: ReceivedShare) -> None:
    received.temp.unlink(missing_ok=True)


def share_commit(
    *, received: ReceivedShare, validator_hotkey: str, share_id: UUID, root: str, chunk_bytes: int
) -> tuple[StoredShare, bool]:
    """Records the share (True) or finds the same one already here (False); the temporary file
    is gone either way."""
    try:
        if received.root != root:
            raise ShareRefused(400, "root_mismatch", "the body does not hash to the root given")
        with transaction.atomic():
            storage_lock()
            existing = StoredShare.objects.filter(share_id=share_id).first()
            if existing is not None:
                if existing.validator_hotkey == validator_hotkey and existing.root == root:
                    return existing, False
                raise ShareRefused(409, "share_exists", "a different share has this id")
            try:
                volume = storage_admit(validator_hotkey=validator_hotkey, size=received.size)
            except StorageRefused as exc:
                raise ShareRefused(507, exc.reason, exc.detail) from exc
            share = StoredShare.objects.create(
                share_id=share_id,
                validator_hotkey=validator_hotkey,
                volume=volume,
                size=received.size,
                chunk_bytes=chunk_bytes,
                root=root,
            )
            path = share_path(share)
            path.parent.mkdir(parents=True, exist_ok=True)
            _leaves_path(path).write_bytes(b"".join(received.leaves))
            os.replace(received.temp, path)  # same filesystem: atomic; the row commits right after
        return share, True
    finally:
        received.temp.unlink(missing_ok=True)


def share_delete(*, share: StoredShare) -> None:
    path = share_path(share)
    StoredShare.objects.filter(
        pk=share.pk
    ).delete()  # the row first: a crash between leaves a stray file, never a row without one
    _files_remove(path)


def _files_remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    _leaves_path(path).unlink(missing_ok=True)


def share_audit_answer(*, share: StoredShare, challenge: AuditChallenge) -> AuditAnswer:
    """Reads only the chunks the nonce names, and the leaves, never the whole share. A file that
    is gone raises FileNotFoundError (the view answers 404: the share is not held)."""
    path = share_path(share)
    raw = _leaves_path(path).read_bytes()
    n = chunk_count(share.size, chunk_bytes=share.chunk_bytes)
    leaves = [raw[i * LEAF_BYTES : (i + 1) * LEAF_BYTES] for i in range(n)]
    with path.open("rb") as f:

        def read_chunk(index: int) -> bytes:
            f.seek(index * share.chunk_bytes)
            return f.read(share.chunk_bytes)

        return audit_answer_build(challenge, leaves=leaves, read_chunk=read_chunk)

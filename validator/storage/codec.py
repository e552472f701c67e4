"""Helpers shared by placement, retrieval and repair: the storage secret, sealing a share for a
miner and unsealing one checked against the root kept for its placement."""

from functools import cache
from uuid import UUID

from django.conf import settings

from protocol.storage.envelope import storage_secret_load_or_create
from protocol.storage.proofs import share_leaves, share_root
from protocol.storage.seal import seal_key, share_seal
from validator.models import SharePlacement


@cache
def storage_secret() -> bytes:
    return storage_secret_load_or_create(settings.STORAGE_SECRET_PATH)


def share_seal_for(*, share: bytes, share_id: UUID, miner_hotkey: str) -> tuple[bytes, str]:
    """(sealed bytes, hex Merkle root of them over STORAGE_CHUNK_BYTES chunks)."""
    sealed = share_seal(share, key=seal_key(storage_secret(), share_id=share_id, miner_hotkey=miner_hotkey))
    return sealed, share_root(share_leaves(sealed, chunk_bytes=settings.STORAGE_CHUNK_BYTES)).hex()


def share_unseal_checked(*, sealed: bytes, placement: SharePlacement) -> bytes | None:
    """The zfec share under `sealed`, or None when the bytes are not what was placed (size or root)."""
    if len(sealed) != placement.size:
        return None
    if share_root(share_leaves(sealed, chunk_bytes=placement.chunk_bytes)).hex() != placement.root:
        return None
    key = seal_key(storage_secret(), share_id=placement.id, miner_hotkey=placement.miner.hotkey)
    return share_seal(sealed, key=key)

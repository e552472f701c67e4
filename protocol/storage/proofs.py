"""Merkle commitments over a sealed share's chunks: protocol/benchmarks/merkle.py's tree, with a
leaf of its own (sha256(b"meshwork-chunk" || index (4 bytes BE) || chunk)) so a chunk leaf can
never pass for a benchmark row or an inner node."""

import hashlib

from protocol.benchmarks.merkle import MAX_INDEX, merkle_levels, merkle_path, merkle_root

CHUNK_PREFIX = b"meshwork-chunk"


def chunk_count(size: int, *, chunk_bytes: int) -> int:
    """Chunks of a share of `size` bytes (at least 1: an empty share has one empty chunk)."""
    return max(1, -(-size // chunk_bytes))


def chunk_length(index: int, *, size: int, chunk_bytes: int) -> int:
    """Bytes of chunk `index` (the last one may be shorter)."""
    return max(0, min(chunk_bytes, size - index * chunk_bytes))


def chunk_leaf(index: int, chunk: bytes | memoryview) -> bytes:
    if not 0 <= index < MAX_INDEX:
        raise ValueError("chunk index must fit in 4 bytes")
    leaf = hashlib.sha256(CHUNK_PREFIX + index.to_bytes(4, "big"))
    leaf.update(chunk)
    return leaf.digest()


def share_leaves(data: bytes, *, chunk_bytes: int) -> list[bytes]:
    view = memoryview(data)
    return [
        chunk_leaf(i, view[i * chunk_bytes : (i + 1) * chunk_bytes])
        for i in range(chunk_count(len(data), chunk_bytes=chunk_bytes))
    ]


def share_root(leaves: list[bytes]) -> bytes:
    return merkle_root(merkle_levels(leaves))


def share_path(leaves: list[bytes], index: int) -> list[bytes]:
    return merkle_path(merkle_levels(leaves), index)

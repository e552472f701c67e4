"""Merkle commitments over a sealed share's chunks (protocol/benchmarks/merkle.py's tree with a
leaf of its own: sha256(b"meshwork-chunk" || index (4 bytes BE) || chunk)). TO BE IMPLEMENTED."""


def chunk_count(size: int, *, chunk_bytes: int) -> int:
    """Chunks of a share of `size` bytes (at least 1: an empty share has one empty chunk)."""
    raise NotImplementedError


def chunk_leaf(index: int, chunk: bytes) -> bytes:
    raise NotImplementedError


def share_leaves(data: bytes, *, chunk_bytes: int) -> list[bytes]:
    raise NotImplementedError


def share_root(leaves: list[bytes]) -> bytes:
    raise NotImplementedError


def share_path(leaves: list[bytes], index: int) -> list[bytes]:
    raise NotImplementedError

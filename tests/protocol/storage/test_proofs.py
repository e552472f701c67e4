import os

import pytest

from protocol.benchmarks.merkle import merkle_verify, row_leaf
from protocol.storage.proofs import chunk_count, chunk_leaf, chunk_length, share_leaves, share_path, share_root


@pytest.mark.parametrize(("size", "chunks"), [(0, 1), (1, 1), (4096, 1), (4097, 2), (3 * 4096, 3)])
def test_chunk_count_and_lengths(size: int, chunks: int) -> None:
    assert chunk_count(size, chunk_bytes=4096) == chunks
    assert sum(chunk_length(i, size=size, chunk_bytes=4096) for i in range(chunks)) == size


def test_every_chunk_proves_against_the_root() -> None:
    data = os.urandom(5 * 4096 + 17)
    leaves = share_leaves(data, chunk_bytes=4096)
    root = share_root(leaves)
    for i in range(len(leaves)):
        chunk = data[i * 4096 : (i + 1) * 4096]
        assert merkle_verify(root=root, index=i, leaf=chunk_leaf(i, chunk), path=share_path(leaves, i), n_leaves=6)
        assert not merkle_verify(
            root=root, index=i, leaf=chunk_leaf(i, chunk + b"x"), path=share_path(leaves, i), n_leaves=6
        )


def test_a_chunk_leaf_is_not_a_benchmark_row_leaf() -> None:
    assert chunk_leaf(0, b"abc") != row_leaf(0, b"abc")

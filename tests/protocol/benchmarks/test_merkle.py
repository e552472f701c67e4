"""The row Merkle tree: every path verifies for every tree size (odd nodes promoted), and any
change to the leaf, index, path or size fails."""

import hashlib

import numpy as np
import pytest

from protocol.benchmarks.merkle import merkle_levels, merkle_path, merkle_root, merkle_verify, row_leaf


def leaves(count: int) -> list[bytes]:
    return [row_leaf(i, f"row {i}".encode()) for i in range(count)]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13, 17, 32, 33])
def test_every_path_verifies(count: int) -> None:
    items = leaves(count)
    levels = merkle_levels(items)
    root = merkle_root(levels)
    assert len(levels[-1]) == 1
    for index, leaf in enumerate(items):
        path = merkle_path(levels, index)
        assert len(path) <= max(1, count - 1).bit_length()
        assert merkle_verify(root=root, index=index, leaf=leaf, path=path, n_leaves=count)


def test_a_single_leaf_is_its_own_root() -> None:
    items = leaves(1)
    assert merkle_root(merkle_levels(items)) == items[0]


def test_odd_last_node_is_promoted_not_duplicated() -> None:
    items = leaves(3)
    levels = merkle_levels(items)
    assert levels[1][1] == items[2]
    assert merkle_path(levels, 2) == [levels[1][0]]


def test_tampering_fails() -> None:
    count = 11
    items = leaves(count)
    levels = merkle_levels(items)
    root = merkle_root(levels)
    path = merkle_path(levels, 4)
    good = {"root": root, "index": 4, "leaf": items[4], "path": path, "n_leaves": count}
    assert merkle_verify(**good)  # type: ignore[arg-type]
    flipped = bytes([path[0][0] ^ 1]) + path[0][1:]
    for change in (
        {"leaf": items[5]},
        {"index": 5},
        {"index": count},
        {"path": [flipped, *path[1:]]},
        {"path": path[:-1]},
        {"path": [*path, path[0]]},
        {"root": hashlib.sha256(b"other").digest()},
    ):
        assert not merkle_verify(**(good | change)), change  # type: ignore[arg-type]


def test_the_tree_size_fixes_the_path_shape() -> None:
    # The last of 11 leaves is promoted at the first level; in a tree of 12 it has a sibling there.
    levels = merkle_levels(leaves(11))
    path = merkle_path(levels, 10)
    assert merkle_verify(root=merkle_root(levels), index=10, leaf=leaves(11)[10], path=path, n_leaves=11)
    assert not merkle_verify(root=merkle_root(levels), index=10, leaf=leaves(11)[10], path=path, n_leaves=12)


def test_the_leaf_binds_the_index_and_the_whole_row() -> None:
    row = bytes(range(64))
    assert row_leaf(1, row) != row_leaf(2, row)
    assert row_leaf(1, row) != row_leaf(1, row[:-1])
    assert row_leaf(1, row) == hashlib.sha256(b"meshwork-row" + (1).to_bytes(4, "big") + row).digest()


def test_a_row_hashed_in_place_is_the_same_leaf() -> None:
    row = np.arange(16, dtype="<f4")
    assert row_leaf(5, row.data) == row_leaf(5, row.tobytes())


def test_empty_tree_and_bad_index_raise() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        merkle_levels([])
    with pytest.raises(IndexError):
        merkle_path(merkle_levels(leaves(3)), 3)

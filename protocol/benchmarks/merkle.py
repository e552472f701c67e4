"""A binary SHA-256 Merkle tree over the rows of C.

A leaf hashes a WHOLE row: sha256(b"meshwork-row" || index (4 bytes BE) || row float32 LE bytes),
so an opened row cannot be changed after the commitment. An inner node is
sha256(b"meshwork-node" || left || right) (the prefixes keep leaves and nodes apart). On a level of
odd width the last node has no sibling and is PROMOTED unchanged to the next level; it is not
duplicated, so a path holds only real siblings and its length depends on (index, n_leaves), which
the verifier knows (n), so a prover cannot pick a shape."""

import hashlib

LEAF_PREFIX = b"meshwork-row"
NODE_PREFIX = b"meshwork-node"
MAX_INDEX = 1 << 32


def row_leaf(index: int, row: bytes | memoryview) -> bytes:
    """A memoryview (of a numpy row, say) is hashed in place: no 4·n-byte copy."""
    if not 0 <= index < MAX_INDEX:
        raise ValueError("row index must fit in 4 bytes")
    leaf = hashlib.sha256(LEAF_PREFIX + index.to_bytes(4, "big"))
    leaf.update(row)
    return leaf.digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def merkle_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level, leaves first and the root's level (one node) last."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            parents.append(level[-1])  # promoted
        levels.append(parents)
    return levels


def merkle_root(levels: list[list[bytes]]) -> bytes:
    return levels[-1][0]


def merkle_path(levels: list[list[bytes]], index: int) -> list[bytes]:
    """The siblings from leaf to root (levels where the node was promoted contribute none)."""
    if not 0 <= index < len(levels[0]):
        raise IndexError(index)
    path = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index //= 2
    return path


def merkle_verify(*, root: bytes, index: int, leaf: bytes, path: list[bytes], n_leaves: int) -> bool:
    if not 0 <= index < n_leaves:
        return False
    node, width, used = leaf, n_leaves, 0
    while width > 1:
        if index ^ 1 < width:
            if used == len(path):
                return False
            sibling = path[used]
            used += 1
            node = _node(node, sibling) if index % 2 == 0 else _node(sibling, node)
        index //= 2
        width = (width + 1) // 2
    return used == len(path) and node == root

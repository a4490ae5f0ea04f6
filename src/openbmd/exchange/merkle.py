"""RFC 9162 §2.1 Merkle tree over a persistent store of perfect subtree hashes.

Hashing (RFC 9162 §2.1.1): ``leaf_hash(d) = SHA-256(0x00 ‖ d)``,
``node_hash(l, r) = SHA-256(0x01 ‖ l ‖ r)`` and the empty tree hashes to ``SHA-256("")``.

Storage model. A *perfect node* ``(level, index)`` is the root of the complete subtree over the
leaves ``[index·2^level, (index+1)·2^level)``; level 0 holds the leaf hashes themselves. Perfect
nodes never change once the log has grown past them, so a store can persist them keyed by
``(level, index)`` and every root, inclusion proof and consistency proof of RFC 9162 is a
combination of a few of them (O(log² n) keys at most). Each function below first works out the
set of keys it needs, asks the :class:`NodeReader` for all of them in **one** ``get_nodes`` call
(one SQL query), then combines them.

Appending (:func:`append_leaves`) needs only the existing tree's *compact range* (its right
edge: one perfect node per set bit of the size) and returns every new perfect node, level 0
included, for the store to insert in the same transaction as the leaves.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows the algorithms of
RFC 9162 §2.1.3.2 and §2.1.4.2 step by step; :func:`root_from_leaves` is the plain recursive MTH
definition, kept deliberately naive as an independent oracle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from openbmd.errors import InputError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MappingReader",
    "MemoryTree",
    "NodeKey",
    "NodeReader",
    "append_leaves",
    "compact_range_keys",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "required_nodes_for_root",
    "root_from_leaves",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
"""``(level, index)`` of a perfect node covering leaves ``[index·2^level, (index+1)·2^level)``."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 ‖ data)`` of the exact leaf bytes."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 ‖ left ‖ right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeReader(Protocol):
    """Anything that can look up persisted perfect nodes, many at a time."""

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the hash of every requested ``(level, index)`` node.

        Must answer every key (the functions of this module only ask for nodes that exist in a
        tree of the size they are given); a missing key makes them raise :class:`LookupError`.
        """
        ...


class MappingReader:
    """A :class:`NodeReader` over a plain mapping ``{(level, index): hash}``."""

    def __init__(self, nodes: Mapping[NodeKey, bytes]) -> None:
        self.nodes = nodes

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the requested nodes that the mapping holds."""
        return {k: self.nodes[k] for k in keys if k in self.nodes}


class MemoryTree:
    """An in-memory append-only tree that keeps every perfect node (for tests and verifiers)."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_hash(h)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self.levels[0])

    def append(self, data: bytes) -> int:
        """Append the leaf with bytes *data*; return its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, h: bytes) -> int:
        """Append a leaf given by its leaf hash; return its index."""
        index = self.size
        self.levels[0].append(h)
        level, i = 0, index
        while i % 2 == 1:  # a right child completes its parent
            if len(self.levels) == level + 1:
                self.levels.append([])
            row = self.levels[level]
            self.levels[level + 1].append(node_hash(row[i - 1], row[i]))
            level, i = level + 1, i // 2
        return index

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """Return the requested perfect nodes (those that exist)."""
        out: dict[NodeKey, bytes] = {}
        for level, index in keys:
            if 0 <= level < len(self.levels) and 0 <= index < len(self.levels[level]):
                out[(level, index)] = self.levels[level][index]
        return out

    def root(self, size: int | None = None) -> bytes:
        """Root hash at *size* leaves (default: the current size)."""
        return root_hash(self.size if size is None else size, self)


# --------------------------------------------------------------------------- range algebra
# A *range* (lo, hi) below is always an RFC 9162 subtree: lo is a multiple of the largest power
# of two not exceeding hi - lo, so it decomposes into perfect nodes of strictly decreasing size.


def _largest_power_below(n: int) -> int:
    """Largest power of two strictly smaller than n (n ≥ 2): the RFC 9162 split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_keys(lo: int, hi: int) -> list[NodeKey]:
    """Perfect nodes, left to right, whose concatenation is the subtree range [lo, hi)."""
    keys: list[NodeKey] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        keys.append((level, lo >> level))
        lo += 1 << level
    return keys


def _fetch(reader: NodeReader, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """Hash of each subtree range, fetching all perfect nodes in one ``get_nodes`` call."""
    per_range = [_range_keys(lo, hi) for lo, hi in ranges]
    wanted = sorted({k for keys in per_range for k in keys})
    got = reader.get_nodes(wanted) if wanted else {}
    missing = [k for k in wanted if k not in got]
    if missing:
        raise LookupError(f"Merkle store lacks perfect nodes {missing[:5]} (level, index)")
    out = []
    for keys in per_range:
        h = got[keys[-1]]
        for k in reversed(keys[:-1]):
            h = node_hash(got[k], h)
        out.append(h)
    return out


def compact_range_keys(size: int) -> list[NodeKey]:
    """The right-edge perfect nodes of a tree of *size* leaves, left to right (one per set bit)."""
    return _range_keys(0, size)


def required_nodes_for_root(size: int) -> list[NodeKey]:
    """The perfect nodes :func:`root_hash` reads for a tree of *size* leaves."""
    _check_size(size)
    return compact_range_keys(size)


def root_hash(size: int, reader: NodeReader) -> bytes:
    """Root hash MTH(D[0:size]) from the persisted perfect nodes (``EMPTY_ROOT`` for size 0)."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _fetch(reader, [(0, size)])[0]


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Subtree ranges of PATH(index, D[0:size]) in proof order (leaf sibling first)."""
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_below(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """Audit path PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf-adjacent hash first."""
    _check_size(size)
    if not 0 <= index < size:
        raise InputError(f"leaf index {index} is outside a tree of size {size} (0 ≤ index < size)")
    ranges = _inclusion_ranges(index, size)
    return _fetch(reader, ranges) if ranges else []


def _consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Subtree ranges of PROOF(first, D[0:second]) = SUBPROOF(first, D[0:second], true)."""
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _largest_power_below(hi - lo)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        out.append((lo, hi))
    out.reverse()
    return out


def consistency_proof(first: int, second: int, reader: NodeReader) -> list[bytes]:
    """Consistency proof PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1.

    Empty when ``first == second`` or ``first == 0`` (nothing to prove).
    """
    _check_size(second)
    if not 0 <= first <= second:
        raise InputError(
            f"consistency proof needs 0 ≤ first ≤ second, got first={first} second={second}"
        )
    if first == 0 or first == second:
        return []
    return _fetch(reader, _consistency_ranges(first, second))


def append_leaves(
    existing_size: int, new_leaf_hashes: Sequence[bytes], reader: NodeReader
) -> list[tuple[int, int, bytes]]:
    """Perfect nodes ``(level, index, hash)`` created by appending *new_leaf_hashes*.

    Reads only the compact range of the existing tree (one ``get_nodes`` call) and returns the
    new level-0 nodes (the leaf hashes at indices ``existing_size …``) together with every
    interior perfect node they complete, in creation order. Persist all of them atomically with
    the leaves; then :func:`root_hash` of the new size is answerable.
    """
    _check_size(existing_size)
    for h in new_leaf_hashes:
        if len(h) != HASH_SIZE:
            raise InputError(f"a leaf hash must be {HASH_SIZE} bytes, got {len(h)}")
    keys = compact_range_keys(existing_size)
    got = reader.get_nodes(keys) if keys else {}
    missing = [k for k in keys if k not in got]
    if missing:
        raise LookupError(f"Merkle store lacks right-edge nodes {missing} (level, index)")
    stack: list[tuple[int, int, bytes]] = [(lv, ix, got[(lv, ix)]) for lv, ix in keys]
    created: list[tuple[int, int, bytes]] = []
    for offset, h in enumerate(new_leaf_hashes):
        node = (0, existing_size + offset, h)
        created.append(node)
        while stack and stack[-1][0] == node[0]:
            left = stack.pop()
            node = (node[0] + 1, node[1] >> 1, node_hash(left[2], node[2]))
            created.append(node)
        stack.append(node)
    return created


# --------------------------------------------------------------------------- verification


def _check_size(size: int) -> None:
    if size < 0:
        raise InputError(f"tree size must be ≥ 0, got {size}")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does *proof* show leaf *index* with hash *leaf_hash* under *root*?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn != 0 and not fn & 1:  # only runs when LSB(fn) was not set
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (*second*, *second_root*) an extension of (*first*, …)?

    Edge cases outside the RFC's ``0 < first < second``: ``first == second`` needs an empty proof
    and equal roots; ``first == 0`` needs an empty proof (every tree extends the empty one).
    """
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn != 0 and not fn & 1:  # only runs when LSB(fn) was not set
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the recursive definition of RFC 9162 §2.1.1, from the leaf hashes.

    Deliberately independent of the perfect-node code: the oracle the tests and the partner
    verifier compare against.
    """
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _largest_power_below(n)
    return node_hash(root_from_leaves(leaf_hashes[:k]), root_from_leaves(leaf_hashes[k:]))

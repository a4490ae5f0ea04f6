"""RFC 9162 §2.1 Merkle tree: known answers, corrupted-proof probes, every size up to 300.

Known-answer vectors: the classic 8-leaf RFC 6962 test tree as published in the Go reference
implementation's tests, github.com/transparency-dev/merkle ``proof/verify_test.go`` (leaves,
roots of sizes 1..8, inclusion proofs, consistency proofs). The proof vectors there number
leaves from 1; here indices are 0-based. The probe list mirrors the kinds of corruption that
file applies (wrong index/size, wrong roots, garbage before/after, dropped or inserted hashes,
flipped bits); the test code is our own.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbmd.errors import InputError
from openbmd.exchange import merkle
from openbmd.exchange.merkle import (
    MappingReader,
    MemoryTree,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaves,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]


def _h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


# (0-based index, tree size, proof)
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _h(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _h(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]

CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _h(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY = hashlib.sha256(b"").digest()


class CountingReader:
    """A NodeReader that records how often and for what it was asked."""

    def __init__(self, inner: merkle.NodeReader) -> None:
        self.inner = inner
        self.calls: list[list[tuple[int, int]]] = []

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
        self.calls.append(list(keys))
        return self.inner.get_nodes(keys)


@pytest.fixture(scope="module")
def tree8() -> MemoryTree:
    return MemoryTree(leaf_hash(x) for x in LEAVES)


# ----------------------------------------------------------------------- oracle (textbook RFC)


def oracle_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, straight from the recursive definition."""
    n = len(hashes)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*oracle_path(m, hashes[:k]), root_from_leaves(hashes[k:])]
    return [*oracle_path(m - k, hashes[k:]), root_from_leaves(hashes[:k])]


def oracle_subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(hashes)
    if m == n:
        return [] if whole else [root_from_leaves(hashes)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*oracle_subproof(m, hashes[:k], whole), root_from_leaves(hashes[k:])]
    return [*oracle_subproof(m - k, hashes[k:], False), root_from_leaves(hashes[:k])]


# ----------------------------------------------------------------------- known answers


def test_hashes_and_empty_tree() -> None:
    assert merkle.EMPTY_ROOT == EMPTY
    assert root_from_leaves([]) == EMPTY
    assert root_hash(0, MemoryTree()) == EMPTY
    assert leaf_hash(b"") == ROOTS[0]
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_known_roots(tree8: MemoryTree, size: int) -> None:
    hashes = [leaf_hash(x) for x in LEAVES[:size]]
    assert root_from_leaves(hashes) == ROOTS[size - 1]
    assert root_hash(size, tree8) == ROOTS[size - 1]
    assert MemoryTree(hashes).root() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_known_inclusion_proofs(
    tree8: MemoryTree, index: int, size: int, proof: list[bytes]
) -> None:
    assert inclusion_proof(index, size, tree8) == proof
    assert verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_known_consistency_proofs(
    tree8: MemoryTree, first: int, second: int, proof: list[bytes]
) -> None:
    assert consistency_proof(first, second, tree8) == proof
    assert verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], proof)


def inclusion_probes(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple]:
    probes: list[tuple] = [
        (index - 1, size, root, leaf, proof),
        (index + 1, size, root, leaf, proof),
        (index ^ 2, size, root, leaf, proof),
        (index, size * 2, root, leaf, proof),
        (index, size // 2, root, leaf, proof),
        (index, size, root, b"WrongLeaf", proof),
        (index, size, EMPTY, leaf, proof),
        (index, size, SOME_HASH, leaf, proof),
        (index, size, root, leaf, [*proof, b""]),
        (index, size, root, leaf, [*proof, root]),
        (index, size, root, leaf, [b"", *proof]),
        (index, size, root, leaf, [root, *proof]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        probes.append((index, size, root, leaf, bad))
    if proof:
        probes.append((index, size, root, leaf, proof[:-1]))
    if len(proof) > 1:
        probes.append((index, size, root, leaf, [proof[0], SOME_HASH, *proof[1:]]))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_corrupted_inclusion_proofs_fail(index: int, size: int, proof: list[bytes]) -> None:
    leaf, root = leaf_hash(LEAVES[index]), ROOTS[size - 1]
    for i, (pi, ps, proot, pleaf, pproof) in enumerate(
        inclusion_probes(index, size, proof, root, leaf)
    ):
        assert not verify_inclusion(pleaf, pi, ps, pproof, proot), f"probe {i} verified"


def consistency_probes(m: int, n: int, r1: bytes, r2: bytes, proof: list[bytes]) -> list[tuple]:
    probes: list[tuple] = [
        (m - 1, n, r1, r2, proof),
        (m + 1, n, r1, r2, proof),
        (m ^ 2, n, r1, r2, proof),
        (m, n * 2, r1, r2, proof),
        (m, n // 2, r1, r2, proof),
        (m, n, b"WrongRoot", r2, proof),
        (m, n, r1, b"WrongRoot", proof),
        (m, n, r2, r1, proof),
        (m, n, r1, r2, []),
        (m, n, r1, r2, [*proof, b""]),
        (m, n, r1, r2, [*proof, r1]),
        (m, n, r1, r2, [*proof, r2]),
        (m, n, r1, r2, [b"", *proof]),
        (m, n, r1, r2, [r1, *proof]),
        (m, n, r1, r2, [r2, *proof]),
        (m, n, r1, r2, [proof[0], *proof]),
        (m, n, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        probes.append((m, n, r1, r2, bad))
    return probes


@pytest.mark.parametrize(("first", "second", "proof"), [c for c in CONSISTENCY if c[2]])
def test_corrupted_consistency_proofs_fail(first: int, second: int, proof: list[bytes]) -> None:
    r1, r2 = ROOTS[first - 1], ROOTS[second - 1]
    for i, (pm, pn, p1, p2, pp) in enumerate(consistency_probes(first, second, r1, r2, proof)):
        assert not verify_consistency(pm, pn, p1, p2, pp), f"probe {i} verified"


@pytest.mark.parametrize(
    ("m", "n", "r1", "r2", "proof", "ok"),
    [
        (0, 0, b"r1", b"r2", [], False),
        (1, 1, b"r1", b"r2", [], False),
        (0, 0, b"r1", b"r1", [], True),
        (0, 1, b"r1", b"r2", [], True),
        (1, 1, b"r2", b"r2", [], True),
        (1, 0, b"r1", b"r2", [], False),
        (2, 1, b"r1", b"r2", [], False),
        (1, 2, b"r1", b"r2", [], False),
        (0, 0, EMPTY, EMPTY, [EMPTY], False),
        (0, 1, EMPTY, EMPTY, [EMPTY], False),
        (1, 1, EMPTY, EMPTY, [EMPTY], False),
    ],
)
def test_consistency_edge_cases(
    m: int, n: int, r1: bytes, r2: bytes, proof: list[bytes], ok: bool
) -> None:
    assert verify_consistency(m, n, r1, r2, proof) is ok


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (-1, 3)])
def test_inclusion_outside_tree(index: int, size: int) -> None:
    assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY)
    assert not verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)
    with pytest.raises(InputError):
        inclusion_proof(index, max(size, 0), MemoryTree([SOME_HASH] * size))


def test_single_leaf_inclusion() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(b"", 0, 1, [], h)
    assert not verify_inclusion(h, 0, 1, [], b"")


def test_bad_arguments_raise(tree8: MemoryTree) -> None:
    with pytest.raises(InputError):
        consistency_proof(5, 4, tree8)
    with pytest.raises(InputError):
        root_hash(-1, tree8)
    with pytest.raises(LookupError):
        root_hash(9, tree8)  # nodes the store does not have
    with pytest.raises(InputError):
        append_leaves(0, [b"short"], MemoryTree())


# ----------------------------------------------------------------------- persistence model


def test_each_operation_reads_the_store_once() -> None:
    big = MemoryTree(leaf_hash(b"%d" % i) for i in range(1000))
    reader = CountingReader(big)
    root_hash(999, reader)
    inclusion_proof(517, 999, reader)
    consistency_proof(333, 999, reader)
    append_leaves(999, [SOME_HASH] * 3, reader)
    assert len(reader.calls) == 4
    assert sorted(reader.calls[0]) == sorted(merkle.required_nodes_for_root(999))
    assert all(len(keys) <= 10 * 10 for keys in reader.calls)  # O(log² n) keys at most


@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8))
@settings(max_examples=60, deadline=None)
def test_append_leaves_builds_every_perfect_node(batches: list[int]) -> None:
    store: dict[tuple[int, int], bytes] = {}
    reader = MappingReader(store)
    size = 0
    hashes: list[bytes] = []
    for count in batches:
        new = [leaf_hash(b"leaf %d" % (size + i)) for i in range(count)]
        created = append_leaves(size, new, reader)
        for level, index, h in created:
            assert (level, index) not in store
            store[(level, index)] = h
        size += count
        hashes += new
        assert root_hash(size, reader) == root_from_leaves(hashes)
    expected = MemoryTree(hashes)
    assert store == {
        (lv, i): h for lv, row in enumerate(expected.levels) for i, h in enumerate(row)
    }


# ----------------------------------------------------------------------- every size to 300

MAX = 300


@pytest.fixture(scope="module")
def big() -> tuple[MemoryTree, list[bytes]]:
    hashes = [leaf_hash(b"message %d" % i) for i in range(MAX)]
    return MemoryTree(hashes), hashes


def _tamper(proof: list[bytes], rng: random.Random) -> list[bytes]:
    bad = list(proof)
    i = rng.randrange(len(bad))
    j = rng.randrange(32)
    bad[i] = bad[i][:j] + bytes([bad[i][j] ^ 0x01]) + bad[i][j + 1 :]
    return bad


def test_every_size_up_to_300(big: tuple[MemoryTree, list[bytes]]) -> None:
    tree, hashes = big
    rng = random.Random(9162)
    for n in range(1, MAX + 1):
        prefix = hashes[:n]
        root = root_from_leaves(prefix)
        assert root_hash(n, tree) == root
        for index in {0, n - 1, n // 2, *rng.sample(range(n), min(n, 3))}:
            proof = inclusion_proof(index, n, tree)
            assert proof == oracle_path(index, prefix)
            assert verify_inclusion(hashes[index], index, n, proof, root)
            if proof:
                assert not verify_inclusion(hashes[index], index, n, _tamper(proof, rng), root)
                assert not verify_inclusion(hashes[index], index, n, proof[:-1], root)
                assert not verify_inclusion(hashes[index], index, n, [*proof, root], root)
            if n > 1:
                other = (index + 1) % n
                assert not verify_inclusion(hashes[index], other, n, proof, root)
        for m in {1, n, n - 1, *rng.sample(range(1, n + 1), min(n, 3))} - {0}:
            old = root_from_leaves(hashes[:m])
            proof = consistency_proof(m, n, tree)
            assert proof == oracle_subproof(m, prefix, True)
            assert verify_consistency(m, n, old, root, proof)
            if proof:
                assert not verify_consistency(m, n, old, root, _tamper(proof, rng))
                assert not verify_consistency(m, n, old, root, proof[:-1])
                assert not verify_consistency(m, n, old, SOME_HASH, proof)
                assert not verify_consistency(m, n, SOME_HASH, root, proof)
                if m > 1:
                    assert not verify_consistency(m - 1, n, old, root, proof)

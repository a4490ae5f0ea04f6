"""The log verifies with an independent RFC 9162 implementation, from the public endpoints alone.

The independent implementation is ``pymerkle`` (PyPI; RFC 9162 §2.1.1 hashing with the 0x00/0x01
prefixes and the same tree shape). Nothing from ``openbmd.exchange`` is used on the verifying
side: the checkpoint's signed note is checked here from the C2SP signed-note rules with the
``cryptography`` package, and every hash comes from pymerkle.

* **roots**: pymerkle rebuilds the tree from the exact leaf bytes of ``/v1/log/entries`` (a
  signed read: the request is signed here with ``cryptography``, from the documented format)
  and its root of the first *size* leaves equals the root of every checkpoint handed out.
* **private entries** (issue 12.2): every leaf is ``{"v": 3, "slots": [[tag, commitment], …]}``
  naming no sender, type, time or recipient; bravo finds each item of its view in the leaf at
  its index, in the slot tagged HMAC-SHA256(its tag key, "openbmd-tag-v3" ‖ index) and
  committed as SHA-256(salt ‖ RFC 8785 bytes of the item) — recomputed here with ``hmac``.
* **inclusion**: every served RFC 9162 audit path (``/v1/log/proof/inclusion``) verifies with
  pymerkle's ``verify_inclusion``. pymerkle's inclusion path is the RFC 9162 audit path with the
  leaf hash in front, so the served path is passed unchanged (behind the leaf hash).
* **consistency**: pymerkle's consistency proofs use their own path layout (not RFC 9162
  §2.1.4), so pymerkle cannot check the served proofs as such. Instead (1) pymerkle's own
  consistency proof between every two checkpoints verifies against the two *served* roots, and
  (2) every served ``/v1/log/proof/consistency`` is exactly RFC 9162 §2.1.4.1's
  ``SUBPROOF(m, D[n], true)``, the node hashes being pymerkle roots of the subtrees it names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from tests.exchange.conftest import BASE, KEYS, message, post

pymerkle = pytest.importorskip("pymerkle", reason="pymerkle (test dependency) is not installed")

SIZES_BETWEEN_CHECKPOINTS = [1, 1, 1, 1, 3, 1, 5, 3, 5, 11, 1, 4, 7]  # cumulative: 1 … 44


# ------------------------------------------------------------ verifying side: no openbmd code
def open_checkpoint(text: str, origin_key: Ed25519PublicKey) -> tuple[str, int, bytes]:
    """Verify the log's Ed25519 signature on a C2SP checkpoint; return (origin, size, root).

    C2SP signed-note: body, a blank line, lines ``— <name> base64(keyID ‖ sig)`` with keyID =
    SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte key)[:4] and the signature over the body bytes.
    """
    body, sep, sigs = text.partition("\n\n")
    assert sep and text.endswith("\n"), text
    body += "\n"
    origin, size_text, root_b64 = body.splitlines()[:3]
    raw_key = origin_key.public_bytes_raw()
    verified = False
    for line in sigs.splitlines():
        dash, name, blob_b64 = line.split(" ")
        assert dash == "\u2014", line
        blob = base64.b64decode(blob_b64, validate=True)
        kid = hashlib.sha256(name.encode() + b"\n\x01" + raw_key).digest()[:4]
        if blob[:4] != kid or len(blob) != 68:
            continue  # another key (a witness cosignature)
        try:
            origin_key.verify(blob[4:], body.encode("utf-8"))
        except InvalidSignature:
            raise AssertionError(f"bad log signature on {body!r}") from None
        verified = True
    assert verified, f"no signature by the log key on {text!r}"
    assert size_text.isdigit() and (size_text == "0" or not size_text.startswith("0"))
    root = base64.b64decode(root_b64, validate=True)
    assert len(root) == 32
    return origin, int(size_text), root


def rfc9162_subproof_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """Leaf ranges [a, b) whose MTH make up PROOF(m, D[n]) (RFC 9162 §2.1.4.1), in order."""

    def subproof(m: int, lo: int, hi: int, b: bool) -> list[tuple[int, int]]:
        width = hi - lo
        if m == width:
            return [] if b else [(lo, hi)]
        k = 1
        while k * 2 < width:
            k *= 2
        if m <= k:
            return [*subproof(m, lo, lo + k, b), (lo + k, hi)]
        return [*subproof(m - k, lo + k, hi, False), (lo, lo + k)]

    return subproof(m, 0, n, True)


class Independent:
    """pymerkle's view of the log, built from the served leaf bytes."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.tree = pymerkle.InmemoryTree(algorithm="sha256")
        for leaf in leaves:
            self.tree.append_entry(leaf)
        self._ranges: dict[tuple[int, int], bytes] = {}

    def root(self, size: int) -> bytes:
        if size == 0:
            return hashlib.sha256(b"").digest()
        root: bytes = self.tree.get_root(size)
        return root

    def range_root(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) by a separate pymerkle tree over those leaves."""
        if (lo, hi) not in self._ranges:
            sub = pymerkle.InmemoryTree(algorithm="sha256")
            for leaf in self.leaves[lo:hi]:
                sub.append_entry(leaf)
            self._ranges[(lo, hi)] = sub.get_root()
        return self._ranges[(lo, hi)]

    def verify_served_inclusion(
        self, index: int, size: int, path: list[bytes], root: bytes
    ) -> None:
        """pymerkle.verify_inclusion of a served RFC 9162 audit path (raises InvalidProof)."""
        leaf = self.tree.get_leaf(index + 1)
        layout = self.tree.prove_inclusion(index + 1, size)  # only for its rule bits
        proof = pymerkle.InclusionProof("sha256", True, size, index + 1, layout.rule, [leaf, *path])
        pymerkle.verify_inclusion(leaf, root, proof, index=index + 1, size=size)


def signed_get(client: Any, partner: str, path: str, **params: int) -> Any:
    """GET *path* as *partner*: Ed25519 over ``openbmd-request-v1\\nGET\\n<path>\\n<sorted
    form-encoded query>\\n<ts>\\n<nonce>\\n<partner>`` in the X-OpenBMD-* headers."""
    ts, nonce = str(int(time.time())), secrets.token_urlsafe(16)
    query = urllib.parse.urlencode(sorted((k, str(v)) for k, v in params.items()))
    data = "\n".join(["openbmd-request-v1", "GET", path, query, ts, nonce, partner]).encode()
    headers = {
        "X-OpenBMD-Partner": partner,
        "X-OpenBMD-Timestamp": ts,
        "X-OpenBMD-Nonce": nonce,
        "X-OpenBMD-Signature": base64.b64encode(KEYS[partner].sign(data)).decode(),
    }
    return client.get(path, params=params, headers=headers)


def read_leaves(client: Any, partner: str, n: int) -> tuple[list[bytes], bytes]:
    """The leaf bytes of entries 0…n-1 as *partner* reads them, and its tag key."""
    page = signed_get(client, partner, "/v1/log/entries", start=0, end=n)
    assert page.status_code == 200, page.text
    entries = page.json()["entries"]
    assert [e["index"] for e in entries] == list(range(n))
    leaves = [base64.b64decode(e["leaf_b64"], validate=True) for e in entries]
    for e, leaf in zip(entries, leaves, strict=True):
        assert base64.b64decode(e["leaf_hash_b64"]) == hashlib.sha256(b"\0" + leaf).digest()
    return leaves, base64.b64decode(page.json()["tag_key_b64"])


# ------------------------------------------------------------ the test
def _b64list(items: list[str]) -> list[bytes]:
    return [base64.b64decode(h, validate=True) for h in items]


def test_log_verifies_with_pymerkle_from_public_endpoints(
    make_client: Callable[..., Any],
) -> None:
    client = make_client()
    key = load_pem_public_key(client.get("/v1/log/key").text.encode())
    assert isinstance(key, Ed25519PublicKey)
    checkpoints: list[tuple[int, bytes]] = []
    origin0, size0, _ = open_checkpoint(client.get("/v1/log/checkpoint").text, key)
    assert size0 == BASE  # the key and agreement entries of the set-up
    for batch in SIZES_BETWEEN_CHECKPOINTS:
        for _ in range(batch):
            assert post(client, message()).status_code == 201
        origin, size, root = open_checkpoint(client.get("/v1/log/checkpoint").text, key)
        assert origin == origin0
        checkpoints.append((size, root))
    n = checkpoints[-1][0]
    assert n == BASE + sum(SIZES_BETWEEN_CHECKPOINTS)
    assert client.get("/v1/log/entries", params={"start": 0, "end": n}).status_code == 401

    leaves, tag_key = read_leaves(client, "bravo", n)
    ind = Independent(leaves)
    for leaf in leaves:  # nothing but tags and salted commitments
        doc = json.loads(leaf)
        assert set(doc) == {"v", "slots"} and doc["v"] == 3 and len(doc["slots"]) >= 4
    view = signed_get(client, "bravo", "/v1/messages", after=-1, limit=1000).json()["items"]
    assert len(view) == sum(SIZES_BETWEEN_CHECKPOINTS)
    for item in view:
        i = item["index"]
        tag = hmac.new(tag_key, b"openbmd-tag-v3" + i.to_bytes(8, "big"), "sha256").hexdigest()
        data = json.dumps(item["message"], sort_keys=True, separators=(",", ":")).encode()
        commit = hashlib.sha256(base64.b64decode(item["salt_b64"]) + data).hexdigest()
        assert [tag, commit] in json.loads(leaves[i])["slots"], i

    for size, root in checkpoints:  # roots
        assert ind.root(size) == root, size

    for size, root in checkpoints:  # every served inclusion proof, at every checkpoint
        for i in range(size):
            doc = client.get("/v1/log/proof/inclusion", params={"index": i, "tree_size": size})
            assert doc.status_code == 200
            assert (doc.json()["index"], doc.json()["tree_size"]) == (i, size)
            ind.verify_served_inclusion(i, size, _b64list(doc.json()["hashes_b64"]), root)

    for m, m_root in checkpoints:  # consistency between every two checkpoints
        for later, later_root in checkpoints:
            if later < m:
                continue
            own = ind.tree.prove_consistency(m, later)
            pymerkle.verify_consistency(m_root, later_root, own, prior_size=m, later_size=later)
            doc = client.get("/v1/log/proof/consistency", params={"first": m, "second": later})
            assert doc.status_code == 200
            served = _b64list(doc.json()["hashes_b64"])
            expected = [ind.range_root(a, b) for a, b in rfc9162_subproof_ranges(m, later)]
            assert served == expected, (m, later)


def test_pymerkle_rejects_tampered_proofs_and_roots(make_client: Callable[..., Any]) -> None:
    client = make_client()
    for _ in range(13):
        assert post(client, message()).status_code == 201
    key = load_pem_public_key(client.get("/v1/log/key").text.encode())
    assert isinstance(key, Ed25519PublicKey)
    _, n, root = open_checkpoint(client.get("/v1/log/checkpoint").text, key)
    ind = Independent(read_leaves(client, "charlie", n)[0])
    assert ind.root(n) == root
    path = _b64list(
        client.get("/v1/log/proof/inclusion", params={"index": 5, "tree_size": n}).json()[
            "hashes_b64"
        ]
    )
    ind.verify_served_inclusion(5, n, path, root)
    for j in range(len(path)):
        bad = list(path)
        bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
        with pytest.raises(pymerkle.InvalidProof):
            ind.verify_served_inclusion(5, n, bad, root)
    with pytest.raises(pymerkle.InvalidProof):
        ind.verify_served_inclusion(5, n, path[:-1], root)
    with pytest.raises(pymerkle.InvalidProof):
        ind.verify_served_inclusion(6, n, path, root)  # the proof of another leaf
    tampered = list(ind.leaves)
    tampered[3] = tampered[3].replace(b'"v":3', b'"v":4')
    assert tampered[3] != ind.leaves[3]
    assert Independent(tampered).root(n) != root
    sig_line = client.get("/v1/log/checkpoint").text
    forged = sig_line.replace(
        base64.b64encode(root).decode(), base64.b64encode(b"\0" * 32).decode()
    )
    with pytest.raises(AssertionError, match="bad log signature"):
        open_checkpoint(forged, key)

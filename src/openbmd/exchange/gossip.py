"""Partners compare the checkpoints they were shown: a split view is detected (gossip).

A centre that shows two partners two different trees can sign both: each partner's own
``verify`` passes. They learn of it only by comparing notes. :func:`compare_checkpoints` takes
the signed checkpoints several parties hold (their ``verify`` or ``witness`` state files, or
plain checkpoint notes) and:

* checks each is signed by the log key (an unsigned one proves nothing and is reported);
* two checkpoints of the **same size with different roots**, both validly signed, are a split
  view — and, being two signatures by the centre's key, proof of it that anyone can check;
* checkpoints of **different sizes** must be consistent: the centre (given ``url``) must
  produce an RFC 9162 consistency proof from each smaller one to the next larger one; if it
  cannot, the smaller tree is not a prefix of the larger — a split view as well.

The comparison is offline apart from those proofs, and needs no trust in the centre: a proof
either verifies against the two signed roots or the checkpoints conflict.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx

from openbmd.errors import InputError
from openbmd.exchange import merkle, note
from openbmd.exchange.client import (
    ExchangeHTTPError,
    LogVerificationError,
    fetch_consistency_proof,
    session,
)
from openbmd.exchange.signing import Ed25519PublicKey, key_fingerprint, load_public_key

__all__ = ["GossipReport", "compare_checkpoints", "load_checkpoint_text", "pinned_log_key"]


@dataclass
class GossipReport:
    """Outcome of :func:`compare_checkpoints`; ``split`` is True when the views conflict."""

    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # source, size, root
    problems: list[str] = field(default_factory=list)
    split: bool = False

    @property
    def ok(self) -> bool:
        """Every checkpoint valid and all of them one history."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self) | {"ok": self.ok}


def load_checkpoint_text(path: Path) -> str:
    """The signed checkpoint note held in *path*: a ``verify``/``witness`` state file (its
    ``checkpoint``) or the note itself."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InputError(f"{path}: {exc}") from None
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if not isinstance(doc, dict) or not isinstance(doc.get("checkpoint"), str):
        raise InputError(f"{path}: a JSON file here must be a state file with a 'checkpoint'")
    return str(doc["checkpoint"])


def pinned_log_key(paths: list[Path]) -> Ed25519PublicKey:
    """The log key the state files among *paths* pinned (they must all agree)."""
    pems = set()
    for path in paths:
        try:
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("log_key_pem"), str):
            pems.add(key_fingerprint(load_public_key(doc["log_key_pem"])))
            key = load_public_key(doc["log_key_pem"])
    if len(pems) != 1:
        raise InputError(
            "--log-key: give the log key (the state files pin "
            + ("none" if not pems else f"{len(pems)} different keys")
            + ")",
            field="log_key",
        )
    return key


def compare_checkpoints(
    sources: Mapping[str, str],
    log_key: Ed25519PublicKey,
    *,
    url: str | None = None,
    client: httpx.Client | None = None,
) -> GossipReport:
    """Compare the signed checkpoints *sources* (``{source name: note text}``).

    Parameters
    ----------
    sources : Mapping[str, str]
        The checkpoints each party holds.
    log_key : Ed25519PublicKey
        The centre's key (pinned by the parties).
    url : str, optional
        The centre, asked for consistency proofs between checkpoints of different sizes
        (without it, only equal sizes can be compared).
    client : httpx.Client, optional
        Transport to use.
    """
    report = GossipReport()
    valid: list[tuple[str, note.Checkpoint]] = []
    for name, text in sources.items():
        try:
            _, cp, _ = note.open_checkpoint(text, log_key)
        except note.NoteError as exc:
            report.problems.append(f"{name}: not a checkpoint signed by the log key ({exc})")
            continue
        root = base64.b64encode(cp.root_hash).decode("ascii")
        report.checkpoints.append({"source": name, "size": cp.size, "root_hash_b64": root})
        valid.append((name, cp))
    origins = {cp.origin for _, cp in valid}
    if len(origins) > 1:
        report.problems.append(f"checkpoints of different logs: {sorted(origins)}")
        return report
    by_size: dict[int, tuple[str, note.Checkpoint]] = {}
    for name, cp in sorted(valid, key=lambda v: v[1].size):
        seen = by_size.get(cp.size)
        if seen is None:
            by_size[cp.size] = (name, cp)
        elif seen[1].root_hash != cp.root_hash:
            report.split = True
            report.problems.append(
                f"split view: {seen[0]} and {name} hold different trees of size {cp.size}, "
                "both signed by the log key"
            )
    if url is None or len(by_size) < 2:
        return report
    ordered = [by_size[k] for k in sorted(by_size)]
    with session(client) as http:
        for (small_name, small), (big_name, big) in pairwise(ordered):
            try:
                proof = fetch_consistency_proof(url, small.size, big.size, client=http)
            except (ExchangeHTTPError, LogVerificationError) as exc:
                proof, why = None, str(exc)
            else:
                why = "the centre's consistency proof does not verify"
            if proof is None or not merkle.verify_consistency(
                small.size, big.size, small.root_hash, big.root_hash, proof
            ):
                report.split = True
                report.problems.append(
                    f"split view: {small_name}'s tree of size {small.size} is not a prefix of "
                    f"{big_name}'s of size {big.size} ({why})"
                )
    return report

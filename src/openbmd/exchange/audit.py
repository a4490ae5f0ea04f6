"""Offline audit of a centre's database against its own log (``openbmd exchange audit``).

Everything a partner relies on is derived from the log entries (``log_leaves``): the Merkle
nodes the centre serves proofs from, the stored messages it serves to their senders, and the
per-recipient views it serves to recipients. The audit re-derives each from the entries, in
chunks of leaves (bounded memory apart from one hash per tree level), and names every row that
does not match:

* **entries**: indices contiguous from 0;
* **Merkle nodes**: every perfect node ``(level, index)`` the tree of *n* leaves has must be
  stored and equal the hash recomputed from the entries; none may be stored beyond the tree;
* **messages**: one per entry, SHA-256 of its stored bytes equal to the entry's
  ``message_hash``, sender, type and id equal, the sender's signature valid under the key in
  ``partners``;
* **views**: one ``projections`` row per recipient the entry commits to, whose salted hash is
  that commitment; no row the entry does not commit to;
* **signed checkpoint**: if the centre's record of its last signed checkpoint (12.8) is given,
  the tree extends it.

The audit trusts nothing but the entries and the checkpoint record; that the entries are the
ones partners saw is what ``openbmd exchange verify`` and the witnesses establish.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from openbmd.errors import InputError
from openbmd.exchange import merkle, received
from openbmd.exchange.rollback import CheckpointGuard
from openbmd.exchange.signing import load_public_key, verify
from openbmd.exchange.store import Store, log_leaves, log_nodes, messages, partners, projections

__all__ = ["AuditReport", "audit"]

CHUNK = 4096
"""Leaves read per round trip (a power of two, so chunks align with perfect nodes)."""


@dataclass
class AuditReport:
    """What :func:`audit` found; ``ok`` when ``problems`` is empty."""

    tree_size: int = 0
    root_hash_hex: str | None = None
    nodes_checked: int = 0
    messages_checked: int = 0
    projections_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "root_hash_hex": self.root_hash_hex,
            "nodes_checked": self.nodes_checked,
            "messages_checked": self.messages_checked,
            "projections_checked": self.projections_checked,
            "problems": self.problems,
        }


def _chunks(conn: sa.Connection, size: int) -> Iterator[tuple[int, list[tuple[int, bytes]]]]:
    for lo in range(0, size, CHUNK):
        q = sa.select(log_leaves).where(log_leaves.c.idx >= lo, log_leaves.c.idx < lo + CHUNK)
        yield lo, [(r.idx, bytes(r.leaf)) for r in conn.execute(q.order_by(log_leaves.c.idx))]


def _stored_nodes(conn: sa.Connection, lo: int, hi: int) -> dict[merkle.NodeKey, bytes]:
    """Stored perfect nodes completed by the leaves ``[lo, hi)`` (last leaf in the range)."""
    terms = []
    for level in range(hi.bit_length() + 1):
        first, last = (lo + 1 + (1 << level) - 1) >> level, hi >> level  # (i+1)·2^L in (lo, hi]
        if first <= last:
            terms.append(
                sa.and_(
                    log_nodes.c.level == level,
                    log_nodes.c.idx >= first - 1,
                    log_nodes.c.idx < last,
                )
            )
    if not terms:
        return {}
    rows = conn.execute(sa.select(log_nodes).where(sa.or_(*terms)))
    return {(r.level, r.idx): bytes(r.hash) for r in rows}


def _check_nodes(
    report: AuditReport,
    created: list[tuple[int, int, bytes]],
    stored: dict[merkle.NodeKey, bytes],
) -> None:
    for level, index, h in created:
        got = stored.get((level, index))
        if got is None:
            report.problems.append(f"log_nodes: node (level {level}, index {index}) is missing")
        elif got != h:
            report.problems.append(
                f"log_nodes: node (level {level}, index {index}) differs from the hash of "
                f"leaves {index << level}…{((index + 1) << level) - 1}"
            )
        report.nodes_checked += 1


def _check_message(
    report: AuditReport, index: int, leaf: dict[str, Any], row: Any, keys: dict[str, Any]
) -> None:
    where = f"messages: index {index}"
    if row is None:
        report.problems.append(f"{where}: the row is missing")
        return
    report.messages_checked += 1
    original = bytes(row.original)
    digest = hashlib.sha256(original).digest()
    if digest.hex() != leaf.get("message_hash") or bytes(row.body_hash) != digest:
        report.problems.append(f"{where}: the stored message differs from the logged hash")
    if row.sender != leaf.get("sender") or row.type != leaf.get("type"):
        report.problems.append(f"{where}: sender or type differs from the log entry")
    try:
        doc = json.loads(original)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or doc.get("message_id") != row.message_id:
        report.problems.append(f"{where}: message_id differs from the stored message")
    key = keys.get(row.sender)
    if key is None or not verify(key, original, bytes(row.signature)):
        report.problems.append(f"{where}: the sender's signature does not verify")


def _check_projections(
    report: AuditReport, index: int, leaf: dict[str, Any], rows: dict[str, Any]
) -> None:
    commits = leaf.get("projections")
    commits = commits if isinstance(commits, dict) else {}
    for recipient in sorted(set(commits) | set(rows)):
        where = f"projections: index {index} recipient {recipient!r}"
        row = rows.get(recipient)
        if row is None:
            report.problems.append(f"{where}: the row is missing")
            continue
        report.projections_checked += 1
        if recipient not in commits:
            report.problems.append(f"{where}: the log entry commits to no view for it")
            continue
        salt = bytes(row.salt) if row.salt is not None else None
        digest = received.commitment_of(bytes(row.projection), salt)
        if digest.hex() != commits[recipient] or bytes(row.projection_hash) != digest:
            report.problems.append(f"{where}: the stored view differs from the commitment")


def _rows_in(conn: sa.Connection, lo: int, hi: int) -> tuple[dict[int, Any], dict[int, Any]]:
    m, p = messages, projections
    msgs = {
        r.log_index: r
        for r in conn.execute(sa.select(m).where(m.c.log_index >= lo, m.c.log_index < hi))
    }
    views: dict[int, dict[str, Any]] = {}
    for r in conn.execute(sa.select(p).where(p.c.log_index >= lo, p.c.log_index < hi)):
        views.setdefault(r.log_index, {})[r.recipient] = r
    return msgs, views


def _check_extra(conn: sa.Connection, report: AuditReport, size: int) -> None:
    """Rows that belong to no entry of the tree."""
    for table, col in ((messages, messages.c.log_index), (projections, projections.c.log_index)):
        n = conn.execute(sa.select(sa.func.count()).select_from(table).where(col >= size)).scalar()
        if n:
            report.problems.append(f"{table.name}: {n} rows beyond the last log entry {size - 1}")
    beyond = sa.or_(
        *[
            sa.and_(log_nodes.c.level == lv, log_nodes.c.idx >= size >> lv)
            for lv in range(max(size, 1).bit_length() + 1)
        ],
        log_nodes.c.level > max(size, 1).bit_length(),
    )
    n = conn.execute(sa.select(sa.func.count()).select_from(log_nodes).where(beyond)).scalar()
    if n:
        report.problems.append(f"log_nodes: {n} nodes beyond a tree of {size} leaves")


def audit(database_url: str, checkpoint_record: Path | None = None) -> AuditReport:
    """Re-check the whole database at *database_url* against its log entries (read only).

    Parameters
    ----------
    database_url : str
        ``sqlite:///FILE`` or ``postgresql+psycopg://…``.
    checkpoint_record : Path, optional
        The centre's ``<key file>.checkpoint`` record; when given (and present), the tree
        must extend the checkpoint recorded there.
    """
    store = Store(database_url)
    report = AuditReport()
    try:
        if not sa.inspect(store.engine).has_table("log_leaves"):
            raise InputError(f"--database-url: {database_url} holds no exchange log")
        size = store.tree_size()
        report.tree_size = size
        frontier: dict[merkle.NodeKey, bytes] = {}
        with store.engine.connect() as conn:
            keys = {
                r.name: load_public_key(r.public_key_pem) for r in conn.execute(sa.select(partners))
            }
            for lo, rows in _chunks(conn, size):
                if [i for i, _ in rows] != list(range(lo, min(lo + CHUNK, size))):
                    report.problems.append(f"log_leaves: entries missing in {lo}…{lo + CHUNK - 1}")
                    return report
                hashes = [merkle.leaf_hash(leaf) for _, leaf in rows]
                created = merkle.append_leaves(lo, hashes, merkle.MappingReader(frontier))
                _check_nodes(report, created, _stored_nodes(conn, lo, lo + len(rows)))
                tree = frontier | {(lv, ix): h for lv, ix, h in created}
                frontier = {k: tree[k] for k in merkle.compact_range_keys(lo + len(rows))}
                msgs, views = _rows_in(conn, lo, lo + len(rows))
                for index, leaf_bytes in rows:
                    leaf = received.parse_leaf(leaf_bytes)
                    if leaf is None:
                        report.problems.append(f"log_leaves: entry {index} is not a JSON object")
                        continue
                    _check_message(report, index, leaf, msgs.get(index), keys)
                    _check_projections(report, index, leaf, views.get(index, {}))
            _check_extra(conn, report, size)
        root = merkle.root_hash(size, merkle.MappingReader(frontier))
        report.root_hash_hex = root.hex()
        if checkpoint_record is not None and checkpoint_record.exists():
            guard = CheckpointGuard(checkpoint_record)
            if guard.root is not None and (
                size < guard.size or _prefix_root(store, guard.size) != guard.root
            ):
                report.problems.append(
                    f"{checkpoint_record}: the log does not extend the signed checkpoint of "
                    f"size {guard.size}"
                )
    finally:
        store.close()
    return report


def _prefix_root(store: Store, size: int) -> bytes:
    """Root of the first *size* entries, from the entries alone."""
    tree: dict[merkle.NodeKey, bytes] = {}
    for lo in range(0, size, CHUNK):
        hashes = [merkle.leaf_hash(x) for _, x in store.entries(lo, min(lo + CHUNK, size))]
        created = merkle.append_leaves(lo, hashes, merkle.MappingReader(tree))
        full = tree | {(lv, ix): h for lv, ix, h in created}
        tree = {k: full[k] for k in merkle.compact_range_keys(lo + len(hashes))}
    return merkle.root_hash(size, merkle.MappingReader(tree))

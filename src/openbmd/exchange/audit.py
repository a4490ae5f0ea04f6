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
* **version-3 entries** (12.2): every slot carrying a partner's tag is matched by a row of
  that partner (its projection, or the opening of its metadata / agreement document) committed
  in it, and every opening by a slot; the key each partner has in ``partners`` is its last
  logged key, and each agreement in ``agreements`` is its last logged version with the same
  signature (12.6);
* **signed checkpoint**: if the centre's record of its last signed checkpoint (12.8) is given,
  the tree extends it.

The audit trusts nothing but the entries and the checkpoint record; that the entries are the
ones partners saw is what ``openbmd exchange verify`` and the witnesses establish.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from openbmd.errors import InputError
from openbmd.exchange import entries, merkle, received
from openbmd.exchange.entrylog import entry_openings, tag_keys
from openbmd.exchange.rollback import CheckpointGuard
from openbmd.exchange.signing import load_public_key, verify
from openbmd.exchange.store import Store
from openbmd.exchange.tables import (
    agreements,
    log_leaves,
    log_nodes,
    messages,
    partners,
    projections,
)

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


def _rows_in(
    conn: sa.Connection, lo: int, hi: int
) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
    m, p, o = messages, projections, entry_openings
    msgs = {
        r.log_index: r
        for r in conn.execute(sa.select(m).where(m.c.log_index >= lo, m.c.log_index < hi))
    }
    views: dict[int, dict[str, Any]] = {}
    for r in conn.execute(sa.select(p).where(p.c.log_index >= lo, p.c.log_index < hi)):
        views.setdefault(r.log_index, {})[r.recipient] = r
    opened: dict[int, dict[str, Any]] = {}
    for r in conn.execute(sa.select(o).where(o.c.idx >= lo, o.c.idx < hi)):
        opened.setdefault(r.idx, {})[r.party] = r
    return msgs, views, opened


@dataclass
class _Logged:
    """The latest logged key of each partner and version of each agreement (12.6)."""

    keys: dict[str, str] = field(default_factory=dict)
    agreements: dict[str, tuple[bytes, str | None]] = field(default_factory=dict)


def _check_v3(
    report: AuditReport,
    index: int,
    slots: list[tuple[bytes, bytes]],
    rows: tuple[Any, dict[str, Any], dict[str, Any]],
    tkeys: dict[str, bytes],
    keys: dict[str, Any],
    logged: _Logged,
) -> None:
    """One version-3 entry against its rows (message, projections, openings)."""
    msg, views, opened = rows
    where = f"log_leaves: entry {index}"

    def tag_of(party: str) -> bytes | None:
        if party == entries.PUBLIC:
            return entries.public_tag(index)
        key = tkeys.get(party)
        return entries.party_tag(key, index) if key is not None else None

    for recipient, r in views.items():
        report.projections_checked += 1
        salt, data = (bytes(r.salt) if r.salt is not None else b""), bytes(r.projection)
        tag = tag_of(recipient)
        if (
            bytes(r.projection_hash) != entries.commitment(salt, data)
            or tag is None
            or entries.opening_problem(slots, tag, salt, data) is not None
        ):
            report.problems.append(
                f"projections: index {index} recipient {recipient!r}: the stored view differs "
                "from the commitment"
            )
    if not opened:
        report.problems.append(f"{where}: no opening is stored for it")
    for party, r in opened.items():
        tag = tag_of(party)
        if tag is None or entries.opening_problem(slots, tag, bytes(r.salt), bytes(r.document)):
            report.problems.append(
                f"entry_openings: index {index} party {party!r}: the stored document differs "
                "from the commitment"
            )
    for party, key in tkeys.items():
        tag = entries.party_tag(key, index)
        held = sum(1 for t, _ in slots if t == tag)
        if held > (party in opened) + (party in views):
            report.problems.append(
                f"projections: index {index} recipient {party!r}: the row is missing"
            )
    first = next(iter(opened.values()), None)  # each entry has one opening (sender or public)
    doc = received.parse_leaf(bytes(first.document)) if first is not None else None
    kind = doc.get("kind") if doc is not None else None
    if kind == "message":
        _check_message(report, index, doc or {}, msg, keys)
    elif msg is not None:
        report.problems.append(f"messages: index {index}: a message row at a {kind} entry")
    if kind == "partner_key" and doc is not None:
        logged.keys[str(doc.get("partner"))] = str(doc.get("public_key_pem"))
    if kind == "agreement" and doc is not None and isinstance(doc.get("agreement"), dict):
        body = doc["agreement"]
        digest = hashlib.sha256(received.canonical_json(body)).digest()
        logged.agreements[str(body.get("name"))] = (digest, doc.get("signature_b64"))


def _check_tables(conn: sa.Connection, report: AuditReport, logged: _Logged) -> None:
    """The keys and agreements the centre serves are the last logged ones (12.6)."""
    from openbmd.exchange.signing import key_fingerprint

    for r in conn.execute(sa.select(partners)):
        last = logged.keys.get(r.name)
        if last is None or key_fingerprint(load_public_key(last)) != r.fingerprint:
            report.problems.append(f"partners: the key of {r.name!r} is not its last logged key")
    for r in conn.execute(sa.select(agreements)):
        doc = json.loads(r.document)
        digest = hashlib.sha256(received.canonical_json(doc)).digest()
        sig = base64.b64encode(bytes(r.signature)).decode("ascii") if r.signature else None
        if logged.agreements.get(r.name) != (digest, sig):
            report.problems.append(
                f"agreements: {r.name!r} is not its last logged version (edited in the database)"
            )


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
        if not sa.inspect(store.engine).has_table("entry_openings"):
            raise InputError(
                f"--database-url: {database_url} predates the private log entries; start "
                "the centre on it once (it upgrades the schema), then audit"
            )
        size = store.tree_size()
        report.tree_size = size
        frontier: dict[merkle.NodeKey, bytes] = {}
        logged = _Logged()
        with store.engine.connect() as conn:
            keys = {
                r.name: load_public_key(r.public_key_pem) for r in conn.execute(sa.select(partners))
            }
            tkeys = {r.partner: bytes(r.tag_key) for r in conn.execute(sa.select(tag_keys))}
            for lo, rows in _chunks(conn, size):
                if [i for i, _ in rows] != list(range(lo, min(lo + CHUNK, size))):
                    report.problems.append(f"log_leaves: entries missing in {lo}…{lo + CHUNK - 1}")
                    return report
                hashes = [merkle.leaf_hash(leaf) for _, leaf in rows]
                created = merkle.append_leaves(lo, hashes, merkle.MappingReader(frontier))
                _check_nodes(report, created, _stored_nodes(conn, lo, lo + len(rows)))
                tree = frontier | {(lv, ix): h for lv, ix, h in created}
                frontier = {k: tree[k] for k in merkle.compact_range_keys(lo + len(rows))}
                msgs, views, opened = _rows_in(conn, lo, lo + len(rows))
                for index, leaf_bytes in rows:
                    slots = entries.slots_of(leaf_bytes)
                    if slots is not None:
                        mine = (msgs.get(index), views.get(index, {}), opened.get(index, {}))
                        _check_v3(report, index, slots, mine, tkeys, keys, logged)
                        continue
                    leaf = received.parse_leaf(leaf_bytes)
                    if leaf is None:
                        report.problems.append(f"log_leaves: entry {index} is not a JSON object")
                        continue
                    _check_message(report, index, leaf, msgs.get(index), keys)
                    _check_projections(report, index, leaf, views.get(index, {}))
            _check_extra(conn, report, size)
            _check_tables(conn, report, logged)
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

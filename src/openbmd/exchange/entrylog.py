"""Database side of version-3 entries: tag keys, openings, and appends outside the writer.

Registering a partner key, rotating it, and putting an agreement each append one log entry in
the same transaction as the table change (:meth:`Store.add_partner`, …), so a partner's
verifier checks keys and agreements against the log, not against the centre's tables. These
appends come from the CLI or a request handler, not from the single writer: each reads the
tree's right edge inside its transaction and inserts the next index, and the primary key of
``log_leaves`` makes a concurrent append (or the writer) fail rather than fork the log — the
loser retries (:func:`logged`), and the writer reloads its right edge when the tree grew
behind its back.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from openbmd.exchange import entries, merkle

__all__ = [
    "append",
    "entry_openings",
    "logged",
    "openings_in",
    "tag_keys",
    "tag_keys_in",
    "tag_keys_of",
]

log = logging.getLogger("openbmd.exchange")

md = sa.MetaData()
tag_keys = sa.Table(
    "tag_keys",
    md,
    sa.Column("partner", sa.String(64), primary_key=True),
    sa.Column("tag_key", sa.LargeBinary(32)),
)
entry_openings = sa.Table(
    "entry_openings",
    md,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("party", sa.String(64), primary_key=True),
    sa.Column("salt", sa.LargeBinary(16)),
    sa.Column("document", sa.LargeBinary),
)
_leaves = sa.table("log_leaves", sa.column("idx", sa.BigInteger), sa.column("leaf"))
_nodes = sa.table(
    "log_nodes",
    sa.column("level", sa.SmallInteger),
    sa.column("idx", sa.BigInteger),
    sa.column("hash"),
)


def tag_keys_in(conn: Connection, names: Iterable[str]) -> dict[str, bytes]:
    """The tag keys of *names*, creating the missing ones (random) on *conn*."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    q = sa.select(tag_keys).where(tag_keys.c.partner.in_(wanted))
    found = {r.partner: bytes(r.tag_key) for r in conn.execute(q)}
    for name in (n for n in wanted if n not in found):
        key = secrets.token_bytes(entries.TAG_KEY_BYTES)
        conn.execute(tag_keys.insert().values(partner=name, tag_key=key))
        found[name] = key
    return found


def tag_keys_of(engine: Engine, names: Iterable[str]) -> dict[str, bytes]:
    """:func:`tag_keys_in` in a transaction of its own (retried if created concurrently)."""
    for attempt in range(5):
        try:
            with engine.begin() as conn:
                return tag_keys_in(conn, names)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def append(conn: Connection, docs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[int]:
    """Append one entry per ``(party, document)`` of *docs* on *conn* (in its transaction).

    *party* is the partner the opening is for (its tag marks the slot), or
    :data:`entries.PUBLIC` for an entry every partner is shown. Returns the indices.
    """
    n = conn.execute(sa.select(sa.func.max(_leaves.c.idx))).scalar()
    size = 0 if n is None else int(n) + 1
    keys = merkle.compact_range_keys(size)
    frontier: dict[merkle.NodeKey, bytes] = {}
    if keys:
        cond = sa.tuple_(_nodes.c.level, _nodes.c.idx).in_([tuple(k) for k in keys])
        frontier = {
            (r.level, r.idx): bytes(r.hash) for r in conn.execute(sa.select(_nodes).where(cond))
        }
    tkeys = tag_keys_in(conn, [p for p, _ in docs if p != entries.PUBLIC])
    leaves, openings, hashes = [], [], []
    for offset, (party, doc) in enumerate(docs):
        index = size + offset
        tag = (
            entries.public_tag(index)
            if party == entries.PUBLIC
            else entries.party_tag(tkeys[party], index)
        )
        slot, salt, data = entries.seal(tag, doc)
        leaf = entries.build_leaf([slot])
        leaves.append({"idx": index, "leaf": leaf})
        openings.append({"idx": index, "party": party, "salt": salt, "document": data})
        hashes.append(merkle.leaf_hash(leaf))
    nodes = merkle.append_leaves(size, hashes, merkle.MappingReader(frontier))
    conn.execute(_leaves.insert(), leaves)
    if nodes:
        conn.execute(_nodes.insert(), [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in nodes])
    conn.execute(entry_openings.insert(), openings)
    return [size + k for k in range(len(docs))]


def logged(
    engine: Engine, work: Callable[[Connection], Sequence[tuple[str, Mapping[str, Any]]]]
) -> list[int]:
    """Run *work* (table changes; returns the documents to log) and append its entries in ONE
    transaction, retried when a concurrent append or the writer took the same index."""
    for attempt in range(50):
        try:
            with engine.begin() as conn:
                docs = work(conn)
                return append(conn, docs) if docs else []
        except (IntegrityError, OperationalError) as exc:
            if attempt == 49 or not _lost_race(exc):
                raise
            time.sleep(0.002 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _lost_race(exc: Exception) -> bool:
    """A unique-key clash (another appender took the index; *work* turns its own clashes
    into :class:`InputError`) or a busy SQLite database."""
    text = str(exc).lower()
    return isinstance(exc, IntegrityError) or "locked" in text or "busy" in text


def openings_in(
    conn: Connection, start: int, end: int, parties: Sequence[str]
) -> dict[int, list[tuple[str, bytes, bytes]]]:
    """``index → [(party, salt, document bytes)]`` of the openings of *parties* in
    ``[start, end)``."""
    o = entry_openings
    q = (
        sa.select(o)
        .where(o.c.idx >= start, o.c.idx < end, o.c.party.in_(list(parties)))
        .order_by(o.c.idx, o.c.party)
    )
    out: dict[int, list[tuple[str, bytes, bytes]]] = {}
    for r in conn.execute(q):
        out.setdefault(int(r.idx), []).append((r.party, bytes(r.salt), bytes(r.document)))
    return out

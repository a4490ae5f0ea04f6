"""SQLAlchemy 2 storage of the exchange centre (SQLite and PostgreSQL), synchronous Core API.

All methods are blocking; the service calls them from a thread (the single writer) or from
FastAPI's threadpool. The schema is created and upgraded by Alembic (:func:`migrate`).

SQLite connections get ``journal_mode=WAL``, ``synchronous=FULL`` and a busy timeout from a
connect event, so a commit returns only after the WAL is fsync'ed; a SQLite database file is
created mode 0600 (its WAL and shared-memory files inherit that mode). The centre's Ed25519
signing key is NOT in the database: the ``centre_key`` table keeps only its public half, the
private key lives in a 0600 file (:mod:`openbmd.exchange.keys`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from openbmd.errors import InputError
from openbmd.exchange import entries, entrylog, keys, merkle
from openbmd.exchange.cosigstore import CosignatureStore, cosignatures
from openbmd.exchange.domain import Agreement, Partner, ViewRecord
from openbmd.exchange.rotation import rotation_problem
from openbmd.exchange.signing import (
    Ed25519PrivateKey,
    canonical_json,
    key_fingerprint,
    load_public_key,
    public_key_pem,
    verify,
)
from openbmd.exchange.tables import (
    agreements,
    centre_key,
    log_leaves,
    log_nodes,
    messages,
    partners,
    projections,
)

__all__ = ["Store", "cosignatures", "make_engine", "migrate", "now_iso"]

log = logging.getLogger("openbmd.exchange")


def now_iso() -> str:
    """Current UTC time, RFC 3339 with microseconds."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _view_selects(
    recipient_is: Any, sender_is: Any, index_in: Any
) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The two halves of a view read — items received (projections) and the partner's own
    messages — with the same columns, ``partner`` first; *recipient_is* / *sender_is* turn a
    column into the partner condition, *index_in* a log-index column into the range one."""
    m, p, lv, o = messages, projections, log_leaves, entrylog.entry_openings
    q_in = (
        sa.select(
            p.c.recipient.label("partner"),
            p.c.log_index.label("log_index"),
            p.c.level.label("level"),
            p.c.projection.label("data"),
            p.c.salt.label("salt"),
            m.c.message_id,
            m.c.sender,
            m.c.type,
            m.c.signature,
            lv.c.leaf,
            sa.cast(sa.null(), sa.LargeBinary).label("opening"),
            m.c.statement,
            m.c.statement_signature,
            m.c.statement_salts,
        )
        .join(m, m.c.log_index == p.c.log_index)
        .join(lv, lv.c.idx == p.c.log_index)
        .where(recipient_is(p.c.recipient), index_in(p.c.log_index))
    )
    q_own = (
        sa.select(
            m.c.sender.label("partner"),
            m.c.log_index.label("log_index"),
            sa.literal("own").label("level"),
            m.c.original.label("data"),
            o.c.salt.label("salt"),
            m.c.message_id,
            m.c.sender,
            m.c.type,
            m.c.signature,
            lv.c.leaf,
            o.c.document.label("opening"),
            sa.cast(sa.null(), sa.LargeBinary).label("statement"),
            sa.cast(sa.null(), sa.LargeBinary).label("statement_signature"),
            sa.cast(sa.null(), sa.Text).label("statement_salts"),
        )
        .join(lv, lv.c.idx == m.c.log_index)
        .outerjoin(o, sa.and_(o.c.idx == m.c.log_index, o.c.party == m.c.sender))
        .where(sender_is(m.c.sender), index_in(m.c.log_index))
    )
    return q_in, q_own


def _view_query() -> sa.Select[Any]:
    """The one statement of :meth:`Store.view` (built once; parameters partner, after, lim)."""
    lim: sa.BindParameter[Any] = sa.bindparam("lim")

    def is_partner(c: Any) -> Any:
        return c == sa.bindparam("partner")

    q_in, q_own = _view_selects(is_partner, is_partner, lambda c: c > sa.bindparam("after"))
    # each half limited first, so the index can serve the partner's own range
    halves = [q.order_by(q.selected_columns.log_index).limit(lim).subquery() for q in (q_in, q_own)]
    both = sa.union_all(*(sa.select(h) for h in halves)).subquery()
    return sa.select(both).order_by(both.c.log_index, both.c.level).limit(lim)


_VIEW_QUERY = _view_query()


def _range_query() -> sa.Select[Any]:
    """The one statement of :meth:`Store.view_range`: every view item of the partners in
    ``:partners`` at log indices ``[:lo, :hi)`` (parameters partners — expanding — lo, hi)."""
    partners_: sa.BindParameter[Any] = sa.bindparam("partners", expanding=True)

    def in_range(c: Any) -> Any:
        return sa.and_(c >= sa.bindparam("lo"), c < sa.bindparam("hi"))

    q_in, q_own = _view_selects(lambda c: c.in_(partners_), lambda c: c.in_(partners_), in_range)
    both = sa.union_all(q_in, q_own).subquery()
    return sa.select(both).order_by(both.c.log_index, both.c.level)


_RANGE_QUERY = _range_query()


def _statement(row: Any) -> tuple[bytes, bytes, bytes] | None:
    """(statement, signature, this level's salt) of a projected view row, if the sender
    signed its projections."""
    if row.statement is None or row.level not in ("L0", "L1", "L2"):
        return None
    salt = base64.b64decode(json.loads(row.statement_salts)[row.level])
    return bytes(row.statement), bytes(row.statement_signature), salt


def _view_record(r: Any) -> ViewRecord:
    """A :class:`ViewRecord` from a row of :data:`_VIEW_QUERY` or :data:`_RANGE_QUERY`."""
    return ViewRecord(
        r.log_index,
        r.message_id,
        r.sender,
        r.type,
        r.level,
        json.loads(r.data),
        bytes(r.signature) if r.level in ("L3", "own") else None,
        bytes(r.salt) if r.salt is not None else None,
        bytes(r.leaf),
        bytes(r.opening) if r.opening is not None else None,
        _statement(r),
    )


def _private_file(database: str | None) -> None:
    """Create the SQLite file *database* mode 0600 (or tighten an existing one to 0600)."""
    if database in (None, "", ":memory:") or str(database).startswith("file:"):
        return
    path = Path(str(database))
    if not path.parent.is_dir():
        return  # SQLite reports the missing directory itself
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
    except OSError:  # pragma: no cover - not ours to change; SQLite will say if unusable
        pass


def make_engine(url: str) -> Engine:
    """An engine for *url* (``sqlite:///FILE`` or ``postgresql+psycopg://…``)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise InputError(f"--database-url: {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        _private_file(parsed.database)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    raise InputError(
        f"--database-url: unsupported backend {parsed.get_backend_name()!r} "
        "(use sqlite:///FILE or postgresql+psycopg://…)"
    )


def migrate(engine: Engine) -> None:
    """``alembic upgrade head`` on *engine*."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store(CosignatureStore):
    """Every query of the service."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def migrate(self) -> None:
        """Create or upgrade the schema."""
        migrate(self.engine)

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    # ----------------------------------------------------------------- partners, agreements
    def add_partner(self, name: str, pem: str) -> Partner:
        """Register *name* with a public key; re-adding the same key is a no-op."""
        key = load_public_key(pem)
        pem = public_key_pem(key)
        partner = Partner(name, pem, key_fingerprint(key))

        def work(conn: sa.Connection) -> list[tuple[str, dict[str, Any]]]:
            row = conn.execute(sa.select(partners).where(partners.c.name == name)).first()
            if row is not None:
                if row.fingerprint != partner.fingerprint:
                    raise InputError(f"partner {name!r} is already registered with another key")
                return []
            taken = sa.select(partners.c.name).where(partners.c.fingerprint == partner.fingerprint)
            if conn.execute(taken).first() is not None:
                raise InputError(f"{name}: this public key is already registered")
            at = now_iso()
            conn.execute(
                partners.insert().values(
                    name=name, public_key_pem=pem, fingerprint=partner.fingerprint, created_at=at
                )
            )
            entrylog.tag_keys_in(conn, [name])
            return [(entries.PUBLIC, entries.key_document(name, pem, at, None))]

        entrylog.logged(self.engine, work)  # the registration is a public log entry (12.6)
        return partner

    def partners(self) -> list[Partner]:
        """Every partner, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(partners).order_by(partners.c.name)).all()
        return [
            Partner(
                r.name,
                r.public_key_pem,
                r.fingerprint,
                tuple(json.loads(r.rotations)) if r.rotations else (),
            )
            for r in rows
        ]

    def rotate_partner(self, statement: dict[str, Any]) -> Partner:
        """Replace a partner's key by the rotation *statement* signed by its current key
        (:mod:`openbmd.exchange.rotation`); the statement is kept and served with it."""
        name = str(statement.get("partner"))
        kept: list[dict[str, Any]] = []
        key = None

        def work(conn: sa.Connection) -> list[tuple[str, dict[str, Any]]]:
            nonlocal kept, key
            row = conn.execute(sa.select(partners).where(partners.c.name == name)).first()
            if row is None:
                raise InputError(f"partner {name!r} is not registered", field="partner")
            problem = rotation_problem(statement, name, load_public_key(row.public_key_pem))
            if problem is not None:
                raise InputError(problem, field="statement")
            key = load_public_key(str(statement["public_key_pem"]))
            taken = sa.select(partners.c.name).where(partners.c.fingerprint == key_fingerprint(key))
            if conn.execute(taken).first() is not None:
                raise InputError(f"{name}: the new key is already registered")
            kept = [*(json.loads(row.rotations) if row.rotations else []), dict(statement)]
            conn.execute(
                partners.update()
                .where(partners.c.name == name)
                .values(
                    public_key_pem=public_key_pem(key),
                    fingerprint=key_fingerprint(key),
                    rotations=json.dumps(kept, sort_keys=True),
                )
            )
            doc = entries.key_document(name, public_key_pem(key), now_iso(), statement)
            return [(entries.PUBLIC, doc)]

        entrylog.logged(self.engine, work)  # logged with the old key's signature (12.6)
        assert key is not None
        return Partner(name, public_key_pem(key), key_fingerprint(key), tuple(kept))

    def put_agreement(self, agreement: Agreement, signature: bytes | None = None) -> None:
        """Insert or replace an agreement (applies to messages accepted from now on).

        *signature*: the sender's Ed25519 signature over the RFC 8785 form of the agreement
        (checked here against the sender's registered key; partners check it again).
        """
        doc = json.dumps(agreement.to_dict(), sort_keys=True)
        if signature is not None:
            owner = next((p for p in self.partners() if p.name == agreement.sender), None)
            data = canonical_json(agreement.to_dict())
            if owner is None or not verify(load_public_key(owner.public_key_pem), data, signature):
                raise InputError(
                    f"agreement {agreement.name}: the signature is not {agreement.sender!r}'s",
                    field="signature_b64",
                )

        def work(conn: sa.Connection) -> list[tuple[str, dict[str, Any]]]:
            at = now_iso()
            conn.execute(agreements.delete().where(agreements.c.name == agreement.name))
            conn.execute(
                agreements.insert().values(
                    name=agreement.name,
                    sender=agreement.sender,
                    document=doc,
                    updated_at=at,
                    signature=signature,
                )
            )
            sig = base64.b64encode(signature).decode("ascii") if signature is not None else None
            entry = entries.agreement_document(agreement.to_dict(), sig, at)
            return [(agreement.sender, entry)]

        entrylog.logged(self.engine, work)  # an entry the sender is shown (12.6)

    def agreements(self) -> dict[str, Agreement]:
        """Every agreement by name."""
        return {a.name: a for a, _ in self.signed_agreements()}

    def signed_agreements(self) -> list[tuple[Agreement, bytes | None]]:
        """Every agreement with its sender's signature (None: unsigned), by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(agreements.c.document, agreements.c.signature).order_by(agreements.c.name)
            ).all()
        return [
            (
                Agreement.from_dict(json.loads(r.document)),
                bytes(r.signature) if r.signature is not None else None,
            )
            for r in rows
        ]

    # ----------------------------------------------------------------- centre key
    def centre_key(self, path: Path) -> Ed25519PrivateKey:
        """The centre's signing key, kept in the 0600 file *path* (see :mod:`keys`)."""
        return keys.open_centre_key(self.engine, centre_key, path)

    def rotate_centre_key(self, path: Path) -> tuple[str, str, str]:
        """Replace the centre's signing key (see :func:`keys.rotate_centre_key`)."""
        return keys.rotate_centre_key(self.engine, centre_key, path)

    # ----------------------------------------------------------------- log
    def tree_size(self) -> int:
        """Number of committed leaves."""
        with self.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.max(log_leaves.c.idx))).scalar()
        return 0 if n is None else int(n) + 1

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
        """NodeReader: the persisted perfect nodes among *keys* (one query)."""
        if not keys:
            return {}
        cond = sa.tuple_(log_nodes.c.level, log_nodes.c.idx).in_([tuple(k) for k in keys])
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(log_nodes).where(cond)).all()
        return {(r.level, r.idx): bytes(r.hash) for r in rows}

    def rebuilt_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """NodeReader that recomputes the perfect nodes missing from ``log_nodes`` from the
        leaves they cover (O(leaves); for startup, so a lost node is named, not fatal)."""
        got = dict(self.get_nodes(keys))
        for level, index in (k for k in keys if k not in got):
            leaves = self.entries(index << level, (index + 1) << level)
            if len(leaves) != 1 << level:
                continue  # beyond the log: the caller reports it missing
            log.warning(
                "log_nodes lacks the perfect node (level %d, index %d); recomputed from its "
                "leaves — run `openbmd exchange audit` on this database",
                level,
                index,
            )
            got[(level, index)] = merkle.root_from_leaves([merkle.leaf_hash(x) for _, x in leaves])
        return got

    def rebuilding_reader(self) -> RebuildingReader:
        """A NodeReader over this store that recomputes lost nodes (:meth:`rebuilt_nodes`)."""
        return RebuildingReader(self)

    def entries(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """Leaves ``[start, end)``."""
        q = (
            sa.select(log_leaves)
            .where(log_leaves.c.idx >= start, log_leaves.c.idx < end)
            .order_by(log_leaves.c.idx)
        )
        with self.engine.connect() as conn:
            return [(r.idx, bytes(r.leaf)) for r in conn.execute(q)]

    # ----------------------------------------------------------------- writer support
    def lookup_ids(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[bytes, int]]:
        """``(sender, message_id) → (body_hash, log_index)`` for the stored ones among *pairs*.

        Message ids are scoped per sender: another sender's use of an id is neither a
        conflict nor visible (one query on the ``(message_id, sender)`` unique index).
        """
        wanted = set(pairs)
        ids = sorted({mid for _, mid in wanted})
        m = messages
        q = sa.select(m.c.sender, m.c.message_id, m.c.body_hash, m.c.log_index).where(
            m.c.message_id.in_(ids)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return {
            (r.sender, r.message_id): (bytes(r.body_hash), r.log_index)
            for r in rows
            if (r.sender, r.message_id) in wanted
        }

    def last_seqs(self) -> dict[str, int]:
        """Highest accepted ``seq`` per sender."""
        q = sa.select(messages.c.sender, sa.func.max(messages.c.seq)).group_by(messages.c.sender)
        with self.engine.connect() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(q)}

    def commit_batch(
        self,
        message_rows: list[dict[str, Any]],
        leaf_rows: list[dict[str, Any]],
        node_rows: list[dict[str, Any]],
        projection_rows: list[dict[str, Any]],
        opening_rows: list[dict[str, Any]] | None = None,
    ) -> None:
        """Insert one group commit in ONE transaction; returns after the commit (fsync)."""
        with self.engine.begin() as conn:
            conn.execute(messages.insert(), message_rows)
            conn.execute(log_leaves.insert(), leaf_rows)
            conn.execute(log_nodes.insert(), node_rows)
            if projection_rows:
                conn.execute(projections.insert(), projection_rows)
            if opening_rows:
                conn.execute(entrylog.entry_openings.insert(), opening_rows)

    def tag_keys(self, names: Iterable[str]) -> dict[str, bytes]:
        """The tag keys of *names* (created for those that have none)."""
        return entrylog.tag_keys_of(self.engine, names)

    def entries_for(
        self, start: int, end: int, parties: Sequence[str]
    ) -> tuple[list[tuple[int, bytes]], dict[int, list[tuple[str, bytes, bytes]]]]:
        """Leaves ``[start, end)`` and the openings of *parties* among them."""
        with self.engine.connect() as conn:
            opened = entrylog.openings_in(conn, start, end, parties)
        return self.entries(start, end), opened  # immutable once committed: no snapshot needed

    def reports_after(self, after: int, limit: int = 1000) -> list[tuple[int, dict[str, Any]]]:
        """Committed radar reports after log index *after*: ``(index, message)`` in log order
        (what the fusion service reads)."""
        q = (
            sa.select(messages.c.log_index, messages.c.original)
            .where(messages.c.type == "radar_report", messages.c.log_index > after)
            .order_by(messages.c.log_index)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(int(r[0]), json.loads(r[1])) for r in conn.execute(q)]

    def message_ids_of(self, sender: str) -> set[str]:
        """Every ``message_id`` logged from *sender*."""
        q = sa.select(messages.c.message_id).where(messages.c.sender == sender)
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(q)}

    # ----------------------------------------------------------------- views
    def view(self, partner: str, after: int, limit: int) -> list[ViewRecord]:
        """*partner*'s view after log index *after*: its projections and its own messages.

        ONE statement (a ``UNION ALL`` ordered by log index) so the page is read from one
        snapshot: the writer commits in log order, so every committed snapshot is a prefix of
        the log and the page's last index is a gap-free cursor. (Two statements could see two
        commits: own messages from a later one than the projections, and the cursor would
        jump over projections committed in between.) Each record carries the exact leaf bytes
        logged at its index, so the recipient can check the item against the log.
        """
        params = {"partner": partner, "after": after, "lim": limit}
        with self.engine.connect() as conn:
            rows = conn.execute(_VIEW_QUERY, params).all()
        return [_view_record(r) for r in rows]

    def view_range(self, partners: Iterable[str], lo: int, hi: int) -> dict[str, list[ViewRecord]]:
        """Every view item of *partners* at log indices ``[lo, hi)``, by partner, each list in
        the order of :meth:`view`: the new items of one or more commits for all the feeds of a
        process in ONE statement (``hi`` must not exceed the committed size)."""
        names = sorted(set(partners))
        out: dict[str, list[ViewRecord]] = {n: [] for n in names}
        if not names or hi <= lo:
            return out
        params = {"partners": names, "lo": lo, "hi": hi}
        with self.engine.connect() as conn:
            rows = conn.execute(_RANGE_QUERY, params).all()
        for r in rows:
            out[r.partner].append(_view_record(r))
        return out


class RebuildingReader:
    """NodeReader of :meth:`Store.rebuilt_nodes` (used at startup only)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_nodes(self, keys: Sequence[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
        """The requested nodes, lost ones recomputed from their leaves."""
        return self.store.rebuilt_nodes(keys)


def body_hash(canonical: bytes) -> bytes:
    """SHA-256 of a message's canonical bytes."""
    return hashlib.sha256(canonical).digest()

"""The single writer: group commits of accepted submissions into the store and the log.

A request handler queues a :class:`~openbmd.exchange.domain.Submission` with
:meth:`Writer.submit` (or :meth:`Writer.submit_many`). The writer takes everything queued (up
to ``batch_max``), and in its own thread checks idempotency, nonce, sequence and agreement for
each, computes the projections and leaves, the new Merkle nodes, and inserts messages + leaves
+ nodes + projections in ONE transaction. Only after the commit returns (WAL fsync'ed on
SQLite, WAL flushed on PostgreSQL) are the waiting requests answered with their index. While
one batch commits, the next one queues up: the fsync cost is shared.

One process serves a database: the writer keeps the log's right edge and the per-sender
sequence numbers in memory (loaded by :meth:`Writer.load`), and the unique keys on the log
tables make a second writer fail instead of forking the log.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.exc import IntegrityError

from openbmd.exchange import entries, merkle
from openbmd.exchange.domain import Outcome, Submission
from openbmd.exchange.feed import Notifier
from openbmd.exchange.policy import SALT_BYTES, NotCovered, project, projection_commitment, route
from openbmd.exchange.signing import canonical_json
from openbmd.exchange.store import Store

__all__ = ["Writer"]

log = logging.getLogger("openbmd.exchange")


def _view_bytes(s: Submission, level: str) -> bytes:
    """The RFC 8785 bytes a recipient at *level* is sent: the message (L3), else the projection
    the sender signed (computed and checked at intake), else the centre's own projection."""
    if level == "L3":
        return s.canonical
    if s.statement is not None:
        return s.statement[3][level]
    return canonical_json(project(s.message, level))  # type: ignore[arg-type]


def _salts_json(statement: tuple[bytes, bytes, dict[str, bytes], Any] | None) -> str | None:
    """The sender's per-level projection salts as stored (JSON of base64)."""
    if statement is None:
        return None
    return json.dumps({k: base64.b64encode(v).decode("ascii") for k, v in statement[2].items()})


class Writer:
    """The one writer of a store: its queue, its thread, and the log's right edge.

    Parameters
    ----------
    store : Store
        The database written to.
    notifier : Notifier
        Told the new tree size after each commit (wakes the feeds).
    batch_max : int
        Most submissions in one group commit.
    """

    def __init__(self, store: Store, notifier: Notifier, batch_max: int) -> None:
        self.store = store
        self.notifier = notifier
        self.batch_max = batch_max
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="openbmd-writer")
        self._queue: asyncio.Queue[tuple[Submission, asyncio.Future[Outcome]]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._agreement_cache: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self.size = 0
        self.root = merkle.root_from_leaves([])
        self.head = (0, self.root)
        self.frontier: dict[tuple[int, int], bytes] = {}
        self.last_seq: dict[str, int] = {}
        self._tag_keys: dict[str, bytes] = {}

    def load(self) -> None:
        """Load the log's right edge and the last sequence numbers (blocking)."""
        self.size = self.store.tree_size()
        keys = merkle.compact_range_keys(self.size)
        self.frontier = self.store.rebuilt_nodes(keys)  # a lost node is logged, not fatal
        self.root = merkle.root_hash(self.size, merkle.MappingReader(self.frontier))
        self.head = (self.size, self.root)
        self.last_seq = self.store.last_seqs()
        self.notifier.size = self.size

    def start(self) -> None:
        """Start the writer task (in the running event loop)."""
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="openbmd-writer")

    async def stop(self) -> None:
        """Stop the writer task (pending submissions are failed) and its thread."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._queue is not None:
            while not self._queue.empty():
                _, fut = self._queue.get_nowait()
                if not fut.done():
                    fut.set_result(Outcome(problem=("unavailable", "server is shutting down")))
        self.executor.shutdown(wait=True)

    async def submit(self, sub: Submission) -> Outcome:
        """Queue *sub* for the writer; resolve after its batch committed (or was refused)."""
        assert self._queue is not None, "writer not started"
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((sub, fut))
        return await fut

    async def submit_many(self, subs: list[Submission]) -> list[Outcome]:
        """Queue *subs* in order (they land in the same or consecutive group commits)."""
        assert self._queue is not None, "writer not started"
        loop = asyncio.get_running_loop()
        futs: list[asyncio.Future[Outcome]] = []
        for sub in subs:
            fut: asyncio.Future[Outcome] = loop.create_future()
            self._queue.put_nowait((sub, fut))
            futs.append(fut)
        return list(await asyncio.gather(*futs))

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while len(batch) < self.batch_max and not queue.empty():
                batch.append(queue.get_nowait())
            subs = [s for s, _ in batch]
            try:
                outcomes = await loop.run_in_executor(self.executor, self._commit, subs)
            except Exception:  # the transaction failed: nobody is acknowledged
                log.exception("group commit of %d messages failed", len(subs))
                outcomes = [Outcome(problem=("unavailable", "storage failure; retry"))] * len(subs)
                await loop.run_in_executor(self.executor, self._reload)
            for (_, fut), outcome in zip(batch, outcomes, strict=True):
                if not fut.done():
                    fut.set_result(outcome)
            if self.notifier.size != self.size:
                self.notifier.publish(self.size)

    def _reload(self) -> None:
        try:
            self.load()
        except Exception:  # pragma: no cover - database down; the next batch retries
            log.exception("reloading the log state failed")

    def _commit(self, subs: list[Submission]) -> list[Outcome]:
        """Check, build and commit one batch (runs in the writer thread).

        Key and agreement entries are appended outside the writer (:mod:`entrylog`): when the
        tree grew behind the writer's back it reloads its right edge first, and if such an
        append took an index during the batch (the unique key on ``log_leaves`` refuses the
        commit) it reloads and builds the batch again.
        """
        if self.store.tree_size() != self.size:
            self.load()
        try:
            return self._build_and_commit(subs)
        except IntegrityError:
            log.info("the log grew during a group commit (a key or agreement entry); rebuilding")
            self.load()
            return self._build_and_commit(subs)

    def _party_keys(self, names: set[str]) -> dict[str, bytes]:
        """Tag keys of *names* (cached; created for new parties)."""
        missing = names - self._tag_keys.keys()
        if missing:
            self._tag_keys.update(self.store.tag_keys(missing))
        return self._tag_keys

    def _build_and_commit(self, subs: list[Submission]) -> list[Outcome]:
        store = self.store
        agreements = self._agreements()
        known = store.lookup_ids({(s.sender, s.message_id) for s in subs})
        used = self._used_nonces({(s.sender, s.nonce) for s in subs})
        seqs: dict[str, int] = {}
        digests: dict[str, bytes] = {}
        outcomes: list[Outcome] = []
        msg_rows: list[dict[str, Any]] = []
        leaf_rows: list[dict[str, Any]] = []
        proj_rows: list[dict[str, Any]] = []
        open_rows: list[dict[str, Any]] = []
        leaf_hashes: list[bytes] = []
        size = self.size
        for s in subs:
            prev = known.get((s.sender, s.message_id))
            if prev is not None:
                if prev[0] == s.body_hash:
                    outcomes.append(Outcome(index=prev[1], created=False))
                else:
                    detail = (
                        f"message_id {s.message_id!r} exists with another body (index {prev[1]})"
                    )
                    outcomes.append(Outcome(problem=("conflict", detail)))
                continue
            problem = s.levels if s.levels is not None else self._check(s, used, seqs, agreements)
            if isinstance(problem, tuple):
                outcomes.append(Outcome(problem=problem))
                continue
            levels = problem
            index = size + len(leaf_rows)
            tkeys = self._party_keys({s.sender, *levels})
            slots: list[tuple[bytes, bytes]] = []
            for recipient, level in levels.items():
                data = _view_bytes(s, level)
                salt = secrets.token_bytes(SALT_BYTES)
                digest = projection_commitment(salt, data)
                slots.append((entries.party_tag(tkeys[recipient], index), digest))
                proj_rows.append(
                    {
                        "recipient": recipient,
                        "log_index": index,
                        "level": level,
                        "projection_hash": digest,
                        "projection": data,
                        "salt": salt,
                    }
                )
            name = s.message.get("agreement")
            if name is not None and name not in digests:  # once per agreement and batch
                digests[name] = agreements[name].digest()
            entry_agreement = digests[name] if name is not None else None
            meta = entries.metadata(s.message, s.body_hash, s.received_at, entry_agreement)
            slot, salt, data = entries.seal(entries.party_tag(tkeys[s.sender], index), meta)
            slots.append(slot)
            open_rows.append({"idx": index, "party": s.sender, "salt": salt, "document": data})
            leaf = entries.build_leaf(slots)  # commits to everything, names nothing (12.2)
            leaf_rows.append({"idx": index, "leaf": leaf})
            leaf_hashes.append(merkle.leaf_hash(leaf))
            msg_rows.append(
                {
                    "log_index": index,
                    "message_id": s.message_id,
                    "sender": s.sender,
                    "seq": s.seq,
                    "nonce": s.nonce,
                    "type": s.type,
                    "body_hash": s.body_hash,
                    "original": s.canonical,
                    "signature": s.signature,
                    "received_at": s.received_at,
                    "statement": s.statement[0] if s.statement else None,
                    "statement_signature": s.statement[1] if s.statement else None,
                    "statement_salts": _salts_json(s.statement),
                }
            )
            known[(s.sender, s.message_id)] = (s.body_hash, index)
            used.add((s.sender, s.nonce))
            seqs[s.sender] = s.seq
            outcomes.append(Outcome(index=index, created=True))
        if not leaf_rows:
            return outcomes
        nodes = merkle.append_leaves(size, leaf_hashes, merkle.MappingReader(self.frontier))
        store.commit_batch(
            msg_rows,
            leaf_rows,
            [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in nodes],
            proj_rows,
            open_rows,
        )
        new_size = size + len(leaf_rows)
        everything = dict(self.frontier)
        everything.update({(lv, ix): h for lv, ix, h in nodes})
        self.frontier = {k: everything[k] for k in merkle.compact_range_keys(new_size)}
        self.root = merkle.root_hash(new_size, merkle.MappingReader(self.frontier))
        self.last_seq.update(seqs)
        self.size = new_size
        self.head = (new_size, self.root)
        return outcomes

    def _agreements(self) -> dict[str, Any]:
        """Every agreement, re-read only when the table changed (``agreement add`` may write
        to the database while the service runs; a replace bumps ``updated_at``)."""
        with self.store.engine.connect() as conn:
            stamp = tuple(
                conn.exec_driver_sql("SELECT count(*), max(updated_at) FROM agreements").one()
            )
        cached = self._agreement_cache
        if cached is None or cached[0] != stamp:
            cached = self._agreement_cache = (stamp, self.store.agreements())
        return cached[1]

    def _used_nonces(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """The ``(sender, nonce)`` pairs among *pairs* already stored: one query per batch,
        ``(sender = ? AND nonce IN (…)) OR …`` (each term uses the unique index)."""
        by_sender: dict[str, list[str]] = {}
        for sender, nonce in pairs:
            by_sender.setdefault(sender, []).append(nonce)
        ph = "?" if self.store.engine.dialect.paramstyle == "qmark" else "%s"
        found: set[tuple[str, str]] = set()
        terms: list[str] = []
        params: list[str] = []
        senders = sorted(by_sender)
        with self.store.engine.connect() as conn:
            for k, sender in enumerate(senders):
                nonces = by_sender[sender]
                terms.append(f"(sender = {ph} AND nonce IN ({', '.join([ph] * len(nonces))}))")
                params += [sender, *nonces]
                if len(params) > 400 or k == len(senders) - 1:  # under every parameter limit
                    sql = "SELECT sender, nonce FROM messages WHERE " + " OR ".join(terms)
                    found.update((r[0], r[1]) for r in conn.exec_driver_sql(sql, tuple(params)))
                    terms, params = [], []
        return found

    def _check(
        self,
        s: Submission,
        used: set[tuple[str, str]],
        seqs: dict[str, int],
        agreements: dict[str, Any],
    ) -> tuple[str, str] | dict[str, Any]:
        """A problem, or the recipients' levels."""
        if s.skew_problem is not None:
            return s.skew_problem
        if (s.sender, s.nonce) in used:
            return ("replayed-nonce", f"nonce: {s.nonce!r} was already used by {s.sender!r}")
        last = seqs.get(s.sender, self.last_seq.get(s.sender, 0))
        if s.seq <= last:
            return (
                "sequence-not-increasing",
                f"seq: {s.seq} is not greater than the last accepted {last}",
            )
        agreement = agreements.get(s.message["agreement"])
        if agreement is None:
            return ("unknown-agreement", f"agreement: {s.message['agreement']!r} is not registered")
        try:
            return route(agreement, s.message)
        except NotCovered as exc:
            return ("not-covered-by-agreement", str(exc))

"""The exchange service: :func:`create_app` and the centre's state, including the group-commit
writer.

Accept path. A ``POST /v1/messages`` handler validates the body, verifies the sender's
signature, then queues the submission for the **single writer**. The writer takes everything
queued (up to ``batch_max``), and in a worker thread checks idempotency, nonce, sequence and
agreement for each, computes the projections and leaves, the new Merkle nodes, and inserts
messages + leaves + nodes + projections in ONE transaction. Only after the commit returns
(WAL fsync'ed on SQLite, WAL flushed on PostgreSQL) are the waiting requests answered with
their index. While one batch commits, the next one queues up: the fsync cost is shared.

One process serves a database: the writer keeps the log's right edge and the per-sender
sequence numbers in memory (loaded at start), and the unique keys on the log tables make a
second writer fail instead of forking the log.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from openbmd.exchange import merkle
from openbmd.exchange.accept import VerifierPool
from openbmd.exchange.domain import Outcome, Submission
from openbmd.exchange.errors import install_handlers
from openbmd.exchange.feed import Notifier
from openbmd.exchange.note import format_checkpoint, sign_note
from openbmd.exchange.policy import NotCovered, leaf_record, project, route
from openbmd.exchange.schemas import MESSAGE_TYPES
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import (
    Ed25519PublicKey,
    canonical_json,
    load_public_key,
    public_key_pem,
)
from openbmd.exchange.store import Store

__all__ = ["Centre", "create_app"]

log = logging.getLogger("openbmd.exchange")


class Centre:
    """Everything a request handler needs: store, keys, writer state, notifier."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database_url)
        self.notifier = Notifier()
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="openbmd-writer")
        self._queue: asyncio.Queue[tuple[Submission, asyncio.Future[Outcome]]] | None = None
        self._task: asyncio.Task[None] | None = None
        # (size, root, body, centre signature line) of the last checkpoint signed.
        self._signed: tuple[int, bytes, str, str] | None = None
        self.verifier = VerifierPool(settings.verify_workers)
        self._agreement_cache: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        from openbmd.exchange.auth import NonceCache

        self.read_nonces = NonceCache(settings.skew_seconds)

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> None:
        """Migrate the schema, load the key and the log's right edge (blocking)."""
        self.store.migrate()
        self.key = self.store.centre_key()
        self.public_key_pem = public_key_pem(self.key)
        self.size = self.store.tree_size()
        keys = merkle.compact_range_keys(self.size)
        self.frontier = dict(self.store.get_nodes(keys))
        self.root = merkle.root_hash(self.size, merkle.MappingReader(self.frontier))
        self.head = (self.size, self.root)
        self.last_seq = self.store.last_seqs()
        self.notifier.size = self.size

    async def start(self) -> None:
        """Open (in a thread) and start the writer task."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self.open)
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="openbmd-writer")
        # Everything loaded so far (modules, app, schemas) lives as long as the process: keep it
        # out of the cyclic collector's scans, which otherwise cost ~15 % of a busy server.
        gc.collect()
        gc.freeze()

    async def stop(self) -> None:
        """Stop the writer (pending submissions are failed) and close the store."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._queue is not None:
            while not self._queue.empty():
                _, fut = self._queue.get_nowait()
                if not fut.done():
                    fut.set_result(Outcome(problem=("unavailable", "server is shutting down")))
        self._executor.shutdown(wait=True)
        self.verifier.stop()
        self.store.close()

    # ------------------------------------------------------------------ partners
    def partner_key(self, name: str) -> Ed25519PublicKey | None:
        """Public key of *name* (cached; reloaded from the database on a miss; blocking)."""
        key = self._keys.get(name)
        if key is None:
            self._keys = {p.name: load_public_key(p.public_key_pem) for p in self.store.partners()}
            key = self._keys.get(name)
        return key

    def cached_partner_key(self, name: str) -> Ed25519PublicKey | None:
        """Public key of *name* from the cache only (non-blocking)."""
        return self._keys.get(name)

    # ------------------------------------------------------------------ checkpoint
    def checkpoint_body_and_signature(self) -> tuple[int, bytes, str, str]:
        """``(size, root, body, centre signature line)`` of the current committed tree."""
        # ``head`` is published by the writer as one tuple (a single, atomic assignment), so a
        # reader on another thread never pairs one tree size with another size's root.
        size, root = self.head
        cached = self._signed
        if cached is None or cached[0] != size or cached[1] != root:
            body = format_checkpoint(self.settings.origin, size, root)
            cached = (size, root, body, sign_note(body, self.settings.note_key_name, self.key))
            self._signed = cached
        return size, root, cached[2], cached[3]

    # ------------------------------------------------------------------ writer
    async def submit(self, sub: Submission) -> Outcome:
        """Queue *sub* for the writer; resolve after its batch committed (or was refused)."""
        assert self._queue is not None, "centre not started"
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((sub, fut))
        return await fut

    async def submit_many(self, subs: list[Submission]) -> list[Outcome]:
        """Queue *subs* in order (they land in the same or consecutive group commits)."""
        assert self._queue is not None, "centre not started"
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
            while len(batch) < self.settings.batch_max and not queue.empty():
                batch.append(queue.get_nowait())
            subs = [s for s, _ in batch]
            try:
                outcomes = await loop.run_in_executor(self._executor, self._commit, subs)
            except Exception:  # the transaction failed: nobody is acknowledged
                log.exception("group commit of %d messages failed", len(subs))
                outcomes = [Outcome(problem=("unavailable", "storage failure; retry"))] * len(subs)
                await loop.run_in_executor(self._executor, self._reload)
            for (_, fut), outcome in zip(batch, outcomes, strict=True):
                if not fut.done():
                    fut.set_result(outcome)
            if self.notifier.size != self.size:
                self.notifier.publish(self.size)

    def _reload(self) -> None:
        try:
            self.open()
        except Exception:  # pragma: no cover - database down; the next batch retries
            log.exception("reloading the log state failed")

    def _commit(self, subs: list[Submission]) -> list[Outcome]:
        """Check, build and commit one batch (runs in the writer thread)."""
        store = self.store
        agreements = self._agreements()
        known = store.lookup_ids({s.message_id for s in subs})
        used = self._used_nonces({(s.sender, s.nonce) for s in subs})
        seqs: dict[str, int] = {}
        outcomes: list[Outcome] = []
        msg_rows: list[dict[str, Any]] = []
        leaf_rows: list[dict[str, Any]] = []
        proj_rows: list[dict[str, Any]] = []
        leaf_hashes: list[bytes] = []
        size = self.size
        for s in subs:
            prev = known.get(s.message_id)
            if prev is not None:
                if prev[0] == s.body_hash:
                    outcomes.append(Outcome(index=prev[1], created=False))
                else:
                    detail = (
                        f"message_id {s.message_id!r} exists with another body (index {prev[1]})"
                    )
                    outcomes.append(Outcome(problem=("conflict", detail)))
                continue
            problem = self._check(s, used, seqs, agreements)
            if isinstance(problem, tuple):
                outcomes.append(Outcome(problem=problem))
                continue
            levels = problem
            index = size + len(leaf_rows)
            hashes: dict[str, bytes] = {}
            for recipient, level in levels.items():
                if level == "L3":
                    data, digest = s.canonical, s.body_hash
                else:
                    data = canonical_json(project(s.message, level))
                    digest = hashlib.sha256(data).digest()
                hashes[recipient] = digest
                proj_rows.append(
                    {
                        "recipient": recipient,
                        "log_index": index,
                        "level": level,
                        "projection_hash": digest,
                        "projection": data,
                    }
                )
            leaf = leaf_record(s.message, s.body_hash, s.received_at, hashes)
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
                }
            )
            known[s.message_id] = (s.body_hash, index)
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


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. The database is migrated and the writer started at startup."""
    from openbmd.exchange import accept
    from openbmd.exchange.routers import agreements, feed, log, partners
    from openbmd.exchange.routers import messages as messages_router

    settings = settings or Settings()
    centre = Centre(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await centre.start()
        try:
            yield
        finally:
            await centre.stop()

    app = FastAPI(
        title="openbmd Joint Data Exchange Centre",
        version="1",
        summary="Signed partner notifications, need-to-know sharing, an RFC 9162 log.",
        lifespan=lifespan,
    )
    app.state.centre = centre
    install_handlers(app, set(MESSAGE_TYPES) | {"polygon", "circle"})
    for module in (partners, agreements, messages_router, accept, log, feed):
        app.include_router(module.router)
    return app

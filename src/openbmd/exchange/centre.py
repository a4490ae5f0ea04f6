"""The running centre's state: store, single writer, keys, caches, notifier.

A request handler reaches everything it needs through one centre object (``app.state``): the
:class:`~openbmd.exchange.store.Store`, the partners' public keys (cached), the pool that
checks signatures, the feed hub, and — through the methods of :class:`CentreBase` — the writer
that logs accepted submissions, the signed checkpoint of the committed tree, the nonces of
signed reads and the per-partner feed slots. :class:`Centre` holds the writer in this process;
a front process of ``serve --workers N`` uses :class:`~openbmd.exchange.front.FrontCentre`,
which reaches the writer process over a local socket (:mod:`openbmd.exchange.ipc`).
"""

from __future__ import annotations

import asyncio
import gc
import time

from openbmd.exchange.auth import NonceCache
from openbmd.exchange.domain import Outcome, Submission
from openbmd.exchange.feed import FeedHub, Notifier
from openbmd.exchange.limits import FeedSlots
from openbmd.exchange.note import cosign_checkpoint, format_checkpoint, sign_note
from openbmd.exchange.rollback import CheckpointGuard, guard_file
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import Ed25519PublicKey, load_public_key, public_key_pem, sign
from openbmd.exchange.sigpool import VerifierPool
from openbmd.exchange.store import Store
from openbmd.exchange.writer import Writer

__all__ = ["Centre", "CentreBase", "SignedCheckpoint"]

SignedCheckpoint = tuple[int, bytes, str, tuple[str, str]]
"""``(size, root, body, (centre signature line, timestamp line))`` of a committed tree."""


class CentreBase:
    """What every serving process has: settings, store, keys, notifier, feed hub, verifier.

    The log state and the writer are reached through the methods below, implemented by
    :class:`Centre` (in this process) and by ``FrontCentre`` (over a local socket).

    Parameters
    ----------
    settings : Settings
        Database URL, origin, limits.
    """

    public_key_pem: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database_url)
        self.notifier = Notifier()
        self.hub = FeedHub(self.store, self.notifier, max_queued=4 * settings.page_max)
        self._keys: dict[str, Ed25519PublicKey] = {}
        self.verifier = VerifierPool(settings.verify_workers)
        self.read_nonces = NonceCache(settings.skew_seconds)

    async def start(self) -> None:
        """Start serving (blocking work in threads)."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop serving."""
        raise NotImplementedError

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

    # ------------------------------------------------------------------ log state
    @property
    def size(self) -> int:
        """Committed tree size."""
        raise NotImplementedError

    @property
    def root(self) -> bytes:
        """Root hash of the committed tree."""
        raise NotImplementedError

    async def signed_checkpoint(self) -> SignedCheckpoint:
        """The signed checkpoint of the committed tree
        (:meth:`Centre.checkpoint_body_and_signature`)."""
        raise NotImplementedError

    async def signed_old_checkpoint(self, size: int, root: bytes) -> tuple[str, str]:
        """``(body, centre signature line)`` of the earlier tree (*size*, *root*)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ writer, limits
    async def submit_many(self, subs: list[Submission]) -> list[Outcome]:
        """Queue *subs* in order; resolve after their group commits (or refusals)."""
        raise NotImplementedError

    async def claim_read_nonce(self, partner: str, nonce: str, now: float) -> bool:
        """False if *partner* already used *nonce* for a signed read in any serving process
        (the caller checked :attr:`read_nonces`, this process's own cache, first)."""
        raise NotImplementedError

    async def take_feed(self, partner: str) -> bool:
        """Reserve one of *partner*'s feed slots (counted across all serving processes)."""
        raise NotImplementedError

    def give_feed(self, partner: str) -> None:
        """Release a slot reserved by :meth:`take_feed`."""
        raise NotImplementedError


class Centre(CentreBase):
    """A centre whose single writer, fusion and checkpoint key live in this process.

    Parameters
    ----------
    settings : Settings
        Database URL, origin, limits.
    """

    def __init__(self, settings: Settings) -> None:
        # fusion pulls in tracking/ (numba, SciPy: ~2 s): imported where it runs, so a front
        # process of ``serve --workers N`` does not pay for it
        from openbmd.exchange.fusion import FusionService

        super().__init__(settings)
        self.writer = Writer(self.store, self.notifier, settings.batch_max)
        # (size, root, body, centre signature and timestamp lines) of the last checkpoint signed.
        self._signed: SignedCheckpoint | None = None
        self.feeds = FeedSlots(settings.feeds_per_partner)
        self.fusion = FusionService(
            self.store, self.writer, self.notifier, self._sign, settings.fusion_min_hits
        )

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> None:
        """Migrate the schema, load the key and the log's right edge (blocking)."""
        self.store.migrate()
        self.key = self.store.centre_key(self.settings.key_path)
        self.public_key_pem = public_key_pem(self.key)
        self.guard = CheckpointGuard(guard_file(self.settings.key_path))
        self.writer.load()
        self.guard.check(self.writer.size, self.store.rebuilding_reader())

    async def start(self) -> None:
        """Open (in the writer's thread) and start the writer, feed hub and fusion tasks."""
        try:
            await asyncio.get_running_loop().run_in_executor(self.writer.executor, self.open)
        except BaseException:  # refused to start (key, rollback guard, database): let go of it
            await self.writer.stop()
            self.store.close()
            raise
        self.writer.start()
        self.hub.start()
        self.fusion.start()  # follows the committed log, after the acknowledgements
        # Everything loaded so far (modules, app, schemas) lives as long as the process: keep it
        # out of the cyclic collector's scans, which otherwise cost ~15 % of a busy server.
        gc.collect()
        gc.freeze()

    async def stop(self) -> None:
        """Stop fusion, the hub and the writer (pending submissions are failed); close."""
        await self.fusion.stop()
        await self.hub.stop()
        await self.writer.stop()
        self.verifier.stop()
        self.store.close()

    def _sign(self, data: bytes) -> bytes:
        """Ed25519 signature of *data* by the centre's key (its own log entries)."""
        return sign(self.key, data)

    # ------------------------------------------------------------------ log state
    @property
    def size(self) -> int:
        """Committed tree size."""
        return self.writer.size

    @property
    def root(self) -> bytes:
        """Root hash of the committed tree."""
        return self.writer.root

    # ------------------------------------------------------------------ checkpoint
    def checkpoint_body_and_signature(self) -> SignedCheckpoint:
        """``(size, root, body, (signature line, timestamp line))`` of the committed tree.

        The timestamp line is a C2SP type-0x04 (timestamped) signature of the same body by the
        centre's own key under its key name: when the centre first signed this tree. It leaves
        the body — hence every witness cosignature of it — unchanged.
        """
        # ``head`` is published by the writer as one tuple (a single, atomic assignment), so a
        # reader on another thread never pairs one tree size with another size's root.
        size, root = self.writer.head
        cached = self._signed
        if cached is None or cached[0] != size or cached[1] != root:
            self.guard.record(size, root)  # on disk before any signature of it is released
            body = format_checkpoint(self.settings.origin, size, root)
            name = self.settings.note_key_name
            lines = (
                sign_note(body, name, self.key),
                cosign_checkpoint(body, name, self.key, int(time.time())),
            )
            cached = (size, root, body, lines)
            self._signed = cached
        return size, root, cached[2], cached[3]

    def sign_checkpoint(self, size: int, root: bytes) -> tuple[str, str]:
        """``(body, centre signature line)`` of an earlier tree (*size*, *root*) — the same
        body a witness cosigned (the body is a function of origin, size and root)."""
        body = format_checkpoint(self.settings.origin, size, root)
        return body, sign_note(body, self.settings.note_key_name, self.key)

    async def signed_checkpoint(self) -> SignedCheckpoint:
        """:meth:`checkpoint_body_and_signature`."""
        return self.checkpoint_body_and_signature()

    async def signed_old_checkpoint(self, size: int, root: bytes) -> tuple[str, str]:
        """:meth:`sign_checkpoint`."""
        return self.sign_checkpoint(size, root)

    # ------------------------------------------------------------------ writer, limits
    async def submit(self, sub: Submission) -> Outcome:
        """Queue *sub* for the writer; resolve after its batch committed (or was refused)."""
        return await self.writer.submit(sub)

    async def submit_many(self, subs: list[Submission]) -> list[Outcome]:
        """Queue *subs* in order (they land in the same or consecutive group commits)."""
        return await self.writer.submit_many(subs)

    async def claim_read_nonce(self, partner: str, nonce: str, now: float) -> bool:
        """True: with one serving process its :attr:`read_nonces` is the whole truth."""
        return True

    async def take_feed(self, partner: str) -> bool:
        """Reserve a feed slot (:class:`~openbmd.exchange.limits.FeedSlots`)."""
        return self.feeds.take(partner)

    def give_feed(self, partner: str) -> None:
        """Release a feed slot."""
        self.feeds.give_back(partner)

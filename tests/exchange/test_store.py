"""The store and the group-commit writer, on both backends."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from tests.exchange.conftest import BASE, message, setup_db

from openbmd.exchange import merkle
from openbmd.exchange.centre import Centre
from openbmd.exchange.domain import Submission
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import canonical_json
from openbmd.exchange.store import Store


def _sub(msg: dict[str, Any]) -> Submission:
    c = canonical_json(msg)
    return Submission(
        msg,
        c,
        hashlib.sha256(c).digest(),
        b"\0" * 64,
        msg["sender"],
        msg["message_id"],
        msg["seq"],
        msg["nonce"],
        msg["type"],
        "2030-01-01T00:00:00Z",
    )


def test_migrations_are_idempotent(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    store.migrate()
    assert store.tree_size() == 0
    key1 = store.centre_key(Settings(database_url=db_url).key_path)
    assert (
        store.centre_key(Settings(database_url=db_url).key_path).public_key().public_bytes_raw()
        == key1.public_key().public_bytes_raw()
    )
    store.close()


def test_group_commit_batches_and_log_is_consistent(db_url: str) -> None:
    setup_db(db_url)
    n = 300

    async def run() -> tuple[list[Any], int, Centre]:
        centre = Centre(Settings(database_url=db_url))
        calls = 0
        original = centre.store.commit_batch

        def counting(*args: Any) -> None:
            nonlocal calls
            calls += 1
            original(*args)

        centre.store.commit_batch = counting  # type: ignore[method-assign]
        await centre.start()
        msgs = [message("free_text") for _ in range(n)]
        dup = dict(msgs[5])
        outcomes = await asyncio.gather(*(centre.submit(_sub(m)) for m in [*msgs, dup]))
        await centre.stop()
        return outcomes, calls, centre

    outcomes, calls, centre = asyncio.run(run())
    indices = [o.index for o in outcomes[:n]]
    assert sorted(indices) == list(range(BASE, BASE + n)) and all(o.created for o in outcomes[:n])
    assert outcomes[n].index == outcomes[5].index and not outcomes[n].created
    assert calls < n / 10, f"{calls} transactions for {n} messages: no group commit"
    store = Store(db_url)
    n += BASE
    leaves = [merkle.leaf_hash(leaf) for _, leaf in store.entries(0, n)]
    assert store.tree_size() == n
    assert merkle.root_hash(n, store) == merkle.root_from_leaves(leaves) == centre.root
    for i in (0, 7, n - 1):
        proof = merkle.inclusion_proof(i, n, store)
        assert merkle.verify_inclusion(leaves[i], i, n, proof, centre.root)
    store.close()


def test_failed_commit_acknowledges_nobody(db_url: str) -> None:
    setup_db(db_url)

    async def run() -> list[Any]:
        centre = Centre(Settings(database_url=db_url))
        await centre.start()

        def boom(*args: Any) -> None:
            raise RuntimeError("disk full")

        centre.store.commit_batch = boom  # type: ignore[method-assign]
        outcomes = await asyncio.gather(*(centre.submit(_sub(message())) for _ in range(3)))
        await centre.stop()
        return outcomes

    outcomes = asyncio.run(run())
    assert all(o.index is None and o.problem and o.problem[0] == "unavailable" for o in outcomes)
    store = Store(db_url)
    assert store.tree_size() == BASE  # only the key and agreement entries of the set-up
    store.close()


def test_partner_keys(db_url: str) -> None:
    from openbmd.errors import InputError
    from openbmd.exchange.signing import generate_keypair, public_key_pem

    store = Store(db_url)
    store.migrate()
    key, _ = generate_keypair()
    store.add_partner("x", public_key_pem(key))
    store.add_partner("x", public_key_pem(key))  # same key: no-op
    other, _ = generate_keypair()
    with pytest.raises(InputError, match="another key"):
        store.add_partner("x", public_key_pem(other))
    with pytest.raises(InputError, match="already registered"):
        store.add_partner("y", public_key_pem(key))
    store.close()

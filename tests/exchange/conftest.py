"""Fixtures of the exchange service tests: both database backends, partners, signed requests."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():  # starlette warns that it prefers httpx2 (not installed)
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from openbmd.cli.exchange_examples import example_agreement, example_payload
from openbmd.exchange.app import create_app
from openbmd.exchange.auth import sign_request
from openbmd.exchange.domain import Agreement, Rule
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import (
    Ed25519PrivateKey,
    canonical_json,
    private_key_from_seed,
    public_key_pem,
    sign,
)
from openbmd.exchange.statements import sign_projections
from openbmd.exchange.store import Store

PG_ENV = "OPENBMD_TEST_POSTGRES_URL"
NAMES = ("alpha", "bravo", "charlie")
KEYS: dict[str, Ed25519PrivateKey] = {
    n: private_key_from_seed(bytes([i + 1]) * 32) for i, n in enumerate(NAMES)
}


@pytest.fixture(scope="session", autouse=True)
def _state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Centre key files of server databases go to a temporary state directory, not ~."""
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old


@contextlib.contextmanager
def new_database(backend: str, tmp_path: Any, stem: str = "exchange") -> Iterator[str]:
    """The URL of a fresh empty database: a SQLite file in *tmp_path*, or a new PostgreSQL
    database on the server of ``$OPENBMD_TEST_POSTGRES_URL`` (dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / (stem + '.db')}"
        return
    base = os.environ[PG_ENV]
    name = f"openbmd_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh empty database: a SQLite file, or a new PostgreSQL database (dropped after)."""
    if request.param == "postgres" and not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    with new_database(request.param, tmp_path) as url:
        yield url


def default_agreements() -> list[Agreement]:
    """The quickstart agreements and alpha → charlie at L0."""
    agreements = [Agreement.from_dict(a) for a in example_agreement()["agreements"]]
    agreements.append(
        Agreement("alpha-to-charlie", "alpha", (Rule("charlie", frozenset({"*"}), "L0"),))
    )
    return agreements


BASE = len(NAMES) + len(default_agreements())
"""Log entries :func:`setup_db` writes by default (one per key and per agreement, 12.6): the
first message of a test lands at this index."""


def setup_db(url: str, agreements: list[Agreement] | None = None) -> None:
    """Register alpha, bravo, charlie and the agreements (default: the quickstart ones); each
    registration and agreement is a log entry of its own."""
    store = Store(url)
    store.migrate()
    for n in NAMES:
        store.add_partner(n, public_key_pem(KEYS[n]))
    if agreements is None:
        agreements = default_agreements()
    for a in agreements:  # signed by the granting partner (issue 12.6)
        store.put_agreement(a, sign(KEYS[a.sender], canonical_json(a.to_dict())))
    store.close()


@pytest.fixture
def make_client(db_url: str) -> Iterator[Callable[..., TestClient]]:
    """Factory of started TestClients on the test database (closed at the end)."""
    setup_db(db_url)
    opened: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        client = TestClient(create_app(Settings(database_url=db_url, **settings)))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A started TestClient."""
    return make_client()


class Seq:
    """Per-sender sequence numbers for tests."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def next(self, sender: str) -> int:
        self.last[sender] = self.last.get(sender, 0) + 1
        return self.last[sender]


SEQ = Seq()


def now_iso(offset_s: float = 0.0) -> str:
    t = datetime.now(UTC) + timedelta(seconds=offset_s)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message(
    msg_type: str = "free_text", sender: str = "alpha", recipient: str = "bravo", **fields: Any
) -> dict[str, Any]:
    """A complete valid message (envelope filled)."""
    agreement = f"{sender}-to-{recipient}"
    m = example_payload(msg_type, sender, recipient, agreement)
    m.update(
        message_id=str(uuid.uuid4()),
        sent_at=now_iso(),
        nonce=secrets.token_urlsafe(16),
        seq=SEQ.next(sender),
    )
    m.update(fields)
    return m


def body(msg: dict[str, Any], key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    """The POST body: the message and the sender's signature."""
    key = key or KEYS[msg["sender"]]
    sig = sign(key, canonical_json(msg))
    doc = {"message": msg, "signature": base64.b64encode(sig).decode()}
    try:  # and over its projections, as ``openbmd exchange submit`` does (12.6)
        doc["projection"] = sign_projections(key, msg)
    except (KeyError, TypeError, ValueError):  # a malformed message: the centre says why
        pass
    return doc


def post(
    client: TestClient,
    msg: dict[str, Any],
    key: Ed25519PrivateKey | None = None,
    partner: str | None = None,
) -> Any:
    """Sign and submit *msg*."""
    return client.post(
        "/v1/messages", json=body(msg, key), headers={"X-OpenBMD-Partner": partner or msg["sender"]}
    )


def signed_get(client: TestClient, partner: str, path: str, **params: Any) -> Any:
    """A signed GET by *partner*."""
    headers = sign_request(KEYS[partner], partner, "GET", path, params)
    return client.get(path, params=params, headers=headers)


def problem_slug(resp: Any) -> str:
    """The slug of a problem+json answer."""
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.text
    doc = resp.json()
    assert doc["status"] == resp.status_code
    return str(doc["type"]).rsplit("/", 1)[-1]

"""Issue 12.4: a split view is detected — by a witness quorum and by gossip.

The attack: the operator runs two centres with the **same** signing key and origin over two
databases, and shows bravo one tree and charlie another of the same size (then a longer one).
Each partner's own ``verify`` passes, because each tree is honestly signed. Detection:

* ``verify --witness-key … --quorum K`` verifies only a checkpoint K trusted witnesses cosigned;
  the witness saw one of the two trees, so the partner shown the other one fails;
* ``openbmd exchange gossip`` on the partners' state files finds two signed trees of one size
  (or, given the centre, a smaller tree that is not a prefix of a larger one).
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.exchange.conftest import BASE, KEYS, message, new_database, post, setup_db

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from openbmd.cli import main
from openbmd.exchange import verify as xv
from openbmd.exchange.app import create_app
from openbmd.exchange.gossip import compare_checkpoints, load_checkpoint_text
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import load_public_key, public_key_pem, write_keypair

URL = "http://testserver"


@pytest.fixture
def other_db_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on the same backend as *db_url*."""
    with new_database(db_url.split(":", 1)[0].split("+")[0], tmp_path, "fork") as url:
        yield url


def _centre(url: str, key_file: Path) -> TestClient:
    client = TestClient(create_app(Settings(database_url=url, key_file=str(key_file))))
    client.__enter__()
    return client


def test_a_split_view_is_detected(
    db_url: str, other_db_url: str, tmp_path: Path, capsys: Any
) -> None:
    setup_db(db_url)
    setup_db(other_db_url)
    real = _centre(db_url, tmp_path / "centre.key")
    shutil.copyfile(tmp_path / "centre.key", tmp_path / "fork.key")  # the same signing key
    fork = _centre(other_db_url, tmp_path / "fork.key")
    try:
        for client in (real, fork):
            assert post(client, message("free_text")).status_code == 201
        assert post(real, message("free_text", text="the real one")).status_code == 201
        assert post(fork, message("free_text", text="the forked one")).status_code == 201
        # witness alpha cosigns what it is shown: the real tree
        witness_key, witness_pub = write_keypair(tmp_path / "alpha", KEYS["alpha"])
        xv.run_witness(URL, witness_key, "alpha", tmp_path / "w.json", client=real)
        # each partner alone is satisfied: both trees are signed by the centre's key
        bravo, charlie = tmp_path / "bravo.json", tmp_path / "charlie.json"
        assert xv.verify_log(URL, bravo, client=real).ok
        assert xv.verify_log(URL, charlie, client=fork).ok
        # a witness quorum: charlie, shown the fork, fails; bravo passes
        witnesses = {"alpha": load_public_key(witness_pub)}
        quorum = {"witness_keys": witnesses, "quorum": 1}
        good = xv.verify_log(URL, tmp_path / "bq.json", client=real, **quorum)
        assert good.ok and good.cosigners == ["alpha"] and good.tree_size == BASE + 2, good.reason
        bad = xv.verify_log(URL, tmp_path / "cq.json", client=fork, **quorum)
        assert not bad.ok and "witness cosignatures" in str(bad.reason)
        # the fork cannot borrow the real tree's cosignature: it is not its tree
        cosig = real.get("/v1/log/checkpoint/cosigned").text
        body = cosig.split("\n\n")[0] + "\n\n" + cosig.strip().splitlines()[-1] + "\n"
        assert fork.post("/v1/log/cosignatures", content=body.encode()).status_code == 422
        # gossip: two signed trees of size 2
        key = load_public_key(public_key_pem(load_public_key(real.get("/v1/log/key").text)))
        sources = {str(p): load_checkpoint_text(p) for p in (bravo, charlie)}
        report = compare_checkpoints(sources, key)
        assert report.split and f"different trees of size {BASE + 2}" in report.problems[0]
        capsys.readouterr()
        assert main(["exchange", "gossip", str(bravo), str(charlie)]) == 1
        assert "SPLIT VIEW" in capsys.readouterr().out
        # different sizes: charlie's fork grows; the centre cannot prove bravo's tree a prefix
        assert post(fork, message("free_text")).status_code == 201
        assert xv.verify_log(URL, charlie, client=fork).ok
        sources = {str(p): load_checkpoint_text(p) for p in (bravo, charlie)}
        assert not compare_checkpoints(sources, key).split  # no proof asked: cannot tell
        report = compare_checkpoints(sources, key, url=URL, client=fork)
        assert report.split and "is not a prefix" in report.problems[0]
        # honest history: bravo's tree then the real centre's next one are consistent
        assert post(real, message("free_text")).status_code == 201
        later = tmp_path / "later.json"
        assert xv.verify_log(URL, later, client=real).ok
        sources = {str(p): load_checkpoint_text(p) for p in (bravo, later)}
        honest = compare_checkpoints(sources, key, url=URL, client=real)
        assert honest.ok and not honest.split, honest.problems
    finally:
        for client in (real, fork):
            client.__exit__(None, None, None)


def test_quorum_needs_enough_distinct_witnesses(make_client: Any, tmp_path: Path) -> None:
    client = make_client()
    assert post(client, message("free_text")).status_code == 201
    pubs = {}
    for name in ("alpha", "charlie"):
        key_file, pub = write_keypair(tmp_path / name, KEYS[name])
        pubs[name] = load_public_key(pub)
        xv.run_witness(URL, key_file, name, tmp_path / f"{name}.w.json", client=client)
    assert post(client, message("free_text")).status_code == 201  # the latest: uncosigned
    two = xv.verify_log(URL, witness_keys=pubs, quorum=2, client=client)
    assert two.ok and two.tree_size == BASE + 1 and sorted(two.cosigners) == ["alpha", "charlie"]
    only_one = {"alpha": pubs["alpha"], "bravo": load_public_key(public_key_pem(KEYS["bravo"]))}
    short = xv.verify_log(URL, witness_keys=only_one, quorum=2, client=client)
    assert not short.ok and "only 1 of the required 2" in str(short.reason)
    over = xv.verify_log(URL, witness_keys=pubs, quorum=3, client=client)
    assert not over.ok and "--quorum" in str(over.reason)
    assert client.get("/v1/log/checkpoint/cosigned", params={"min_cosigners": 3}).status_code == 404

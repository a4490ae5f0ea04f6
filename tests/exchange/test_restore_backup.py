"""Issue 12.8: after a restore from an older backup the centre refuses to start (one line)
instead of re-signing a shorter tree and reusing indices."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.exchange.conftest import BASE, message, post

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from openbmd.cli import main
from openbmd.errors import InputError
from openbmd.exchange.app import create_app
from openbmd.exchange.settings import Settings


def _restore_older(db_url: str, backup: Path | None, keep: int) -> None:
    """Put the database back to its first *keep* entries: the copied file (SQLite), or the
    same rows an older dump would hold (PostgreSQL)."""
    if backup is not None:
        live = Path(db_url.removeprefix("sqlite:///"))
        for extra in live.parent.glob(live.name + "-*"):
            extra.unlink()
        shutil.copyfile(backup, live)
        return
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        for table, col in (
            ("projections", "log_index"),
            ("entry_openings", "idx"),
            ("messages", "log_index"),
            ("log_leaves", "idx"),
        ):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE {col} >= :k"), {"k": keep})
        conn.execute(
            sa.text("DELETE FROM log_nodes WHERE (idx + 1) * power(2, level) > :k"), {"k": keep}
        )
    engine.dispose()


def test_a_restored_older_database_is_refused(
    make_client: Any, db_url: str, tmp_path: Path, capsys: Any
) -> None:
    client = make_client()
    for _ in range(3):
        assert post(client, message("free_text")).status_code == 201
    backup = None
    if db_url.startswith("sqlite"):
        client.__exit__(None, None, None)  # a clean copy: no open WAL
        backup = tmp_path / "backup.db"
        shutil.copyfile(db_url.removeprefix("sqlite:///"), backup)
        client = make_client()
    for _ in range(4):
        assert post(client, message("free_text")).status_code == 201
    assert client.get("/v1/log/checkpoint").text.splitlines()[1] == str(BASE + 7)  # signed
    client.__exit__(None, None, None)
    _restore_older(db_url, backup, keep=BASE + 3)
    with pytest.raises(InputError, match=rf"refusing to start.*{BASE + 3} log entries.*{BASE + 7}"):
        with TestClient(create_app(Settings(database_url=db_url))):
            pass
    code = main(["exchange", "serve", "--database-url", db_url, "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "refusing to start" in err and err.count("\n") == 1

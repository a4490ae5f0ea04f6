"""Issue 12.7: keys at rest. Database and key files are created mode 0600; the centre's signing
key lives outside the database (optionally encrypted with a passphrase); it can be rotated;
an old database that still holds the private key has it moved out on start."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from openbmd.cli import main
from openbmd.errors import InputError
from openbmd.exchange.keys import PASSPHRASE_ENV, load_centre_key
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import (
    key_fingerprint,
    load_public_key,
    private_key_from_seed,
    public_key_pem,
    verify,
)
from openbmd.exchange.store import Store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _private_key_text_in_db(url: str) -> list[str]:
    """Every text cell of every table that looks like a private key."""
    engine = sa.create_engine(url)
    found = []
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                found += [str(v) for v in row if isinstance(v, str) and "PRIVATE KEY" in v]
    engine.dispose()
    return found


def test_files_are_0600_and_the_database_holds_no_private_key(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    key_path = Settings(database_url=db_url).key_path
    key = store.centre_key(key_path)
    store.close()
    assert _mode(key_path) == 0o600
    if db_url.startswith("sqlite"):
        db_file = Path(db_url.removeprefix("sqlite:///"))
        assert _mode(db_file) == 0o600
        assert all(_mode(p) == 0o600 for p in db_file.parent.glob(db_file.name + "-*"))
    assert _private_key_text_in_db(db_url) == []
    assert load_centre_key(key_path).public_key().public_bytes_raw() == (
        key.public_key().public_bytes_raw()
    )


def test_a_legacy_private_key_is_moved_out_of_the_database(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    old = private_key_from_seed(b"\x07" * 32)
    pem = old.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO centre_key (id, private_key_pem, public_key_pem, created_at) "
                "VALUES (1, :k, :p, '2030-01-01T00:00:00Z')"
            ),
            {"k": pem, "p": public_key_pem(old)},
        )
    key_path = Settings(database_url=db_url).key_path
    key = store.centre_key(key_path)
    store.close()
    assert key_fingerprint(key) == key_fingerprint(old)
    assert _private_key_text_in_db(db_url) == []
    assert _mode(key_path) == 0o600


def test_passphrase_encrypts_the_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
    store = Store(url)
    store.migrate()
    key_path = tmp_path / "centre.key"
    store.centre_key(key_path)
    assert b"ENCRYPTED PRIVATE KEY" in key_path.read_bytes()
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(InputError, match=PASSPHRASE_ENV):
        store.centre_key(key_path)
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(InputError, match="cannot load the centre key"):
        store.centre_key(key_path)
    store.close()


def test_a_foreign_or_missing_key_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = Store(url)
    store.migrate()
    key_path = tmp_path / "centre.key"
    store.centre_key(key_path)
    key_path.rename(tmp_path / "elsewhere.key")
    with pytest.raises(InputError, match="missing"):
        store.centre_key(key_path)
    other = Store(f"sqlite:///{tmp_path / 'y.db'}")
    other.migrate()
    other.centre_key(key_path)  # a new key for the other database
    with pytest.raises(InputError, match="not the log key"):
        store.centre_key(key_path)
    store.close()
    other.close()


def test_rotate_key_command(tmp_path: Path, capsys: Any) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = Store(url)
    store.migrate()
    key_path = Settings(database_url=url).key_path
    old = store.centre_key(key_path)
    store.close()
    assert main(["exchange", "rotate-key", "--database-url", url]) == 0
    out = capsys.readouterr().out
    statement, signature = out.splitlines()[-2:]
    assert verify(old.public_key(), (statement + "\n").encode(), base64.b64decode(signature))
    store = Store(url)
    new = store.centre_key(key_path)
    store.close()
    assert key_fingerprint(new) != key_fingerprint(old)
    assert statement.endswith(key_fingerprint(new))
    assert _mode(key_path) == 0o600
    retired = list(tmp_path.glob("x.db.centre.key.retired-*"))
    assert len(retired) == 1 and _mode(retired[0]) == 0o600
    assert key_fingerprint(load_public_key(public_key_pem(load_centre_key(retired[0])))) == (
        key_fingerprint(old)
    )

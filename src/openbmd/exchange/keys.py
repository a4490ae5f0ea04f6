"""The centre's signing key at rest: in its own 0600 file, never in the database.

Whoever can read the database must not be able to sign checkpoints, so the centre's Ed25519
key lives in a PKCS#8 PEM file created with mode 0600 (``O_EXCL``, then an atomic rename), by
default next to a SQLite database file (``<db>.centre.key``) or, for a server database, in the
state directory (``$XDG_STATE_HOME/openbmd/…``). When the environment variable
``OPENBMD_CENTRE_KEY_PASSPHRASE`` is set the file is encrypted with it
(``BestAvailableEncryption``). The database keeps only the public key, against which the file
is checked at every start. A database from before this rule has its private key moved out into
the file (and erased from the database) on first start. :func:`rotate_centre_key` replaces the
key: the old file is kept as ``<file>.retired-<fingerprint>`` and the rotation statement is
signed by the old key, so partners who pinned it can follow.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from openbmd.errors import InputError
from openbmd.exchange.signing import (
    Ed25519PrivateKey,
    generate_keypair,
    key_fingerprint,
    load_private_key,
    public_key_pem,
    sign,
)

__all__ = [
    "PASSPHRASE_ENV",
    "default_key_file",
    "load_centre_key",
    "open_centre_key",
    "rotate_centre_key",
    "write_centre_key",
]

PASSPHRASE_ENV = "OPENBMD_CENTRE_KEY_PASSPHRASE"


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def default_key_file(database_url: str) -> Path:
    """Where the centre key of *database_url* lives unless configured.

    Parameters
    ----------
    database_url : str
        The centre's database.

    Returns
    -------
    Path
        ``<db file>.centre.key`` for a SQLite file, else a file in the state directory named
        after the server, port and database.
    """
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).with_name(Path(str(url.database)).name + ".centre.key")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    name = f"{url.get_backend_name()}-{url.host or 'local'}-{url.port or ''}-{url.database}"
    return Path(state) / "openbmd" / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".centre.key")


def write_centre_key(path: Path, key: Ed25519PrivateKey, *, replace: bool = False) -> None:
    """Write *key* to *path* as PKCS#8 PEM, mode 0600 from creation, atomically.

    Parameters
    ----------
    path : Path
        The key file.
    key : Ed25519PrivateKey
        The key.
    replace : bool
        Allow an existing file to be replaced (rotation); otherwise refuse.
    """
    if path.exists() and not replace:
        raise InputError(f"{path}: already exists; refusing to overwrite the centre key")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = _passphrase()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_centre_key(path: Path) -> Ed25519PrivateKey:
    """Load the centre key file (decrypted with ``OPENBMD_CENTRE_KEY_PASSPHRASE`` if set)."""
    return load_private_key(
        path, _passphrase(), f"; cannot load the centre key: is {PASSPHRASE_ENV} right?"
    )


def open_centre_key(engine: sa.Engine, table: sa.Table, path: Path) -> Ed25519PrivateKey:
    """The centre key for the database: from *path*, created (or moved out of the database)
    on first start, and checked against the public key the database records.

    Parameters
    ----------
    engine : sa.Engine
        The centre's database.
    table : sa.Table
        Its ``centre_key`` table (``id``, ``private_key_pem``, ``public_key_pem``).
    path : Path
        The key file.

    Returns
    -------
    Ed25519PrivateKey
        The signing key.
    """
    with engine.begin() as conn:
        row = conn.execute(sa.select(table).where(table.c.id == 1)).first()
        legacy = row.private_key_pem if row is not None else None
        if legacy and not path.exists():
            old = serialization.load_pem_private_key(legacy.encode("ascii"), password=None)
            assert isinstance(old, Ed25519PrivateKey)
            write_centre_key(path, old)
        if not path.exists():
            if row is not None:
                raise InputError(
                    f"{path}: the centre key file is missing; this database's log key "
                    f"{row.public_key_pem.splitlines()[1][:16]}… cannot be used without it"
                )
            key, _ = generate_keypair()
            write_centre_key(path, key)
        key = load_centre_key(path)
        pem = public_key_pem(key)
        if row is None:
            conn.execute(
                table.insert().values(
                    id=1, public_key_pem=pem, private_key_pem=None, created_at=_now()
                )
            )
        elif row.public_key_pem != pem:
            raise InputError(f"{path}: this key is not the log key recorded in the database")
        elif legacy:
            conn.execute(table.update().where(table.c.id == 1).values(private_key_pem=None))
    return key


def rotate_centre_key(engine: sa.Engine, table: sa.Table, path: Path) -> tuple[str, str, str]:
    """Replace the centre key (the centre must be stopped).

    Returns
    -------
    tuple[str, str, str]
        ``(old fingerprint, new fingerprint, statement)`` where *statement* is
        ``"openbmd centre key rotation <old> -> <new>\\n"`` followed by its base64 Ed25519
        signature under the old key.
    """
    import base64

    old = open_centre_key(engine, table, path)
    new, _ = generate_keypair()
    old_fp, new_fp = key_fingerprint(old.public_key()), key_fingerprint(new.public_key())
    statement = f"openbmd centre key rotation {old_fp} -> {new_fp}\n"
    signature = base64.b64encode(sign(old, statement.encode("ascii"))).decode("ascii")
    retired = path.with_name(f"{path.name}.retired-{old_fp[:16]}")
    write_centre_key(retired, old)
    with engine.begin() as conn:
        conn.execute(
            table.update().where(table.c.id == 1).values(public_key_pem=public_key_pem(new))
        )
        write_centre_key(path, new, replace=True)
    return old_fp, new_fp, statement + signature + "\n"

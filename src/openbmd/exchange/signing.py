"""Ed25519 keys and signatures over RFC 8785 canonical JSON.

Every partner message is signed as ``sign(key, canonical_json(message))`` where *message* is the
envelope plus body **without** its ``signature`` field. Keys live in PEM files:
``NAME.key`` (PKCS#8, unencrypted, file mode 0600) and ``NAME.pub`` (SubjectPublicKeyInfo).

Errors a user can cause (a missing, unreadable or malformed key file, an existing file that would
be overwritten) raise :class:`openbmd.errors.InputError` with a one-line message naming the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openbmd.errors import InputError

__all__ = [
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "canonical_json",
    "canonical_json_reference",
    "generate_keypair",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "next_sequence",
    "private_key_from_seed",
    "public_key_from_raw",
    "public_key_pem",
    "raw_public_key",
    "sign",
    "verify",
    "write_keypair",
]


_dumps = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode
_EXACT = 2**53


class _Fallback(Exception):
    """A value the C ``json`` encoder might print differently from RFC 8785."""


def _float(x: float) -> float | int:
    """A float as JCS prints it through ``json``: integral ones below 2^53 as ints (JCS prints
    ``1.0`` as ``1``); others only where Python's shortest round-trip ``repr`` has no exponent
    (1e-4 ≤ |x| < 1e16), where it equals ECMAScript's ``Number.prototype.toString``."""
    if x.is_integer():
        if -_EXACT < x < _EXACT:
            return int(x)
        raise _Fallback
    if 1e-4 <= abs(x) < 1e16:
        return x
    raise _Fallback  # exponent notation, NaN, infinities: the reference decides


def _plain(obj: Any) -> Any:
    """*obj* made JCS-exact for the C ``json`` encoder (see :func:`_float`); integers at or beyond
    2^53, non-ASCII or non-string keys and non-JSON types raise :class:`_Fallback`."""
    t = type(obj)
    if t is dict:
        out = {}
        for k, v in obj.items():
            if type(k) is not str or not k.isascii():
                raise _Fallback  # JCS sorts by UTF-16 code units; leave rare keys to rfc8785
            tv = type(v)
            if tv is str or tv is bool or v is None:
                out[k] = v
            elif tv is float:
                out[k] = _float(v)
            else:
                out[k] = _plain(v)
        return out
    if t is list or t is tuple:
        return [_plain(v) for v in obj]
    if t is str or t is bool or obj is None:
        return obj
    if t is float:
        return _float(obj)
    if t is int:
        if -_EXACT < obj < _EXACT:
            return obj
        raise _Fallback
    raise _Fallback  # subclasses and other objects: the reference decides


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of a JSON value.

    Ordinary messages (ASCII keys, integers below 2^53, floats without an exponent) go through
    the C ``json`` encoder, which prints them exactly as JCS does; anything else goes to the
    reference implementation (the ``rfc8785`` package). A property test pins the two to the same
    bytes. Raises :class:`InputError` for values JSON cannot carry exactly (NaN, infinities,
    integers beyond ±2^53 that a float cannot represent, non-string keys, other objects).
    """
    try:
        return _dumps(_plain(obj)).encode("utf-8")
    except (_Fallback, ValueError, TypeError, RecursionError):
        pass
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"value cannot be canonicalised as RFC 8785 JSON: {exc}") from exc


def canonical_json_reference(obj: Any) -> bytes:
    """RFC 8785 bytes by the ``rfc8785`` package alone (what :func:`canonical_json` must equal)."""
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"value cannot be canonicalised as RFC 8785 JSON: {exc}") from exc


def generate_keypair() -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    """A fresh random Ed25519 key pair ``(private, public)``."""
    key = Ed25519PrivateKey.generate()
    return key, key.public_key()


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key of a 32-byte RFC 8032 seed (for deterministic tests)."""
    if len(seed) != 32:
        raise InputError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


_seq_lock = threading.Lock()
_last_seq = 0


def next_sequence(seq_file: Path | None) -> int:
    """Next envelope ``seq`` of a signer: ``max(last + 1, microseconds since 1970)``.

    *last* is read from *seq_file* (conventionally ``<key file>.seq``; locked with ``flock``
    and rewritten, so concurrent processes using one key stay strictly increasing) or, without
    a file, is the last number this process handed out. The clock term keeps numbers increasing
    even if the file is lost; values stay below 2^53 (exact in JSON) until the year 2255.
    """
    global _last_seq
    now_us = time.time_ns() // 1000
    if seq_file is None:
        with _seq_lock:
            _last_seq = max(_last_seq + 1, now_us)
            return _last_seq
    try:
        with open(seq_file, "a+", encoding="ascii") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            text = fh.read().strip()
            if text and not text.isdigit():
                raise InputError(f"{seq_file}: sequence file does not hold an integer")
            seq = max(int(text or 0) + 1, now_us)
            fh.seek(0)
            fh.truncate()
            fh.write(f"{seq}\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise InputError(f"{seq_file}: cannot update sequence file: {exc.strerror}") from None
    return seq


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """SubjectPublicKeyInfo PEM text of a public key (or of a private key's public half)."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def write_keypair(
    out_prefix: Path | str, key: Ed25519PrivateKey | None = None
) -> tuple[Path, Path]:
    """Write ``PREFIX.key`` (PKCS#8 PEM, mode 0600) and ``PREFIX.pub`` (SPKI PEM).

    A new key is generated unless *key* is given. Refuses (``InputError``) to overwrite either
    file; the private key file is created with ``O_EXCL`` and mode 0600 from the start, so it is
    never readable by others, not even briefly. Returns ``(key_path, pub_path)``.
    """
    prefix = Path(out_prefix)
    key_path = prefix.with_name(prefix.name + ".key")
    pub_path = prefix.with_name(prefix.name + ".pub")
    for path in (key_path, pub_path):
        if path.exists():
            raise InputError(f"{path}: already exists; refusing to overwrite a key file")
    if not key_path.parent.is_dir():
        raise InputError(f"{key_path.parent}: directory does not exist")
    if key is None:
        key, _ = generate_keypair()
    _write_new(key_path, _private_pem(key), 0o600)
    try:
        _write_new(pub_path, public_key_pem(key).encode("ascii"), 0o644)
    except BaseException:
        key_path.unlink(missing_ok=True)
        raise
    return key_path, pub_path


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise InputError(f"{path}: already exists; refusing to overwrite a key file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot create key file: {exc.strerror}") from None
    try:
        os.fchmod(fd, mode)  # the umask must not loosen or tighten what we asked for
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: key file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read key file: {exc.strerror}") from None


def load_private_key(
    path: Path | str, password: bytes | None = None, hint: str = ""
) -> Ed25519PrivateKey:
    """Load an Ed25519 PKCS#8 PEM private key file (``InputError`` if unusable), unencrypted
    or, with *password*, encrypted; *hint* ends the error message."""
    path = Path(path)
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError):
        raise InputError(
            f"{path}: not an {'encrypted' if password else 'unencrypted'} PEM private key "
            "(expected a PKCS#8 Ed25519 key as written by 'openbmd exchange keygen')" + hint
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: private key is {type(key).__name__}, expected Ed25519")
    return key


def load_public_key(path_or_pem: Path | str | bytes) -> Ed25519PublicKey:
    """Load an Ed25519 public key from a PEM file path, or from PEM text/bytes directly.

    A ``str`` containing ``-----BEGIN`` is taken as PEM text, any other ``str`` as a path.
    """
    label: str
    if isinstance(path_or_pem, bytes):
        data, label = path_or_pem, "public key PEM"
    elif isinstance(path_or_pem, str) and "-----BEGIN" in path_or_pem:
        data, label = path_or_pem.encode("utf-8"), "public key PEM"
    else:
        path = Path(path_or_pem)
        data, label = _read(path), str(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InputError(
            f"{label}: not a PEM public key (expected '-----BEGIN PUBLIC KEY-----' Ed25519)"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{label}: public key is {type(key).__name__}, expected Ed25519")
    return key


def raw_public_key(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """The 32-byte RFC 8032 encoding of a public key (or of a private key's public half)."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes (``InputError`` if malformed)."""
    if len(raw) != 32:
        raise InputError(f"an Ed25519 public key is 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_fingerprint(public_key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Lower-case hex SHA-256 of the 32-byte raw public key."""
    return hashlib.sha256(raw_public_key(public_key)).hexdigest()


def sign(private_key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The 64-byte Ed25519 (RFC 8032, pure) signature of *data*."""
    return private_key.sign(data)


def verify(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    """True iff *signature* is a valid Ed25519 signature of *data* under *public_key*."""
    if len(signature) != 64:
        return False
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True

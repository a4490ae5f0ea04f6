"""C2SP signed notes, transparency-log checkpoints and witness cosignatures, byte-exact.

Formats (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint,
https://c2sp.org/tlog-cosignature):

* **signed note** = text ending in ``\\n``, a blank line, then one or more signature lines
  ``— <key name> <base64(4-byte key ID ‖ signature)>\\n`` (the dash is U+2014 EM DASH). The
  signed *text* (here called the *body*) includes its final newline but not the blank line.
  Notes are UTF-8 without control characters other than ``\\n``; key names are non-empty and
  contain no Unicode space and no ``+``.
* **key ID** = ``SHA-256(name ‖ 0x0A ‖ type ‖ 32-byte Ed25519 public key)[:4]`` with type
  ``0x01`` for plain Ed25519 note signatures (the log's own) and ``0x04`` for timestamped
  witness cosignatures.
* **checkpoint body** = ``<origin>\\n<tree size, decimal, no leading zeros>\\n<base64 root>\\n``
  followed by optional non-empty extension lines, each ending in ``\\n``.
* **cosignature** (Ed25519, type 0x04): the signed message is
  ``"cosignature/v1\\ntime <T>\\n" + checkpoint body`` and the signature bytes are
  ``T as 8-byte big-endian ‖ 64-byte Ed25519 signature``; T is POSIX seconds (≤ 2^63 − 1).

Signature-line strings returned here end with ``\\n``; :func:`assemble_note` accepts lines with
or without it. Parsing errors raise :class:`NoteError` (an ``InputError``); verification
functions return booleans and never raise for a bad signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openbmd.errors import InputError
from openbmd.exchange.signing import raw_public_key, sign, verify

__all__ = [
    "EM_DASH",
    "SIG_TYPE_COSIGNATURE",
    "SIG_TYPE_ED25519",
    "Checkpoint",
    "NoteError",
    "NoteSignature",
    "assemble_note",
    "b64decode_strict",
    "cosign_checkpoint",
    "cosignature_message",
    "format_checkpoint",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "sign_note",
    "verify_cosignature",
    "verify_note_signature",
]

EM_DASH = "\u2014"
SIG_TYPE_ED25519 = 0x01
SIG_TYPE_COSIGNATURE = 0x04
MAX_SIGNATURES = 100
MAX_TIMESTAMP = 2**63 - 1
_SIG_PREFIX = EM_DASH + " "
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(InputError):
    """A signed note, checkpoint or signature line is malformed."""


@dataclass(frozen=True)
class Checkpoint:
    """The parsed body of a C2SP checkpoint."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The checkpoint body text (what the log signs)."""
        return format_checkpoint(self.origin, self.size, self.root_hash, self.extensions)


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line: key name, 4-byte key ID and the signature bytes after it.

    For a cosignature (type 0x04) *sig* is the 72-byte ``timestamp ‖ Ed25519 signature``.
    """

    name: str
    key_id: bytes
    sig: bytes

    def line(self) -> str:
        """The signature line text, ``\\n``-terminated."""
        blob = base64.b64encode(self.key_id + self.sig).decode("ascii")
        return f"{_SIG_PREFIX}{self.name} {blob}\n"


def b64decode_strict(text: str, what: str = "base64") -> bytes:
    """Decode standard padded base64 (RFC 4648 §4), rejecting any non-canonical form."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what}: {text[:60]!r} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what}: {text[:60]!r} is not canonical base64")
    return raw


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name) or _CONTROL.search(name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_id(name: str, sig_type: int, public_key: Ed25519PublicKey | bytes) -> bytes:
    """``SHA-256(name ‖ 0x0A ‖ sig_type ‖ raw public key)[:4]`` — the C2SP key ID."""
    raw = public_key if isinstance(public_key, bytes) else raw_public_key(public_key)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + raw).digest()[:4]


def _check_body(body: str) -> None:
    if not body.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(body):
        raise NoteError("note text must not contain control characters other than newline")


# --------------------------------------------------------------------------- checkpoints


def format_checkpoint(
    origin: str, size: int, root_hash: bytes, extensions: Sequence[str] = ()
) -> str:
    """Checkpoint body ``origin\\nsize\\nbase64(root)\\n[ext\\n…]`` (C2SP tlog-checkpoint)."""
    if not origin or "\n" in origin or _CONTROL.search(origin):
        raise NoteError(f"checkpoint origin {origin!r} must be one non-empty line")
    if size < 0:
        raise NoteError(f"checkpoint tree size must be ≥ 0, got {size}")
    if len(root_hash) != 32:
        raise NoteError(f"checkpoint root hash must be 32 bytes, got {len(root_hash)}")
    for ext in extensions:
        if not ext or "\n" in ext or _CONTROL.search(ext):
            raise NoteError(f"checkpoint extension line {ext!r} must be one non-empty line")
    lines = [origin, str(size), base64.b64encode(root_hash).decode("ascii"), *extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint body (the note text, without signatures); strict, raises NoteError."""
    _check_body(body)
    lines = body[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise NoteError("a checkpoint has at least three lines, none of them empty")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text):
        raise NoteError(f"checkpoint tree size {size_text!r} is not a decimal without leading 0")
    root = b64decode_strict(root_text, "checkpoint root hash")
    if len(root) != 32:
        raise NoteError(f"checkpoint root hash must be 32 bytes, got {len(root)}")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


# --------------------------------------------------------------------------- notes


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Ed25519 (type 0x01) signature line ``— name base64(keyID ‖ sig)\\n`` over *body*."""
    _check_body(body)
    _check_name(name)
    kid = key_id(name, SIG_TYPE_ED25519, private_key.public_key())
    return NoteSignature(name, kid, sign(private_key, body.encode("utf-8"))).line()


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosigner signs: ``cosignature/v1\\ntime T\\n`` + checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0 … 2^63-1")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign_checkpoint(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """Witness cosignature line (type 0x04) over a checkpoint *body* at POSIX *timestamp*.

    The body is parsed first, so only well-formed checkpoints are ever cosigned.
    """
    parse_checkpoint(body)
    _check_name(name)
    kid = key_id(name, SIG_TYPE_COSIGNATURE, private_key.public_key())
    sig = sign(private_key, cosignature_message(body, timestamp))
    return NoteSignature(name, kid, struct.pack(">Q", timestamp) + sig).line()


def assemble_note(body: str, signature_lines: Iterable[str]) -> str:
    """``body + "\\n" + signature lines`` — a complete signed note (at least one line)."""
    _check_body(body)
    lines = [line if line.endswith("\n") else line + "\n" for line in signature_lines]
    if not lines:
        raise NoteError("a signed note needs at least one signature line")
    for line in lines:
        _parse_sig_line(line[:-1])
    return body + "\n" + "".join(lines)


def _parse_sig_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError(f"signature line {line[:60]!r} does not start with '— '")
    parts = line[len(_SIG_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise NoteError(f"signature line {line[:60]!r} is not '— <name> <base64>'")
    name, blob_text = parts
    _check_name(name)
    blob = b64decode_strict(blob_text, f"signature of {name!r}")
    if len(blob) < 5:
        raise NoteError(f"signature of {name!r} is too short ({len(blob)} bytes)")
    return NoteSignature(name, blob[:4], blob[4:])


def parse_note(text: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its body (final newline included) and parsed signatures.

    The body ends at the **last** blank line. Raises :class:`NoteError` on any malformed
    structure, invalid UTF-8, control characters, or more than 100 signatures.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("signed note is not valid UTF-8") from None
    if _CONTROL.search(text):
        raise NoteError("signed note contains control characters other than newline")
    if not text.endswith("\n"):
        raise NoteError("signed note must end with a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("signed note has no blank line before its signatures")
    body, sig_text = text[: split + 1], text[split + 2 :]
    sig_lines = sig_text[:-1].split("\n") if sig_text else []
    if not sig_lines:
        raise NoteError("signed note has no signature lines")
    if len(sig_lines) > MAX_SIGNATURES:
        raise NoteError(f"signed note has more than {MAX_SIGNATURES} signatures")
    return body, [_parse_sig_line(line) for line in sig_lines]


def verify_note_signature(
    body: str, sig: NoteSignature, name: str, public_key: Ed25519PublicKey
) -> bool:
    """True iff *sig* is a valid type-0x01 Ed25519 signature of *body* by (*name*, key)."""
    if sig.name != name or sig.key_id != key_id(name, SIG_TYPE_ED25519, public_key):
        return False
    return verify(public_key, body.encode("utf-8"), sig.sig)


def verify_cosignature(
    body: str, sig: NoteSignature, name: str, public_key: Ed25519PublicKey
) -> tuple[bool, int | None]:
    """Check a type-0x04 cosignature of checkpoint *body*; return ``(ok, timestamp)``.

    *timestamp* is the POSIX time it claims (``None`` if the line is not even shaped like a
    cosignature by this key). The caller decides whether a future timestamp is acceptable.
    """
    if sig.name != name or sig.key_id != key_id(name, SIG_TYPE_COSIGNATURE, public_key):
        return False, None
    if len(sig.sig) != 8 + 64:
        return False, None
    (timestamp,) = struct.unpack(">Q", sig.sig[:8])
    if timestamp > MAX_TIMESTAMP:
        return False, timestamp
    ok = verify(public_key, cosignature_message(body, timestamp), sig.sig[8:])
    return ok, timestamp


def open_note(text: str | bytes, name: str, public_key: Ed25519PublicKey) -> str:
    """Parse a signed note and require a valid Ed25519 signature by (*name*, key); return body.

    Per C2SP signed-note: lines by unknown keys are ignored, but if a line matches the known
    key (same name and key ID) and fails to verify, the whole note is rejected.
    """
    body, sigs = parse_note(text)
    kid = key_id(name, SIG_TYPE_ED25519, public_key)
    known = [s for s in sigs if s.name == name and s.key_id == kid]
    if not known:
        raise NoteError(f"note carries no signature by key {name!r} ({kid.hex()})")
    for s in known:
        if not verify_note_signature(body, s, name, public_key):
            raise NoteError(f"signature by {name!r} on the note does not verify")
    return body


def open_checkpoint(
    text: str | bytes, public_key: Ed25519PublicKey
) -> tuple[str, Checkpoint, list[NoteSignature]]:
    """Parse a checkpoint note and require the log's signature; return (body, parsed, sigs).

    The log's key name should be the origin line; a signature under another name is used only
    if its key ID is that name's type-0x01 ID for *public_key* (then it must verify). Raises
    :class:`NoteError` if the note is malformed or not validly signed by the log.
    """
    body, sigs = parse_note(text)
    cp = parse_checkpoint(body)
    names = [s.name for s in sigs if s.key_id == key_id(s.name, SIG_TYPE_ED25519, public_key)]
    open_note(text, cp.origin if cp.origin in names or not names else names[0], public_key)
    return body, cp, sigs

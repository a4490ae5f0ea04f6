"""C2SP signed-note, tlog-checkpoint and tlog-cosignature, byte-exact.

External vectors:

* the Go reference implementation's test key and note (golang.org/x/mod/sumdb/note,
  ``note_test.go``): verifier key ``PeterNeumann+c74f20a3+ARpc2Q…`` (type byte 0x01 then the
  32-byte public key), signer key ``PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFA…`` (type byte then
  the 32-byte seed) and the published signature line. Ed25519 is deterministic, so our signer
  must reproduce it byte for byte, which also pins the key-ID derivation;
* the example checkpoint and witness cosignature of https://c2sp.org/tlog-cosignature, whose
  cosignature blob carries the timestamp 1679315147 shown in the spec's signed-message example.

The fixed-seed checkpoint note below is our own regression vector.
"""

from __future__ import annotations

import base64
import struct

import pytest

from openbmd.errors import InputError
from openbmd.exchange import merkle, note, signing
from openbmd.exchange.note import (
    Checkpoint,
    NoteError,
    NoteSignature,
    assemble_note,
    cosign_checkpoint,
    format_checkpoint,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_note,
    verify_cosignature,
    verify_note_signature,
)

GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_NOTE = (
    SPEC_BODY + "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2"
    "oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

ORIGIN = "openbmd.org/exchange/test"
LOG_KEY = signing.private_key_from_seed(bytes(range(32)))
WITNESS_KEY = signing.private_key_from_seed(bytes(range(32, 64)))
FIXED_ROOT = merkle.MemoryTree([merkle.leaf_hash(b"entry %d" % i) for i in range(5)]).root()
FIXED_BODY = "openbmd.org/exchange/test\n5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n"
FIXED_NOTE = (
    FIXED_BODY + "\n"
    "— openbmd.org/exchange/test F5jdr72XfYlRj+e40rqIi2a1zlDtbUo3txG0GXUuJoA7gmg4kHDQoDpnAjPN8bUf"
    "50fTr94UuaA7Xji/YamM8siUvw4=\n"
    "— witness.example/w1 IDJKvgAAAABlU/EAWI4vY5s+EZjcUHPc0U8igZsICCqHc5igNohksyc2yH2fDr0RoBdoybai"
    "t1U32/+XEdF2dg+GzVqjGD+7fMQnCg==\n"
)


def go_keys() -> tuple[signing.Ed25519PrivateKey, bytes]:
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])  # the key itself may contain "+"
    vk = base64.b64decode(GO_VKEY.split("+", 2)[2])
    assert seed[0] == vk[0] == note.SIG_TYPE_ED25519
    return signing.private_key_from_seed(seed[1:]), vk[1:]


def test_go_reference_note_byte_exact() -> None:
    key, raw_pub = go_keys()
    assert signing.raw_public_key(key) == raw_pub
    assert key_id("PeterNeumann", 0x01, raw_pub).hex() == "c74f20a3"
    assert sign_note(GO_TEXT, "PeterNeumann", key) == GO_SIG
    text = GO_TEXT + "\n" + GO_SIG
    assert assemble_note(GO_TEXT, [GO_SIG]) == text
    assert open_note(text, "PeterNeumann", key.public_key()) == GO_TEXT
    with pytest.raises(NoteError):
        open_note(text.replace("cryptography", "cryptographY"), "PeterNeumann", key.public_key())


def test_spec_example_checkpoint_and_cosignature_parse() -> None:
    body, sigs = parse_note(SPEC_NOTE)
    assert body == SPEC_BODY
    cp = parse_checkpoint(body)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.body() == SPEC_BODY
    assert [s.name for s in sigs] == ["example.com/behind-the-sofa", "witness.example.com/w1"]
    assert len(sigs[0].sig) == 64
    cosig = sigs[1]
    assert len(cosig.sig) == 8 + 64
    assert struct.unpack(">Q", cosig.sig[:8])[0] == 1679315147
    assert assemble_note(body, [s.line() for s in sigs]) == SPEC_NOTE


def test_fixed_seed_checkpoint_note_byte_exact() -> None:
    body = format_checkpoint(ORIGIN, 5, FIXED_ROOT)
    assert body == FIXED_BODY
    log_line = sign_note(body, ORIGIN, LOG_KEY)
    wit_line = cosign_checkpoint(body, "witness.example/w1", WITNESS_KEY, 1700000000)
    assert assemble_note(body, [log_line, wit_line]) == FIXED_NOTE
    assert FIXED_NOTE.encode("utf-8").count("—".encode()) == 2  # U+2014, e2 80 94
    assert b"\xe2\x80\x94 " in FIXED_NOTE.encode("utf-8")


def test_signed_messages_are_as_specified() -> None:
    assert note.cosignature_message(SPEC_BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + SPEC_BODY.encode()
    )
    body, sigs = parse_note(FIXED_NOTE)
    pub = LOG_KEY.public_key()
    assert signing.verify(pub, body.encode(), sigs[0].sig)
    wpub = WITNESS_KEY.public_key()
    msg = b"cosignature/v1\ntime 1700000000\n" + body.encode()
    assert sigs[1].sig[:8] == (1700000000).to_bytes(8, "big")
    assert signing.verify(wpub, msg, sigs[1].sig[8:])
    assert sigs[1].key_id == key_id("witness.example/w1", 0x04, wpub)
    assert sigs[0].key_id == key_id(ORIGIN, 0x01, pub)


def test_checkpoint_round_trip_with_extensions() -> None:
    root = bytes(range(32))
    body = format_checkpoint("log.example/a", 0, root, ("ext one", "Timestamp: 1"))
    assert body == f"log.example/a\n0\n{base64.b64encode(root).decode()}\next one\nTimestamp: 1\n"
    assert parse_checkpoint(body) == Checkpoint(
        "log.example/a", 0, root, ("ext one", "Timestamp: 1")
    )


@pytest.mark.parametrize(
    "body",
    [
        "o\n5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=",  # no final newline
        "o\n5\n",  # too few lines
        "o\n05\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n",  # leading zero
        "o\n-5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n",
        "o\n+5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n",
        "o\n 5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n",
        "o\n5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI\n",  # no padding
        "o\n5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nJ=\n",  # non-canonical
        "o\n5\nAAAA\n",  # not 32 bytes
        "o\n5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n\nx\n",  # empty extension
        "\n5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n",  # empty origin
        "o\t\n5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n",  # control character
    ],
)
def test_malformed_checkpoints_rejected(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)
    assert issubclass(NoteError, InputError)


def test_format_checkpoint_rejects_bad_fields() -> None:
    for args in [
        ("", 1, FIXED_ROOT),
        ("a\nb", 1, FIXED_ROOT),
        ("o", -1, FIXED_ROOT),
        ("o", 1, b"x"),
    ]:
        with pytest.raises(NoteError):
            format_checkpoint(*args)
    with pytest.raises(NoteError):
        format_checkpoint("o", 1, FIXED_ROOT, ("",))


@pytest.mark.parametrize(
    "text",
    [
        FIXED_BODY,  # no signatures at all
        FIXED_BODY + "\n",  # blank line but no signature lines
        FIXED_NOTE[:-1],  # missing final newline
        FIXED_NOTE.replace("— ", "-- ", 1),  # not an em dash
        FIXED_NOTE.replace("— openbmd.org/exchange/test ", "— openbmd.org/exchange/test  ", 1),
        FIXED_NOTE.replace("— witness.example/w1", "— witness+example/w1", 1),  # '+' in name
        FIXED_NOTE.replace("Cg==\n", "Cg=\n"),  # broken base64
        FIXED_BODY + "\n— name AAAA\n",  # shorter than key ID + 1 byte
        FIXED_NOTE.replace("\n5\n", "\n5\r\n"),  # control character
        FIXED_BODY + "\n" + "".join(f"— n{i} AAAAAAA=\n" for i in range(101)),  # too many
    ],
)
def test_malformed_notes_rejected(text: str) -> None:
    with pytest.raises(NoteError):
        parse_note(text)


def test_parse_note_splits_at_last_blank_line_and_rejects_bad_utf8() -> None:
    text = "a\n\nb\n\n— k AAAAAAA=\n"
    body, sigs = parse_note(text)
    assert body == "a\n\nb\n"
    assert sigs == [NoteSignature("k", b"\0\0\0\0", b"\0")]
    with pytest.raises(NoteError):
        parse_note(b"a\n\n\xff\n\n\xe2\x80\x94 k AAAAAAA=\n")


def test_note_signature_verification() -> None:
    body, sigs = parse_note(FIXED_NOTE)
    pub, wpub = LOG_KEY.public_key(), WITNESS_KEY.public_key()
    assert verify_note_signature(body, sigs[0], ORIGIN, pub)
    assert not verify_note_signature(body, sigs[0], ORIGIN, wpub)  # wrong key
    assert not verify_note_signature(body, sigs[0], "other.example", pub)  # wrong name
    assert not verify_note_signature(body.replace("5", "6", 1), sigs[0], ORIGIN, pub)
    bad = NoteSignature(sigs[0].name, sigs[0].key_id, bytes([sigs[0].sig[0] ^ 1]) + sigs[0].sig[1:])
    assert not verify_note_signature(body, bad, ORIGIN, pub)
    # a cosignature is never accepted as a plain note signature, nor the reverse
    assert not verify_note_signature(body, sigs[1], "witness.example/w1", wpub)
    assert verify_cosignature(body, sigs[0], ORIGIN, pub) == (False, None)


def test_cosignature_verification() -> None:
    body, sigs = parse_note(FIXED_NOTE)
    wpub = WITNESS_KEY.public_key()
    assert verify_cosignature(body, sigs[1], "witness.example/w1", wpub) == (True, 1700000000)
    assert not verify_cosignature(body, sigs[1], "witness.example/w2", wpub)[0]
    assert not verify_cosignature(body, sigs[1], "witness.example/w1", LOG_KEY.public_key())[0]
    other = format_checkpoint(ORIGIN, 6, FIXED_ROOT)
    assert not verify_cosignature(other, sigs[1], "witness.example/w1", wpub)[0]
    # changing the claimed timestamp breaks the signature
    moved = NoteSignature(
        sigs[1].name, sigs[1].key_id, struct.pack(">Q", 1700000001) + sigs[1].sig[8:]
    )
    assert verify_cosignature(body, moved, "witness.example/w1", wpub) == (False, 1700000001)
    short = NoteSignature(sigs[1].name, sigs[1].key_id, sigs[1].sig[:-1])
    assert verify_cosignature(body, short, "witness.example/w1", wpub) == (False, None)
    with pytest.raises(NoteError):
        cosign_checkpoint(body, "w", WITNESS_KEY, -1)
    with pytest.raises(NoteError):
        cosign_checkpoint("not a checkpoint\n", "w", WITNESS_KEY, 1)


def test_open_note_and_checkpoint() -> None:
    pub = LOG_KEY.public_key()
    assert open_note(FIXED_NOTE, ORIGIN, pub) == FIXED_BODY
    body, cp, sigs = open_checkpoint(FIXED_NOTE, pub)
    assert (body, cp.size, cp.root_hash, len(sigs)) == (FIXED_BODY, 5, FIXED_ROOT, 2)
    with pytest.raises(NoteError, match="no signature"):
        open_note(FIXED_NOTE, ORIGIN, WITNESS_KEY.public_key())  # unknown key: nothing to trust
    # a known key's bad signature rejects the whole note, even beside a good one
    _, sigs = parse_note(FIXED_NOTE)
    forged = NoteSignature(ORIGIN, sigs[0].key_id, bytes(64)).line()
    with pytest.raises(NoteError, match="does not verify"):
        open_note(assemble_note(FIXED_BODY, [sigs[0].line(), forged]), ORIGIN, pub)
    # a log whose key name is not its origin is still recognised by key ID
    renamed = assemble_note(FIXED_BODY, [sign_note(FIXED_BODY, "centre-key", LOG_KEY)])
    assert open_checkpoint(renamed, pub)[1] == cp
    with pytest.raises(NoteError):
        open_checkpoint(renamed.replace("\n5\n", "\n6\n"), pub)


def test_sign_note_preconditions() -> None:
    with pytest.raises(NoteError):
        sign_note("no newline", ORIGIN, LOG_KEY)
    for name in ["", "a b", "a+b", "a\u00a0b"]:
        with pytest.raises(NoteError):
            sign_note(FIXED_BODY, name, LOG_KEY)
    with pytest.raises(NoteError):
        assemble_note(FIXED_BODY, [])
    line = sign_note(FIXED_BODY, ORIGIN, LOG_KEY)
    assert assemble_note(FIXED_BODY, [line.rstrip("\n")]) == assemble_note(FIXED_BODY, [line])

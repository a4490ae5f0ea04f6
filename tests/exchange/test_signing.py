"""Ed25519 keys and signatures, RFC 8785 canonical JSON, key files.

Known answers: RFC 8785 §3.2.2 (the serialisation example), §3.2.3 (property sorting by UTF-16
code units) and Appendix B (number serialisation samples); RFC 8032 §7.1 test 1 (Ed25519 of the
empty message).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from openbmd.errors import InputError
from openbmd.exchange import signing
from openbmd.exchange.signing import (
    canonical_json,
    generate_keypair,
    key_fingerprint,
    load_private_key,
    load_public_key,
    public_key_pem,
    sign,
    verify,
    write_keypair,
)

RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUB = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIG = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
    "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_rfc8785_serialisation_example() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(json.loads(text)) == expected.encode("utf-8")


def test_rfc8785_sorts_by_utf16_code_units() -> None:
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = list(json.loads(canonical_json(obj)).values())
    assert order == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


@pytest.mark.parametrize(
    ("bits", "text"),
    [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ],
)
def test_rfc8785_numbers(bits: str, text: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonical_json(value) == text.encode()


def test_canonical_json_rejects_what_json_cannot_carry() -> None:
    for bad in [float("nan"), float("inf"), {1: "non-string key"}, object(), 2**60]:
        with pytest.raises(InputError, match="RFC 8785"):
            canonical_json(bad)


def test_rfc8032_vector() -> None:
    key = signing.private_key_from_seed(bytes.fromhex(RFC8032_SEED))
    assert signing.raw_public_key(key).hex() == RFC8032_PUB
    assert sign(key, b"").hex() == RFC8032_SIG
    pub = signing.public_key_from_raw(bytes.fromhex(RFC8032_PUB))
    assert verify(pub, b"", bytes.fromhex(RFC8032_SIG))
    assert key_fingerprint(pub) == hashlib.sha256(bytes.fromhex(RFC8032_PUB)).hexdigest()


def test_sign_and_verify() -> None:
    key, pub = generate_keypair()
    msg = canonical_json({"b": 1, "a": [1, 2]})
    sig = sign(key, msg)
    assert len(sig) == 64
    assert verify(pub, msg, sig)
    assert not verify(pub, msg + b" ", sig)
    assert not verify(pub, msg, bytes([sig[0] ^ 1]) + sig[1:])
    assert not verify(pub, msg, sig[:-1])
    assert not verify(generate_keypair()[1], msg, sig)


def test_write_keypair(tmp_path: Path) -> None:
    key_path, pub_path = write_keypair(tmp_path / "alpha")
    assert (key_path.name, pub_path.name) == ("alpha.key", "alpha.pub")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert pub_path.read_text().startswith("-----BEGIN PUBLIC KEY-----\n")
    key = load_private_key(key_path)
    pub = load_public_key(pub_path)
    assert key_fingerprint(key) == key_fingerprint(pub)
    assert load_public_key(pub_path.read_text()).public_bytes_raw() == pub.public_bytes_raw()
    assert load_public_key(pub_path.read_bytes()).public_bytes_raw() == pub.public_bytes_raw()
    assert load_public_key(str(pub_path)).public_bytes_raw() == pub.public_bytes_raw()
    assert public_key_pem(key) == pub_path.read_text()
    assert verify(pub, b"m", sign(key, b"m"))


def test_write_keypair_mode_ignores_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        key_path, _ = write_keypair(tmp_path / "loose")
    finally:
        os.umask(old)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_write_keypair_refuses_to_overwrite(tmp_path: Path) -> None:
    key_path, _ = write_keypair(tmp_path / "alpha")
    before = key_path.read_bytes()
    with pytest.raises(InputError, match=r"alpha\.key: already exists"):
        write_keypair(tmp_path / "alpha")
    assert key_path.read_bytes() == before
    key_path.unlink()
    with pytest.raises(InputError, match=r"alpha\.pub: already exists"):
        write_keypair(tmp_path / "alpha")
    assert not key_path.exists()
    with pytest.raises(InputError, match="does not exist"):
        write_keypair(tmp_path / "missing-dir" / "beta")


def _one_line_naming(exc: pytest.ExceptionInfo[InputError], path: Path) -> None:
    assert str(path) in str(exc.value)
    assert "\n" not in str(exc.value)


def test_bad_key_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.key"
    with pytest.raises(InputError, match="not found") as exc:
        load_private_key(missing)
    _one_line_naming(exc, missing)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("hello\n")
    for loader in (load_private_key, load_public_key):
        with pytest.raises(InputError) as exc:
            loader(garbage)
        _one_line_naming(exc, garbage)
    _, pub_path = write_keypair(tmp_path / "alpha")
    with pytest.raises(InputError) as exc:
        load_private_key(pub_path)  # a public key where a private one is needed
    _one_line_naming(exc, pub_path)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_path = tmp_path / "ec.key"
    ec_path.write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(InputError, match="expected Ed25519") as exc:
        load_private_key(ec_path)
    _one_line_naming(exc, ec_path)
    with pytest.raises(InputError, match="not a PEM public key"):
        load_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InputError):
        signing.public_key_from_raw(b"short")
    with pytest.raises(InputError):
        signing.private_key_from_seed(b"short")


def test_next_sequence(tmp_path: Path) -> None:
    seq_file = tmp_path / "alpha.key.seq"
    values = [signing.next_sequence(seq_file) for _ in range(5)]
    assert values == sorted(set(values))
    assert int(seq_file.read_text()) == values[-1]
    seq_file.write_text(f"{values[-1] + 10**9}\n")  # a far-ahead saved value still wins
    assert signing.next_sequence(seq_file) == values[-1] + 10**9 + 1
    in_process = [signing.next_sequence(None) for _ in range(100)]
    assert in_process == sorted(set(in_process))
    assert max(in_process) < 2**53
    seq_file.write_text("not a number\n")
    with pytest.raises(InputError, match="integer"):
        signing.next_sequence(seq_file)


_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0.1, -0.0, 1e-7, 1e-6, 1e-5, 1e15, 1e16, 1e20, 1e21, 123.456, 2.0**53])
    | st.text()
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(), inner, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "é", "\u20ac", "\U0001f600", "\ufb33"]), inner)
    ),
    max_leaves=25,
)


@hyp_settings(max_examples=600, deadline=None)
@given(_json_values)
def test_canonical_json_equals_rfc8785_package(value: object) -> None:
    """The fast path (C ``json``) and the fallback give exactly the reference's bytes."""
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value) == signing.canonical_json_reference(value)

"""CLI end to end: quickstart → serve (subprocess, loopback) → submit → inbox → verify → witness."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from openbmd.cli import main

CLI = [sys.executable, "-c", "import sys; from openbmd.cli import main; sys.exit(main())"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_quickstart_serve_submit_verify_witness(tmp_path: Path, capsys: Any) -> None:
    code, out, _ = _run(capsys, "exchange", "quickstart", str(tmp_path / "demo"), "--json")
    assert code == 0
    qs = json.loads(out)
    assert {p["name"] for p in qs["partners"]} == {"alpha", "bravo"}
    assert len(qs["examples"]) == 8  # one per message type
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as log_fh:
        server = subprocess.Popen(
            [*CLI, "exchange", "serve", "--database-url", qs["database_url"], "--port", str(port)],
            stdout=log_fh,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90  # a writer and two front processes, on a busy machine
        while True:
            try:
                httpx.get(f"{url}/v1/log/checkpoint", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        keys = {p["name"]: p["key_file"] for p in qs["partners"]}
        # the quickstart's key and agreement entries come first (12.6)
        base = int(httpx.get(f"{url}/v1/log/checkpoint").text.splitlines()[1])
        assert base == len(qs["partners"]) + 2
        for i, example in enumerate(sorted(qs["examples"])):
            sender = json.loads(Path(example).read_text())["sender"]
            code, out, err = _run(
                capsys,
                "exchange",
                "submit",
                "--url",
                url,
                "--partner",
                sender,
                "--key-file",
                keys[sender],
                example,
            )
            assert code == 0, err
            assert json.loads(out)["index"] == base + i
        code, out, err = _run(
            capsys,
            "exchange",
            "inbox",
            "--url",
            url,
            "--partner",
            "bravo",
            "--key-file",
            keys["bravo"],
            "--json",
        )
        assert code == 0, err
        assert len(json.loads(out)) == 8  # seven from alpha, its own acknowledgement
        inbox = tmp_path / "inbox.json"
        inbox.write_text(out, "utf-8")
        state = str(tmp_path / "verify.json")
        code, out, err = _run(capsys, "exchange", "verify", "--url", url, "--state", state)
        assert code == 0 and "log OK" in out, err
        bravo_key = qs["partners"][1]["key_file"]
        code, out, err = _run(
            capsys, "exchange", "witness", "--url", url, "--key-file", bravo_key, "--name", "bravo"
        )
        assert code == 0, err
        checkpoint = httpx.get(f"{url}/v1/log/checkpoint").text
        assert checkpoint.endswith(out) and "— bravo " in checkpoint
        code, out, err = _run(
            capsys, "exchange", "verify", "--url", url, "--state", state, "--json"
        )
        assert code == 0 and json.loads(out)["tree_size"] == base + 8
        # bravo: what it was sent, against the checkpoint its witness cosigned (12.4, 12.5)
        bravo_pub = str(Path(bravo_key).with_suffix(".pub"))
        partner_state = str(tmp_path / "bravo-verify.json")
        code, out, err = _run(
            capsys,
            *("exchange", "verify", "--url", url, "--state", partner_state),
            *("--partner", "bravo", "--key-file", bravo_key, "--received", str(inbox)),
            *("--witness-key", f"bravo={bravo_pub}", "--quorum", "1", "--max-age", "600"),
        )
        assert code == 0 and f"{base + 8} entries checked, 16 items of bravo" in out, out + err
        code, out, err = _run(capsys, "exchange", "gossip", state, partner_state, "--url", url)
        assert code == 0 and "gossip OK: 2 checkpoints" in out, out + err
        code, out, err = _run(capsys, "exchange", "audit", "--database-url", qs["database_url"])
        assert code == 0 and f"audit OK: {base + 8} entries" in out, out + err
        code, out, err = _run(capsys, "exchange", "verify", "--url", url, "--quorum", "1")
        assert code == 2 and "--quorum" in err and err.count("\n") == 1
        code, out, err = _run(capsys, "exchange", "verify", "--url", url, "--witness-key", "x")
        assert code == 2 and "--witness-key" in err
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_keygen_partner_agreement_and_bad_inputs(tmp_path: Path, capsys: Any) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    out_prefix = str(tmp_path / "kilo")
    assert _run(capsys, "exchange", "keygen", "--out", out_prefix)[0] == 0
    assert (tmp_path / "kilo.key").stat().st_mode & 0o777 == 0o600
    code, _, err = _run(capsys, "exchange", "keygen", "--out", out_prefix)
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    code, out, _ = _run(
        capsys,
        "exchange",
        "partner",
        "add",
        "kilo",
        "--public-key-file",
        str(tmp_path / "kilo.pub"),
        "--database-url",
        db,
        "--json",
    )
    assert code == 0 and json.loads(out)["name"] == "kilo"
    bad = [
        (
            "exchange",
            "partner",
            "add",
            "Kilo!",
            "--public-key-file",
            str(tmp_path / "kilo.pub"),
            "--database-url",
            db,
        ),
        (
            "exchange",
            "partner",
            "add",
            "lima",
            "--public-key-file",
            str(tmp_path / "none.pub"),
            "--database-url",
            db,
        ),
        (
            "exchange",
            "partner",
            "add",
            "lima",
            "--public-key-file",
            str(tmp_path / "kilo.key"),
            "--database-url",
            db,
        ),
        (
            "exchange",
            "partner",
            "add",
            "lima",
            "--public-key-file",
            str(tmp_path / "kilo.pub"),
            "--database-url",
            "mysql://x",
        ),
        ("exchange", "example", "nonsense"),
        (
            "exchange",
            "submit",
            "--url",
            "http://127.0.0.1:9",
            "--partner",
            "kilo",
            "--key-file",
            str(tmp_path / "kilo.key"),
            str(tmp_path / "missing.json"),
        ),
    ]
    for args in bad:
        code, _, err = _run(capsys, *args)
        assert code == 2 and err.startswith("openbmd: error:") and err.count("\n") == 1, args
    yml = tmp_path / "a.yaml"
    yml.write_text(
        "name: k\nsender: kilo\nrules:\n  - {recipient: kilo, types: ['*'], level: L9}\n"
    )
    code, _, err = _run(capsys, "exchange", "agreement", "add", str(yml), "--database-url", db)
    assert code == 2 and "level" in err
    yml.write_text(
        "name: k\nsender: kilo\nrules:\n  - {recipient: mike, types: ['*'], level: L1}\n"
    )
    code, _, err = _run(capsys, "exchange", "agreement", "add", str(yml), "--database-url", db)
    assert code == 2 and "mike" in err
    yml.write_text(
        "name: k\nsender: kilo\nrules:\n  - {recipient: kilo, types: [ack], level: L1}\n"
    )
    code, out, _ = _run(capsys, "exchange", "agreement", "add", str(yml), "--database-url", db)
    assert code == 0 and "k" in out


def test_example_is_valid_for_every_type(capsys: Any) -> None:
    from openbmd.exchange.schemas import MESSAGE_TYPES, MessageAdapter

    for t in MESSAGE_TYPES:
        code, out, _ = _run(capsys, "exchange", "example", t)
        payload = json.loads(out)
        payload.update(message_id="x1", sent_at="2030-01-01T00:00:00Z", nonce="n" * 16, seq=1)
        assert code == 0 and MessageAdapter.validate_python(payload).type == t

"""Issue 12.10: ``scripts/postgres-up`` starts a fresh private cluster on a free port every run,
never reuses a server it did not start, and ``scripts/postgres-down`` stops and removes it."""

from __future__ import annotations

import glob
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not glob.glob("/usr/lib/postgresql/*/bin/initdb"), reason="PostgreSQL not installed"
    ),
]


def _up(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres-up")],
        capture_output=True,
        text=True,
        env=os.environ | env,
        timeout=120,
    )


def _exports(out: str) -> dict[str, str]:
    return dict(re.findall(r"^export (\w+)=(\S+)$", out, re.MULTILINE))


def _down(exports: dict[str, str]) -> None:
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres-down")],
        env=os.environ | exports,
        check=True,
        timeout=60,
    )


def _port(url: str) -> int:
    found = re.search(r"@127\.0\.0\.1:(\d+)/", url)
    assert found
    return int(found.group(1))


def test_each_run_is_a_fresh_private_cluster_stopped_by_down() -> None:
    first, second = _up(), _up()
    a, b = _exports(first.stdout), _exports(second.stdout)
    try:
        assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
        assert a["OPENBMD_TEST_POSTGRES_DIR"] != b["OPENBMD_TEST_POSTGRES_DIR"]
        port = _port(a["OPENBMD_TEST_POSTGRES_URL"])
        assert port != _port(b["OPENBMD_TEST_POSTGRES_URL"])
        busy = _up(OPENBMD_PG_PORT=str(port))  # a server is listening there: refuse
        assert busy.returncode != 0 and "refusing to reuse" in busy.stderr
    finally:
        _down(a)
        _down(b)
    assert not Path(a["OPENBMD_TEST_POSTGRES_DIR"]).exists()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # the port is free again: the server stopped

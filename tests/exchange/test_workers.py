"""``serve --workers 2``: the limits and guarantees of one process hold across front processes.

Connections are spread over the fronts by the kernel, so each check opens fresh connections
and holds for any spread: a partner's feed cap counts feeds on every front, a signed read's
nonce is refused on every front once used, a feed on one front delivers what was submitted
through another, and a killed front gives its feed slots back.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.exchange.conftest import KEYS, body, message, setup_db
from tests.exchange.live import LiveServer
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from openbmd.exchange.auth import sign_request, signed_query

FEEDS = 4  # the default feeds_per_partner
pytestmark = pytest.mark.slow  # real servers of three processes each, like the crash suite


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    setup_db(db_url)
    with LiveServer(db_url, tmp_path / "serve.log", serve_args=("--workers", "2")) as live:
        yield live


def _feed(server: LiveServer, partner: str, after: int = -1) -> ClientConnection:
    q = signed_query(KEYS[partner], partner, "/v1/feed", {"after": after})
    query = urllib.parse.urlencode(q)
    return connect(f"ws://127.0.0.1:{server.port}/v1/feed?{query}", open_timeout=10)


def _refused(server: LiveServer, partner: str) -> bool:
    try:
        with _feed(server, partner) as ws:
            try:  # accepted by the handshake but closed at once also counts as refused
                ws.recv(timeout=0.5)
            except TimeoutError:
                return False
            except ConnectionClosed:
                return True
    except InvalidStatus:
        return True
    return False


def _post(server: LiveServer, msg: dict[str, Any]) -> httpx.Response:
    with httpx.Client() as http:  # a fresh connection: any front
        headers = {"X-OpenBMD-Partner": msg["sender"]}
        return http.post(f"{server.url}/v1/messages", json=body(msg), headers=headers)


def test_the_feed_cap_counts_the_feeds_of_every_front(server: LiveServer) -> None:
    assert len(server.fronts()) == 2
    with contextlib.ExitStack() as stack:
        feeds = [stack.enter_context(_feed(server, "bravo")) for _ in range(FEEDS)]
        assert _refused(server, "bravo")
        with _feed(server, "alpha"):  # another partner is not affected
            pass
        feeds[0].close()
        time.sleep(0.3)
        with _feed(server, "bravo"):  # the slot was given back
            pass


def test_a_killed_front_gives_its_feed_slots_back(server: LiveServer) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(FEEDS):
            stack.enter_context(_feed(server, "bravo"))
        for pid in server.fronts():
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
    deadline = time.monotonic() + 30
    while len(server.fronts()) != 2 or not _serving(server):
        assert time.monotonic() < deadline, "the fronts were not restarted"
        time.sleep(0.2)
    with contextlib.ExitStack() as stack:
        for _ in range(FEEDS):
            stack.enter_context(_feed(server, "bravo"))


def _serving(server: LiveServer) -> bool:
    try:
        return httpx.get(f"{server.url}/v1/log/checkpoint", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_read_nonce_is_refused_on_every_front_once_used(server: LiveServer) -> None:
    headers = sign_request(KEYS["bravo"], "bravo", "GET", "/v1/messages", {})
    codes = []
    for _ in range(6):
        with httpx.Client() as http:
            codes.append(http.get(f"{server.url}/v1/messages", headers=headers).status_code)
    assert codes == [200] + [409] * 5


def test_a_feed_delivers_what_another_front_accepted(server: LiveServer) -> None:
    with _feed(server, "bravo") as ws:
        sent = []
        for _ in range(6):
            msg = message("free_text", sender="alpha", recipient="bravo")
            r = _post(server, msg)
            assert r.status_code == 201, r.text
            sent.append((r.json()["index"], msg["message_id"]))
        got = [json.loads(ws.recv(timeout=10)) for _ in sent]
    assert [(g["index"], g["message_id"]) for g in got] == sent
    with httpx.Client() as http:  # every front knows the new size: proofs up to it
        size = int(http.get(f"{server.url}/v1/log/checkpoint").text.split("\n")[1])
        for _ in range(4):
            r = httpx.get(
                f"{server.url}/v1/log/proof/inclusion",
                params={"index": sent[-1][0], "tree_size": size},
            )
            assert r.status_code == 200, r.text

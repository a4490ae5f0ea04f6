"""Issue 12.1: a partner's paged view and feed are read from one snapshot — no silent gaps.

Senders commit concurrently while bravo (who both sends and receives) follows its view with a
WebSocket feed and an ``?after=`` poller. Every view statement is slowed down a little (an
engine hook, same for any implementation) so that commits land while a page is being read.
At the end both followers must equal the final full view: zero gaps, zero duplicates.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import sqlalchemy as sa
from tests.exchange.conftest import KEYS, message, post, signed_get

from openbmd.exchange.auth import signed_query

PER_SENDER = 40
PAGE = 50


def _slow_view_statements(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "after_cursor_execute")
    def _pause(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "projections" in statement:
            time.sleep(0.02)


def test_feed_and_poller_see_every_item_once_under_concurrent_commits(make_client: Any) -> None:
    client = make_client(page_max=PAGE)
    _slow_view_statements(client.app.state.centre.store.engine)
    failures: list[str] = []
    done = threading.Event()

    def send(sender: str, *recipients: str) -> None:  # one thread per sender: seq increases
        for k in range(PER_SENDER * len(recipients)):
            recipient = recipients[k % len(recipients)]
            r = post(client, message("free_text", sender=sender, recipient=recipient))
            if r.status_code != 201:
                failures.append(r.text)

    polled: list[int] = []

    def poll() -> None:
        after = -1
        while True:
            finished = done.is_set()
            page = signed_get(client, "bravo", "/v1/messages", after=after, limit=PAGE).json()
            polled.extend(i["index"] for i in page["items"])
            after = page["next_after"]
            if finished and not page["items"]:
                return

    fed: list[int] = []
    q = signed_query(KEYS["bravo"], "bravo", "/v1/feed", {"after": -1})
    qs = "&".join(f"{k}={v}" for k, v in q.items()).replace("+", "%2B")
    with client.websocket_connect(f"/v1/feed?{qs}") as ws:
        senders = [
            threading.Thread(target=send, args=("alpha", "bravo", "charlie")),
            threading.Thread(target=send, args=("bravo", "alpha")),
        ]
        poller = threading.Thread(target=poll)
        for t in [*senders, poller]:
            t.start()
        for t in senders:
            t.join()
        done.set()
        poller.join()
        full = [
            i["index"]
            for i in signed_get(client, "bravo", "/v1/messages", limit=1000).json()["items"]
        ]
        while len(fed) < len(full) and (not fed or fed[-1] < full[-1]):
            fed.append(ws.receive_json()["index"])
    assert failures == []
    assert len(full) == 2 * PER_SENDER
    assert polled == full, f"poller gaps {sorted(set(full) - set(polled))}"
    assert fed == full, f"feed gaps {sorted(set(full) - set(fed))}"

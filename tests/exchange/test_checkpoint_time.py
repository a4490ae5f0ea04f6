"""Issue 12.9: checkpoints carry a timestamp, and ``verify`` uses it.

The attack: the centre freezes a partner's view — it keeps serving an old (honestly signed)
checkpoint, so the partner never learns of newer entries, and ``verify`` passed forever. Now
each checkpoint carries the centre's timestamp line (a type-0x04 signature by its own key), and
``verify --max-age`` fails on a stale one; a future time, or a larger tree stamped before a
smaller saved one, fails always.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.exchange.conftest import BASE
from tests.exchange.test_client import (
    ORIGIN,
    URL,
    centre_key,
    fill,
    proxy,
    serve_checkpoint,
    true_root,
)

from openbmd.exchange import note
from openbmd.exchange import verify as xv


def stamped(db_url: str, size: int, root: bytes, ts: int) -> str:
    """A checkpoint of (*size*, *root*) signed by the centre's key and stamped *ts*."""
    key = centre_key(db_url)
    body = note.format_checkpoint(ORIGIN, size, root)
    lines = [note.sign_note(body, ORIGIN, key), note.cosign_checkpoint(body, ORIGIN, key, ts)]
    return note.assemble_note(body, lines)


def test_a_frozen_view_fails_max_age(make_client: Any, db_url: str, tmp_path: Path) -> None:
    tc = make_client()
    fill(tc, 3)
    fresh = xv.verify_log(URL, max_age_s=60, client=tc)
    assert fresh.ok and fresh.checkpoint_time is not None, fresh.reason
    assert abs(fresh.checkpoint_time - time.time()) < 60
    old = stamped(db_url, 3, true_root(tc, 3), int(time.time()) - 3600)
    with proxy(tc, serve_checkpoint(old)) as http:
        assert xv.verify_log(URL, client=http).ok  # without a bound it cannot be told
        frozen = xv.verify_log(URL, max_age_s=600, client=http)
    assert not frozen.ok and "s old (more than --max-age 600 s)" in str(frozen.reason)
    future = stamped(db_url, 3, true_root(tc, 3), int(time.time()) + 3600)
    with proxy(tc, serve_checkpoint(future)) as http:
        ahead = xv.verify_log(URL, client=http)
    assert not ahead.ok and "in the future" in str(ahead.reason)


def test_time_cannot_go_back_for_a_larger_tree(
    make_client: Any, db_url: str, tmp_path: Path
) -> None:
    tc = make_client()
    fill(tc, 2)
    state = tmp_path / "v.json"
    assert xv.verify_log(URL, state, client=tc).ok
    fill(tc, 2)
    earlier = stamped(db_url, BASE + 4, true_root(tc, BASE + 4), int(time.time()) - 3600)
    with proxy(tc, serve_checkpoint(earlier)) as http:
        back = xv.verify_log(URL, state, client=http)
    assert not back.ok and "stamped" in str(back.reason)
    assert xv.verify_log(URL, state, client=tc).ok  # the honest one is stamped now

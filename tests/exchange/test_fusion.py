"""Fusion in the centre (issue 13.2): two partners' radars, one joint track, one notification.

Truth is a synthetic ballistic threat (tests/exchange/fusion_truth.py). Signed reports of both
partners go through the API one scan at a time; the centre's fusion task must log a signed
``fused_launch_notification`` naming the reports it came from, whose impact ellipse holds the
true impact point, shared per the senders' agreements.
"""

from __future__ import annotations

import base64
import math
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient
from tests.exchange import fusion_truth as ft
from tests.exchange.conftest import KEYS, SEQ, now_iso, post, setup_db, signed_get

from openbmd.analysis.exercise import inside_ellipse, iso
from openbmd.exchange.app import create_app
from openbmd.exchange.domain import Agreement, Rule
from openbmd.exchange.fusion import NOTIFICATION_TYPE, JointTracker, recipient_levels, seconds
from openbmd.exchange.settings import Settings
from openbmd.exchange.signing import canonical_json, load_public_key, verify
from openbmd.exchange.verify import read_inbox, verify_log

RADAR = frozenset({"radar_report"})
AGREEMENTS = [
    # alpha: bravo only the fused result (exactly), charlie 1° areas
    Agreement(
        "alpha-radar", "alpha", (Rule("bravo", RADAR, "fused-only"), Rule("charlie", RADAR, "L1"))
    ),
    # bravo: alpha its plots, charlie 1° areas
    Agreement("bravo-radar", "bravo", (Rule("alpha", RADAR, "L3"), Rule("charlie", RADAR, "L1"))),
]
KEY_PATH = "/v1/log/key"
RECIPIENTS = {"alpha": ["bravo", "charlie"], "bravo": ["alpha", "charlie"]}


def _report(sender: str, plot: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": str(uuid.uuid4()),
        "sender": sender,
        "sent_at": now_iso(),
        "seq": SEQ.next(sender),
        "nonce": secrets.token_urlsafe(16),
        "type": "radar_report",
        "status": "Exercise",
        "msg_type": "Alert",
        "references": [],
        "agreement": f"{sender}-radar",
        "recipients": RECIPIENTS[sender],
        "plots": [plot],
    }


def _scans(threat: ft.Threat) -> list[tuple[str, dict[str, Any]]]:
    """Both partners' plots in time order (alpha before bravo at equal times)."""
    both = [("alpha", p) for p in ft.plots("alpha", threat, 11)]
    both += [("bravo", p) for p in ft.plots("bravo", threat, 12)]
    return sorted(both, key=lambda sp: (sp[1]["time"], sp[0]))


def _wait_for(client: TestClient, partner: str, timeout_s: float = 90.0) -> list[dict[str, Any]]:
    """*partner*'s view once it holds a fused notification (the task runs in the background)."""
    deadline = time.monotonic() + timeout_s
    while True:
        items = signed_get(client, partner, "/v1/messages", limit=1000).json()["items"]
        if any(i["type"] == NOTIFICATION_TYPE for i in items) or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def _rms_error(which: list[tuple[str, dict[str, Any]]], threat: ft.Threat) -> float:
    """RMS position error [m] of the one track of *which* after each scan, from 120 s after
    launch (past initiation) to the last plot: the error over the track's life, not at one
    noisy instant."""
    joint = JointTracker()
    errors = []
    for i, (sender, plot) in enumerate(which):
        joint.add([(i, {"sender": sender, "plots": [plot]})])
        b = joint.tracker.tracks
        if seconds(plot["time"]) - ft.T0 < 120.0:
            continue
        assert len(b) == 1
        k = int(np.argmin(np.abs(threat.t - b.t[0])))
        assert abs(threat.t[k] - b.t[0]) < 1e-6
        errors.append(float(np.linalg.norm(b.x[0, :3] - threat.x[k, :3])))
    return math.sqrt(float(np.mean(np.square(errors))))


def test_fused_track_is_no_worse_than_the_best_single_partner() -> None:
    threat = ft.threat()
    scans = _scans(threat)
    fused = _rms_error(scans, threat)
    single = [_rms_error([s for s in scans if s[0] == p], threat) for p in RECIPIENTS]
    assert fused <= min(single), (fused, single)


def test_levels_need_every_contributing_senders_consent() -> None:
    agreements = {a.name: a for a in AGREEMENTS}
    a = _report("alpha", {})
    b = _report("bravo", {})
    assert recipient_levels({1: a, 2: b}, agreements) == {
        "alpha": "L3",
        "bravo": "L3",
        "charlie": "L1",
    }
    b["recipients"] = ["alpha"]  # bravo's report is not for charlie: the fusion is not either
    assert recipient_levels({1: a, 2: b}, agreements) == {"alpha": "L3", "bravo": "L3"}
    assert recipient_levels({1: a}, agreements) == {"alpha": "L3", "bravo": "L3", "charlie": "L1"}


@pytest.mark.slow
def test_two_partners_radars_make_one_signed_notification(db_url: str, tmp_path: Path) -> None:
    setup_db(db_url, AGREEMENTS)
    threat = ft.threat()
    scans = _scans(threat)
    logged: dict[int, str] = {}
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        for sender, plot in scans:
            r = post(client, _report(sender, plot))
            assert r.status_code == 201, r.text
            logged[r.json()["index"]] = sender
        views = {p: _wait_for(client, p) for p in ("alpha", "bravo", "charlie")}
        centre_pem = client.get(KEY_PATH).text
        url = str(client.base_url)
        inbox = {p: read_inbox(url, p, KEYS[p], client=client) for p in ("bravo", "charlie")}
        # every partner's independent check passes, the centre's entries included
        reports = {
            p: verify_log(url, tmp_path / p, partner=p, partner_key=KEYS[p], client=client)
            for p in ("alpha", "bravo", "charlie")
        }
    notes = {p: [i for i in v if i["type"] == NOTIFICATION_TYPE] for p, v in views.items()}
    assert all(len(n) == 1 for n in notes.values()), {p: len(n) for p, n in notes.items()}

    exact = notes["bravo"][0]  # bravo: fused-only from alpha, own reports → the exact track
    assert exact["level"] == "L3"
    m = exact["message"]
    assert m["sender"] == "@centre" and m["threat_class"] == "MRBM"
    assert set(m["report_indices"]) <= set(logged)
    assert {logged[i] for i in m["report_indices"]} == {"alpha", "bravo"}  # both radars
    assert inside_ellipse(m["impact_area"], threat.impact_lat, threat.impact_lon) <= 1.0
    launch = m["launch_area"]["center"]
    assert math.isclose(launch["lat_deg"], 40.0, abs_tol=0.5)
    assert math.isclose(launch["lon_deg"], 50.0, abs_tol=0.5)
    assert len(m["covariance"]) == 6 and len(m["position_ecef_m"]) == 3
    assert notes["alpha"][0]["message"] == m  # alpha has bravo's plots at L3: also exact

    coarse = notes["charlie"][0]  # charlie: L1 from both senders
    assert coarse["level"] == "L1"
    c = coarse["message"]
    assert "covariance" not in c and "position_ecef_m" not in c and "range_km" not in c
    area = c["impact_area"]
    assert area["center"]["lat_deg"] == round(m["impact_area"]["center"]["lat_deg"])
    assert (
        area["semi_major_km"] % 111.0 == 0
        and area["semi_major_km"] >= m["impact_area"]["semi_major_km"]
    )
    assert c["report_indices"] == m["report_indices"]

    # bravo never sees alpha's raw plots; charlie sees no plots at all; alpha sees bravo's
    assert not [i for i in views["bravo"] if i["sender"] == "alpha"]
    assert all("plots" not in i["message"] for i in views["charlie"])
    assert any("plots" in i["message"] for i in views["alpha"] if i["sender"] == "bravo")

    # the centre signed its entry: the L3 item verifies under the centre's published key
    sig = base64.b64decode(exact["signature"])
    assert verify(load_public_key(centre_pem), canonical_json(m), sig)
    for p, items in inbox.items():
        note = [i for i in items if i["type"] == NOTIFICATION_TYPE]
        assert [i["entry_ok"] for i in note] == [True]
        assert [i["signature_ok"] for i in note] == [True if p == "bravo" else None]
    assert all(r.items_checked > 0 for r in reports.values()), reports


def _due(joint: JointTracker) -> list[tuple[int, str]]:
    """(track id, epoch of the fused state) of the notifications *joint* has due."""
    return [(tid, body["epoch"]) for tid, body, _ in joint.take_due()]


def test_a_notification_does_not_depend_on_how_the_log_is_batched() -> None:
    """The centre reads the log in batches of whatever was committed since its last step: a
    track ready inside a batch is notified from the scan it became ready at — even when it
    has been deleted by the batch's end (here: a later, unrelated scan after the coast time),
    which before this rule lost the notification of every short track read in one batch."""
    scans = _scans(ft.threat())
    sender, last = scans[-1]
    later = dict(last)  # another part of the sky, after the track has coasted out
    later["time"] = iso(seconds(last["time"]) + 3 * JointTracker.coast_s)
    later["azimuth_deg"] = (last["azimuth_deg"] + 90.0) % 360.0
    reports = [
        (i, {"sender": s, "plots": [p]}) for i, (s, p) in enumerate([*scans, (sender, later)])
    ]
    one_by_one = JointTracker()
    due_each: list[tuple[int, str]] = []
    for r in reports:
        one_by_one.add([r])
        due_each += _due(one_by_one)
    batched = JointTracker()
    batched.add(reports)
    assert batched.ready() == []  # the track is gone at the batch's end …
    assert _due(batched) == due_each and len(due_each) == 1  # … and was notified all the same

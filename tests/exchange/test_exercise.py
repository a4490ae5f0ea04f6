"""``openbmd exchange exercise`` on europe-2009 against a real ``openbmd exchange serve`` started
with no other configuration (issue 13.3 and its acceptance test).

The exercise enrols the joint-2009 partners (US, UK, Russia) over HTTP, posts their signed
agreements and replays their radars' plots at full speed; the test then reads each partner's
view itself, with the partner's own key, and checks it against the agreements.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.exchange.live import LiveServer

from openbmd.cli import main
from openbmd.cli.exchange_exercise import sharing_levels
from openbmd.exchange.client import fetch_view
from openbmd.exchange.fusion import NOTIFICATION_TYPE
from openbmd.exchange.signing import load_private_key

US, UK, RU = "us-t", "uk-t", "russia-t"


def _exercise(url: str, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "exercise.json"
    args = ["exchange", "exercise", "europe-2009", "--centre", url, "--speed", "0"]
    args += ["--tag", "t", "--work", str(tmp_path / "keys"), "--out", str(out)]
    assert main(args) == 0
    result: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return result


def test_sharing_levels_give_the_last_partner_less() -> None:
    assert sharing_levels(["us", "uk", "russia"]) == {
        "us": {"uk": "L3", "russia": "fused-only"},
        "uk": {"us": "L3", "russia": "L1"},
        "russia": {"us": "L3", "uk": "L3"},
    }
    assert sharing_levels(["us", "uk"]) == {"us": {"uk": "fused-only"}, "uk": {"us": "L3"}}


def test_exercise_on_europe_2009(db_url: str, tmp_path: Path) -> None:
    with LiveServer(db_url, tmp_path / "serve.log") as server:
        d = _exercise(server.url, tmp_path)
        keys = {p: load_private_key(tmp_path / "keys" / f"{p}.key") for p in (US, UK, RU)}
        views = {p: fetch_view(server.url, p, k) for p, k in keys.items()}
        assert server.proc is not None and server.proc.poll() is None, server.tail()
    assert d["architecture"] == "joint-2009"
    assert d["partners"] == {"us": US, "uk": UK, "russia": RU}
    assert d["sharing"][US][RU] == "fused-only" and d["sharing"][UK][RU] == "L1"
    threats = {t["threat"]: t for t in d["threats"]}
    assert len(threats) == 6
    for name, t in threats.items():
        assert t["seen_by"], name  # every threat class is seen by some partner's radar
        n = t["notification"]
        assert n is not None, name  # … and notified by the centre
        assert 0.0 < n["epoch_s"] < t["impact_s"] - t["launch_s"], (name, n)
        assert n["impact_inside"], (name, n)  # the 99 % ellipse holds the true impact
        b = t["best_single"]  # the acceptance test: fused no worse than the best partner
        assert b is not None and b["common_scans"] >= 20, (name, b)
        assert b["fused_common_m"] <= b["best_common_m"] * (1 + 1e-6), (name, b)
    assert d["unmatched_notifications"] == 0
    # several partners' radars make the fused track strictly better where they overlap
    better = [t for t in threats.values() if len(t["seen_by"]) > 1]
    assert better and all(
        t["best_single"]["fused_common_m"] < 0.95 * t["best_single"]["best_common_m"]
        for t in better
    ), better

    # each partner's own signed view matches its agreements
    def got(p: str, sender: str, kind: str) -> list[dict[str, Any]]:
        return [i for i in views[p] if i["sender"] == sender and i["type"] == kind]

    assert not got(RU, US, "radar_report")  # fused-only: none of US's reports
    from_uk = got(RU, UK, "radar_report")
    assert from_uk and {i["level"] for i in from_uk} == {"L1"}
    assert all("plots" not in i["message"] for i in from_uk)  # L1: no plots
    for p, sender in ((UK, US), (US, UK), (US, RU), (UK, RU)):
        items = got(p, sender, "radar_report")
        assert items and all(i["level"] == "L3" and i["message"]["plots"] for i in items), p
    for p in (US, UK, RU):
        assert got(p, "@centre", NOTIFICATION_TYPE), p
    coarse = {i["level"] for i in got(RU, "@centre", NOTIFICATION_TYPE)}
    assert "L1" in coarse  # fused over UK's reports: UK's L1 for Russia
    assert {i["level"] for i in got(US, "@centre", NOTIFICATION_TYPE)} == {"L3"}
    # what the exercise reported as received is what the views hold
    for p in (US, UK, RU):
        counts: dict[str, int] = {}
        for i in views[p]:
            if i["level"] != "own":
                key = f"{i['type']} {i['level']}"
                counts[key] = counts.get(key, 0) + 1
        assert d["received"][p] == counts, p


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--architecture", "no-such-thing"], "--architecture"),
        (["--speed", "-1"], "--speed"),
        (["--centre", "ftp://x"], "--centre"),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(
    extra: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["exchange", "exercise", "europe-2009", "--centre", "http://127.0.0.1:9", *extra]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{flag}:" in err, err

"""``openbmd architectures|architecture show`` and ``--architecture`` on the defence commands."""

from __future__ import annotations

import json

import pytest
from _helpers import RULE_KEYS

from openbmd.cli import main


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _block(d):
    a = d["architecture"]
    assert set(a["rules"]) == RULE_KEYS
    for b in a["batteries"]:
        assert {"site", "interceptor", "inventory", "decision_delay_s"} <= set(b)
    for s in a["sensors"]:
        assert {"name", "role", "owner", "total_latency_s"} <= set(s)
    return a


def test_architectures_json_lists_seven_with_sources(capsys):
    code, out, _ = _run(capsys, "architectures", "--json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 7
    assert all(r["source"] and r["era"] for r in rows)
    assert {r["name"] for r in rows} >= {"none", "third-site-2007", "epaa-phase-3"}
    code, out, _ = _run(capsys, "architectures")
    assert code == 0 and "third-site-2007" in out


def test_architecture_show(capsys):
    code, out, _ = _run(capsys, "architecture", "show", "epaa-phase-2", "--json")
    assert code == 0
    d = json.loads(out)
    assert [b["site"] for b in d["batteries"]] == ["Eastern Mediterranean", "Deveselu"]
    code, _, err = _run(capsys, "architecture", "show", "atlantis")
    assert code == 2 and err.count("\n") == 1 and "--architecture" in err


def test_engage_default_is_the_2007_architecture(capsys):
    code, out, _ = _run(
        capsys, "engage", "--missile", "IRBM", "--launch", "Tabriz", "--target", "Berlin", "--json"
    )
    assert code == 0
    d = json.loads(out)
    a = _block(d)
    assert a["name"] == "third-site-2007" and a["overrides"] == {}
    assert {s["name"] for s in d["sensors"]} == {"EMR", "Fylingdales", "Thule", "SpaceIR"}
    if d["feasible"]:
        assert d["cue_sensor"] == "EMR"  # commit on the fire-control track only


def test_engage_overrides_are_reported(capsys):
    code, out, _ = _run(
        capsys, "engage", "--architecture", "third-site-2007", "--missile", "IRBM",
        "--launch", "Tabriz", "--target", "Berlin", "--commit", "early-warning",
        "--decision-delay-s", "45", "--json",
    )  # fmt: skip
    assert code == 0
    a = _block(json.loads(out))
    assert a["rules"]["commit"] == "early-warning"
    assert a["rules"]["decision_delay_s"] == 45.0
    assert a["overrides"] == {"commit": "early-warning", "decision_delay_s": 45.0}


def test_coverage_deny_engageability_take_architecture(capsys):
    code, out, _ = _run(
        capsys, "coverage", "--architecture", "epaa-phase-2", "--missile", "IRBM",
        "--launch-area", "Tehran", "--grid-deg", "4", "--json",
    )  # fmt: skip
    assert code == 0
    assert _block(json.loads(out))["name"] == "epaa-phase-2"
    code, out, _ = _run(
        capsys, "deny", "--architecture", "epaa-phase-1", "--missile", "IRBM",
        "--targets", "Ankara", "--grid-deg", "6", "--json",
    )  # fmt: skip
    assert code == 0
    assert _block(json.loads(out))["name"] == "epaa-phase-1"
    code, out, _ = _run(
        capsys, "engageability", "--architecture", "third-site-2007", "--fields", "Kozelsk",
        "--targets", "Washington", "--missile", "Topol-M", "--json",
    )  # fmt: skip
    assert code == 0
    d = json.loads(out)
    assert _block(d)["name"] == "third-site-2007"
    assert d["results"][0]["commit"] == "fire-control-track"


@pytest.mark.parametrize(
    "args",
    [
        ["engage", "--missile", "IRBM", "--launch", "Tabriz", "--target", "Berlin"],
        ["coverage", "--missile", "IRBM", "--launch-area", "Tehran"],
        ["deny", "--missile", "IRBM"],
        ["engageability"],
    ],
)
def test_unknown_architecture_is_one_line_exit_2(capsys, args):
    code, _, err = _run(capsys, *args, "--architecture", "atlantis")
    assert code == 2
    assert err.count("\n") == 1 and "--architecture" in err


def test_engageability_counts_every_pair_and_names_why(capsys):
    code, out, _ = _run(
        capsys, "engageability", "--fields", "Kozelsk,Tatishchevo", "--targets", "New York",
        "--speeds-kms", "6.3,8.3", "--json",
    )  # fmt: skip
    assert code == 0
    rows = json.loads(out)["results"]
    for r in rows:
        assert r["pairs"] == 2
        assert r["engageable"] + sum(r["not_engageable"].values()) == 2
        assert set(r["pair_reasons"]) == {"Kozelsk->New York", "Tatishchevo->New York"}
        assert (r["pair_reasons"]["Tatishchevo->New York"] == "engageable") == (
            "Tatishchevo->New York" in r["feasible_pairs"]
        )
    # the tail chase at the MDA speed is too slow; at Postol's it is not a tail chase
    assert rows[0]["pair_reasons"]["Tatishchevo->New York"] == "closing too slow"
    assert rows[1]["pair_reasons"]["Tatishchevo->New York"] == "engageable"


@pytest.mark.parametrize(
    "args",
    [
        ["engage", "--missile", "IRBM", "--launch", "Tabriz", "--target", "Berlin"],
        ["coverage", "--missile", "IRBM", "--launch-area", "Tabriz", "--grid-deg", "6"],
        ["deny", "--missile", "IRBM", "--targets", "Berlin", "--grid-deg", "8"],
        ["engageability", "--fields", "Kozelsk", "--targets", "Boston"],
    ],
)
def test_kill_vehicle_and_rcs_overrides_on_every_defence_command(capsys, args):
    code, out, _ = _run(
        capsys, *args, "--min-closing-speed-kms", "4.5", "--divert-mps", "250",
        "--seeker-fov-deg", "0.5", "--rcs-m2", "0.05", "--exchange-latency-s", "90", "--json",
    )  # fmt: skip
    assert code == 0
    a = _block(json.loads(out))
    assert a["overrides"] == {
        "min_closing_speed_kms": 4.5, "divert_mps": 250.0, "seeker_fov_deg": 0.5, "rcs_m2": 0.05,
        "exchange_latency_s": 90.0,
    }  # fmt: skip
    assert a["exchange_latency_s"] == 90.0
    kv = a["batteries"][0]["kill_vehicle"]
    assert kv["min_closing_speed_kms"] == 4.5 and kv["divert_budget_mps"] == 250.0
    assert kv["seeker_fov_deg"] == pytest.approx(0.5, rel=1e-12)
    assert {s["rcs_m2"] for s in a["sensors"] if s["kind"] == "radar"} == {0.05}
    for flag, bad in (
        ("--min-closing-speed-kms", "-1"), ("--seeker-fov-deg", "181"),
        ("--exchange-latency-s", "nan"),
    ):  # fmt: skip
        code, _, err = _run(capsys, *args, flag, bad)
        assert code == 2 and err.count("\n") == 1 and flag in err


def test_a_narrower_seeker_never_engages_more(capsys):
    """The seeker-view rule is monotone in the field of view: each narrowing keeps or loses
    pairs, and a lost pair is lost to that rule (the kinematics do not change with it)."""
    base = ["engageability", "--fields", "Kozelsk,Tatishchevo", "--targets", "Boston",
            "--speeds-kms", "8.3", "--json"]  # fmt: skip
    before: dict[str, str] | None = None
    counts = []
    for fov in ("180", "1", "0.1"):
        code, out, _ = _run(capsys, *base, "--seeker-fov-deg", fov)
        assert code == 0
        r = json.loads(out)["results"][0]
        counts.append(r["engageable"])
        reasons = r["pair_reasons"]
        if before is not None:
            for pair, why in reasons.items():
                if before[pair] == "engageable" and why != "engageable":
                    assert why == "outside seeker field of view"
                if before[pair] != "engageable":
                    assert why == before[pair]
        before = reasons
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]

"""``openbmd effectiveness`` and ``openbmd reach``: JSON keys and one-line errors."""

from __future__ import annotations

import json

import pytest

from openbmd.cli import main


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_effectiveness_json(capsys):
    code, out, _ = _run(
        capsys,
        "effectiveness",
        "--sspk",
        "0.8",
        "--shots",
        "2",
        "--threats",
        "5",
        "--common-mode",
        "0.9",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    for key in ("p_kill_per_threat", "p_no_leak", "threats_engaged", "interceptors_expected"):
        assert key in data
    assert data["p_kill_per_threat"] == pytest.approx(0.96)
    assert data["p_no_leak"] == pytest.approx(0.9 * 0.96**5)
    assert data["threats_engaged"] == pytest.approx(5)
    assert data["interceptors_expected"] == pytest.approx(10)


def test_effectiveness_sls_inventory_and_table(capsys):
    code, out, _ = _run(
        capsys,
        "effectiveness",
        "--sspk",
        "0.8",
        "--shots",
        "2",
        "--threats",
        "5",
        "--inventory",
        "7",
        "--doctrine",
        "sls",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["interceptors_expected"] <= 7
    code, out, _ = _run(capsys, "effectiveness", "--sspk", "0.8", "--shots", "2", "--threats", "3")
    assert code == 0
    assert "P(no leaker)" in out


@pytest.mark.parametrize(
    "extra",
    [
        ["--sspk", "1.5", "--shots", "2", "--threats", "3"],
        ["--sspk", "-0.1", "--shots", "2", "--threats", "3"],
        ["--sspk", "0.5", "--shots", "0", "--threats", "3"],
        ["--sspk", "0.5", "--shots", "2", "--threats", "0"],
        ["--sspk", "0.5", "--shots", "2", "--threats", "3", "--inventory", "-1"],
        ["--sspk", "0.5", "--shots", "2", "--threats", "3", "--common-mode", "0"],
        ["--sspk", "0.5", "--shots", "2", "--threats", "3", "--common-mode", "1.1"],
        ["--sspk", "0.5", "--shots", "2", "--threats", "3", "--doctrine", "spray"],
        ["--sspk", "x", "--shots", "2", "--threats", "3"],
    ],
)
def test_effectiveness_bad_input(capsys, extra):
    code, out, err = _run(capsys, "effectiveness", *extra, "--json")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_reach_json(capsys, tmp_path):
    png = tmp_path / "reach.png"
    code, out, _ = _run(
        capsys, "reach", "--from", "Kaliningrad", "--range-km", "500", "--json", "--png", str(png)
    )
    assert code == 0
    data = json.loads(out)
    for key in ("from", "range_km", "inside", "outside", "ring"):
        assert key in data
    inside = {r["name"]: r for r in data["inside"]}
    outside = {r["name"]: r for r in data["outside"]}
    assert "Warsaw" in inside and "Redzikowo" in inside and "Berlin" in outside
    assert inside["Warsaw"]["distance_km"] == pytest.approx(278, abs=3)
    assert inside["Warsaw"]["nearest_launch"] == "Kaliningrad"
    assert "Kaliningrad" not in inside  # a launch point is not its own target
    ring = data["ring"]["coordinates"][0][0]
    assert ring[0] == ring[-1] and len(ring) > 100
    assert png.stat().st_size > 10_000


def test_reach_several_points_and_sites(capsys):
    code, out, _ = _run(
        capsys,
        "reach",
        "--from",
        "Kaliningrad;54.65,19.91",
        "--range-km",
        "500",
        "--sites",
        "Berlin,Warsaw,Paris",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert [f["name"] for f in data["from"]] == ["Kaliningrad", "54.65,19.91"]
    assert {r["name"] for r in data["inside"]} == {"Berlin", "Warsaw"}
    assert [r["name"] for r in data["outside"]] == ["Paris"]
    assert len(data["ring"]["coordinates"]) == 2
    code, out, _ = _run(
        capsys,
        "reach",
        "--from",
        "Kaliningrad,Baltiysk,Chernyakhovsk",
        "--range-km",
        "500",
        "--json",
    )
    assert code == 0
    assert len(json.loads(out)["from"]) == 3


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "Atlantis", "--range-km", "500"],
        ["--from", "54.7", "--range-km", "500"],
        ["--from", "95,20", "--range-km", "500"],
        ["--from", "Kaliningrad", "--range-km", "0"],
        ["--from", "Kaliningrad", "--range-km", "-3"],
        ["--from", "Kaliningrad", "--range-km", "500", "--sites", "Gotham"],
        ["--from", ";", "--range-km", "500"],
    ],
)
def test_reach_bad_input(capsys, args):
    code, out, err = _run(capsys, "reach", *args, "--json")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err

"""``openbmd interceptors|engage|coverage|engageability``: JSON keys and one-line errors."""

from __future__ import annotations

import json

import pytest

from openbmd.cli import main


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_interceptors_json(capsys):
    code, out, _ = _run(capsys, "interceptors", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    gbi = rows["GBI-2"]
    assert gbi["burnout_speed_range_kms"] == [5.4, 9.0]
    assert [d["kms"] for d in gbi["disputed_burnout_speeds"]] == [5.4, 6.3, 7.7, 8.3, 9.0]
    assert gbi["source"]


def test_engage_json(capsys):
    code, out, _ = _run(
        capsys,
        "engage",
        "--site",
        "Redzikowo",
        "--interceptor",
        "GBI-2",
        "--missile",
        "IRBM",
        "--launch",
        "Tabriz",
        "--target",
        "Berlin",
        "--sensors",
        "EMR,TPY-2,SpaceIR",
        "--json",
    )
    assert code == 0
    d = json.loads(out)
    assert d["feasible"] is True
    assert d["window"]["first_launch_s"] <= d["window"]["last_launch_s"]
    assert d["shot_opportunities"] == len(d["intercepts"]) >= 1
    shot = d["intercepts"][0]
    for key in (
        "launch_s",
        "intercept_s",
        "altitude_km",
        "closing_speed_kms",
        "crossing_angle_deg",
    ):
        assert key in shot
    assert shot["altitude_km"] >= 100.0


BAD = [
    (
        [
            "engage",
            "--site",
            "Nowhere",
            "--interceptor",
            "GBI-2",
            "--missile",
            "IRBM",
            "--launch",
            "Tabriz",
            "--target",
            "Berlin",
        ],
        "--site",
    ),
    (
        [
            "engage",
            "--site",
            "Redzikowo",
            "--interceptor",
            "Patriot",
            "--missile",
            "IRBM",
            "--launch",
            "Tabriz",
            "--target",
            "Berlin",
        ],
        "valid: GBI-2",
    ),
    (
        [
            "engage",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--burnout-speed-kms",
            "0",
            "--missile",
            "IRBM",
            "--launch",
            "Tabriz",
            "--target",
            "Berlin",
        ],
        "--burnout-speed-kms",
    ),
    (
        [
            "engageability",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--speeds-kms",
            "6.3,-1",
        ],
        "--speeds-kms",
    ),
    (
        [
            "engageability",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--speeds-kms",
            "6.3",
            "--fields",
            "Nowhere",
        ],
        "--fields",
    ),
    (
        [
            "engageability",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--speeds-kms",
            "6.3",
            "--cueing",
            "psychic",
        ],
        "--cueing",
    ),
    (
        [
            "coverage",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--missile",
            "IRBM",
            "--launch-area",
            "Tehran",
            "--grid-deg",
            "0",
        ],
        "--grid-deg",
    ),
    (
        [
            "coverage",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--missile",
            "IRBM",
            "--launch-area",
            "Tehran",
            "--grid-deg",
            "100",
        ],
        "--grid-deg",
    ),
    (
        [
            "coverage",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--missile",
            "IRBM",
            "--launch-area",
            "Tehran",
            "--region",
            "atlantis",
        ],
        "--region",
    ),
    (
        [
            "deny",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--missile",
            "IRBM",
            "--region",
            "atlantis",
        ],
        "--region",
    ),
    (
        [
            "deny",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--missile",
            "IRBM",
            "--grid-deg",
            "-1",
        ],
        "--grid-deg",
    ),
    (
        [
            "deny",
            "--site",
            "Redzikowo",
            "--interceptor",
            "GBI-2",
            "--missile",
            "IRBM",
            "--commit",
            "psychic",
        ],
        "--commit",
    ),
]


@pytest.mark.parametrize(("args", "field"), BAD)
def test_bad_input_one_line_exit_2(capsys, args, field):
    code, _, err = _run(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and field in err

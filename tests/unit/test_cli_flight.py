"""The flight commands of the CLI: JSON keys, closed-form agreement, and bad input."""

from __future__ import annotations

import json

import pytest

from openbmd.cli import main
from openbmd.freeflight import free_flight


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_sites_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sites", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {"name", "lat_deg", "lon_deg", "role"} <= set(rows[0])
    assert any(r["name"] == "Redzikowo" for r in rows)


def test_missiles_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "missiles", "--json")
    assert code == 0
    rows = json.loads(out)
    for r in rows:
        assert {"name", "nominal_range_km", "max_range_km", "source"} <= set(r)
        assert r["max_range_km"] == pytest.approx(r["nominal_range_km"], rel=0.1)


def test_trajectory_json_and_csv(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv_path = tmp_path / "t.csv"
    code, out, err = run(
        capsys,
        "trajectory",
        "--missile",
        "Shahab-3",
        "--launch",
        "Tabriz",
        "--target",
        "Ankara",
        "--json",
        "--csv",
        str(csv_path),
    )
    assert code == 0, err
    d = json.loads(out)
    for key in (
        "range_km",
        "flight_time_s",
        "apogee_km",
        "burnout_time_s",
        "burnout_speed_mps",
        "burnout_altitude_km",
        "launch_azimuth_deg",
        "impact",
        "miss_km",
    ):
        assert key in d
    assert d["miss_km"] < 1.0
    assert d["impact"]["lat_deg"] == pytest.approx(39.93, abs=0.01)
    assert csv_path.read_text().startswith("t_s,lat_deg")


def test_freeflight_sphere_matches_closed_form(capsys: pytest.CaptureFixture[str]) -> None:
    import math

    ref = free_flight(6000.0, math.radians(30.0), 150e3, 150e3)
    for extra in ([], ["--numeric"]):
        code, out, err = run(
            capsys,
            "freeflight",
            "--speed-mps",
            "6000",
            "--angle-deg",
            "30",
            "--altitude-km",
            "150",
            "--earth",
            "sphere",
            "--no-rotation",
            "--json",
            *extra,
        )
        assert code == 0, err
        d = json.loads(out)
        assert d["range_km"] == pytest.approx(float(ref.range) / 1e3, rel=1e-3)
        assert d["flight_time_s"] == pytest.approx(float(ref.time_of_flight), rel=1e-3)
        assert d["apogee_km"] == pytest.approx(float(ref.apogee_alt) / 1e3, rel=1e-3)
        assert "impact" not in d


def test_freeflight_wgs84_with_launch(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "freeflight",
        "--speed-mps",
        "5000",
        "--angle-deg",
        "35",
        "--launch",
        "Tehran",
        "--azimuth-deg",
        "300",
        "--earth",
        "wgs84",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert set(d["impact"]) == {"lat_deg", "lon_deg"}
    assert 1500 < d["range_km"] < 4000


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["trajectory", "--missile", "Shahab-3", "--launch", "95,10", "--target", "Ankara"],
            "latitude 95 is outside",
        ),
        (
            ["trajectory", "--missile", "Shahab-3", "--launch", "35;10", "--target", "Ankara"],
            "unknown place",
        ),
        (
            ["trajectory", "--missile", "Shahab-3", "--launch", "35,x", "--target", "Ankara"],
            "is not LAT,LON",
        ),
        (
            ["trajectory", "--missile", "Shahab-3", "--launch", "Atlantis", "--target", "Ankara"],
            "Tehran",
        ),
        (
            ["trajectory", "--missile", "V-2", "--launch", "Tabriz", "--target", "Ankara"],
            "valid: Shahab-3",
        ),
        (
            ["trajectory", "--missile", "Shahab-3", "--launch", "Tabriz", "--target", "Warsaw"],
            "maximum range",
        ),
        (
            [
                "trajectory",
                "--missile",
                "Shahab-3",
                "--launch",
                "Tabriz",
                "--target",
                "Ankara",
                "--shape",
                "sideways",
            ],
            "--shape",
        ),
        (["freeflight", "--speed-mps", "-3", "--angle-deg", "30"], "--speed-mps: must be > 0"),
        (["freeflight", "--speed-mps", "3000", "--angle-deg", "90"], "--angle-deg"),
        (["freeflight", "--speed-mps", "3000", "--angle-deg", "0"], "--angle-deg"),
        (["freeflight", "--speed-mps", "abc", "--angle-deg", "30"], "--speed-mps"),
        (["freeflight", "--speed-mps", "3000", "--angle-deg", "30", "--earth", "flat"], "--earth"),
        (["range", "--missile", "IRBM", "--launch", "Tehran"], "--azimuth-deg"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_range_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "range",
        "--missile",
        "Iskander",
        "--launch",
        "Kaliningrad",
        "--azimuth-deg",
        "240",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert 400 < d["range_km"] < 560
    assert d["flight_time_s"] > 0

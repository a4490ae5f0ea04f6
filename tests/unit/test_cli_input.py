"""Issue 11 (7): what a hurried user hit — every bad place or list is one line, exit 2, the flag."""

from __future__ import annotations

import json

import pytest

from openbmd.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str, flag: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"openbmd: error: {flag}:"), err


TRAJ = ("trajectory", "--missile", "Shahab-3", "--launch", "Tabriz")
SENS = ("sensors", "--missile", "Shahab-3", "--launch", "Tabriz")


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        ((*TRAJ, "--target", "40,200"), "--target"),
        ((*TRAJ, "--target", "95,10"), "--target"),
        ((*TRAJ, "--target", "nan,10"), "--target"),
        ((*TRAJ, "--target", "40,inf"), "--target"),
        (("range", "--missile", "IRBM", "--launch", "35,-181", "--azimuth-deg", "0"), "--launch"),
        (("reach", "--from", "54.7,200", "--range-km", "500"), "--from"),
        (("reach", "--from", "Kaliningrad", "--range-km", "500", "--sites", "1,190"), "--sites"),
        ((*SENS, "--target", "39,360"), "--target"),
        (
            ("engage", "--site", "54.5,200", "--interceptor", "GBI-2", "--missile", "IRBM",
             "--launch", "Tehran", "--target", "Berlin"),
            "--site",
        ),
        (
            ("deny", "--site", "Redzikowo", "--interceptor", "GBI-2", "--missile", "IRBM",
             "--targets", "52,200"),
            "--targets",
        ),
    ],
)  # fmt: skip
def test_point_off_the_globe_is_refused(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], flag: str
) -> None:
    code, _, err = _run(capsys, *args)
    _one_line_error(code, err, flag)
    assert "outside" in err


def test_empty_sensor_list_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, *SENS, "--target", "Ankara", "--sensors", "")
    _one_line_error(code, err, "--sensors")
    assert "empty" in err
    code, _, err = _run(capsys, *SENS, "--target", "Ankara", "--sensors", " , ")
    _one_line_error(code, err, "--sensors")


def test_empty_sensor_list_is_an_error_in_engage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        capsys, "engage", "--site", "Redzikowo", "--interceptor", "GBI-2", "--missile",
        "IRBM", "--launch", "Tehran", "--target", "Berlin", "--sensors", "", "--json",
    )  # fmt: skip
    _one_line_error(code, err, "--sensors")


def test_unknown_sensor_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, *SENS, "--target", "Ankara", "--sensors", "EMR,Nope")
    _one_line_error(code, err, "--sensors")
    assert "'Nope'" in err


@pytest.mark.parametrize("name", ["Zürich", "Zurich", "zurich", " ZÜRICH "])
def test_cities_and_accents_work_in_trajectory(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code, out, err = _run(
        capsys, "trajectory", "--missile", "ICBM-liquid", "--launch", "Tehran", "--target", name,
        "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["range_km"] > 3000


def test_city_works_in_sensors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "sensors", "--missile", "ICBM-liquid", "--launch", "Tehran",
        "--target", "gothenburg", "--sensors", "Armavir", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["target"] == "Gothenburg"


def test_reach_sites_take_lat_lon(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "reach", "--from", "Kaliningrad", "--range-km", "500",
        "--sites", "Gdansk,52.0,21.0;Kraków", "--json",
    )  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    names = {r["name"] for r in d["inside"] + d["outside"]}
    assert names == {"Gdansk", "52,21", "Krakow"}
    assert {r["name"] for r in d["inside"]} >= {"Gdansk", "52,21"}


def test_unknown_reach_site_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "reach", "--from", "Kaliningrad", "--range-km", "5",
                        "--sites", "Atlantis")  # fmt: skip
    _one_line_error(code, err, "--sites")


@pytest.mark.parametrize("args", [("radar", "range"), ("radar", "power"), ("sensors",)])
def test_help_keeps_bracketed_units(capsys: pytest.CaptureFixture[str], args: tuple) -> None:
    code, out, _ = _run(capsys, *args, "--help")
    assert code == 0
    assert "[dB]" in out if args[0] == "radar" else "[deg]" in out


def test_sensors_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "sensors", "list", "--json")
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert {"EMR", "Gabala", "SpaceIR"} <= set(rows)
    assert rows["EMR"]["band"] == "X" and rows["EMR"]["frequency_hz"] > 1e9
    assert rows["SpaceIR"]["kind"] == "space-ir" and rows["SpaceIR"]["sat_lons_deg"]
    code, out, _ = _run(capsys, "sensors", "list")
    assert code == 0 and "EMR" in out and "Gabala" in out


def test_sensors_needs_missile_unless_listing(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "sensors", "--launch", "Tehran", "--target", "Ankara")
    _one_line_error(code, err, "--missile")


def test_sensors_seed_is_explicit_and_reported(capsys: pytest.CaptureFixture[str]) -> None:
    args = (*SENS, "--target", "Ankara", "--sensors", "TPY-2", "--json")
    runs = []
    for seed in ("7", "7"):
        code, out, err = _run(capsys, *args, "--seed", seed)
        assert code == 0, err
        runs.append(json.loads(out))
    assert runs[0] == runs[1] and runs[0]["seed"] == 7
    code, _, err = _run(capsys, *args, "--seed", "-1")
    _one_line_error(code, err, "--seed")

"""``openbmd radar ...`` and ``openbmd sensors``: JSON keys, MATLAB figures, one-line errors."""

from __future__ import annotations

import json
import math

import pytest

from openbmd.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code, out, err = _run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_radar_range_matches_radareqrng(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "radar", "range", "--frequency-hz", "10e9", "--snr-db", "6",
                 "--pulse-width-s", "10e-6", "--peak-power-w", "1e6", "--gain-db", "40",
                 "--rcs-m2", "0.1", "--loss-db", "3")  # fmt: skip
    assert data["range_m"] == pytest.approx(1.9426e5, rel=1e-4)


def test_radar_power_matches_radareqpow(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "radar", "power", "--range-m", "50e3", "--frequency-hz", "10e9",
                 "--snr-db", "10", "--pulse-width-s", "1e-6", "--gain-db", "30", "--rcs-m2",
                 "0.5", "--noise-temp-k", "300", "--loss-db", "3")  # fmt: skip
    assert data["peak_power_w"] == pytest.approx(2.2809e6, rel=1e-4)


def test_radar_search_pap_matches_radareqsearchpap(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "radar", "search-pap", "--range-m", "111e3", "--snr-db", "13",
                 "--noise-temp-k", "487", "--loss-db", "20", "--azimuth-span-deg", "360",
                 "--elevation-min-deg", "0", "--elevation-max-deg", "45", "--scan-time-s",
                 "4.8")  # fmt: skip
    assert data["power_aperture_wm2"] == pytest.approx(2.3689e4, rel=1e-4)


def test_effective_radius_and_horizon(capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, "radar", "effective-radius")["radius_m"] == pytest.approx(8.4774e6, 1e-4)
    flat = _json(capsys, "radar", "effective-radius", "--gradient-per-m", "0")
    assert flat["radius_m"] == pytest.approx(6371008.8)
    d = _json(capsys, "radar", "horizon", "--antenna-height-m", "0", "--target-height-m",
              "100000", "--k", "1")["ground_range_m"]  # fmt: skip
    r_e = 6371008.8
    assert d == pytest.approx(r_e * math.acos(r_e / (r_e + 1e5)), rel=1e-12)
    d1 = _json(capsys, "radar", "horizon", "--antenna-height-m", "0", "--target-height-m",
               "100000", "--elevation-deg", "1")["ground_range_m"]  # fmt: skip
    d0 = _json(capsys, "radar", "horizon", "--antenna-height-m", "0", "--target-height-m",
               "100000")["ground_range_m"]  # fmt: skip
    assert d1 < d0 and d0 > d


def test_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "radar", "effective-radius")
    assert code == 0 and "Effective Earth radius" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["radar", "range", "--frequency-hz", "1e9", "--snr-db", "13", "--pulse-width-s",
          "1e-6", "--peak-power-w", "-5"], "--peak-power-w"),
        (["radar", "power", "--range-m", "-1", "--frequency-hz", "1e9", "--snr-db", "13",
          "--pulse-width-s", "1e-6"], "--range-m"),
        (["radar", "range", "--frequency-hz", "1e9", "--snr-db", "13", "--pulse-width-s",
          "1e-6", "--peak-power-w", "1e6", "--rcs-m2", "0"], "--rcs-m2"),
        (["radar", "search-pap", "--range-m", "1e5", "--snr-db", "13", "--noise-temp-k", "400",
          "--loss-db", "3", "--azimuth-span-deg", "90", "--elevation-min-deg", "30",
          "--elevation-max-deg", "10", "--scan-time-s", "5"], "empty"),
        (["radar", "effective-radius", "--gradient-per-m", "-2e-7"], "--gradient-per-m"),
        (["radar", "horizon", "--antenna-height-m", "-3", "--target-height-m", "0"],
         "--antenna-height-m"),
        (["sensors", "--missile", "ICBM-liquid", "--launch", "Tehran", "--target", "Washington",
          "--sensors", "EMR,Krasnoyarsk"], "valid: EMR"),
        (["sensors", "--missile", "ICBM-liquid", "--launch", "Tehran", "--target", "Washington",
          "--rcs-m2", "-0.1"], "--rcs-m2"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, _, err = _run(capsys, *args)
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and err.startswith("openbmd: error:")
    assert "Traceback" not in err


@pytest.mark.slow
def test_sensors_tehran_washington(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--launch", "Tehran", "--target", "Washington", "--sensors", "EMR,Gabala,Armavir"]
    data = _json(capsys, "sensors", "--missile", "ICBM-liquid", *args, "--seed", "1")
    rows = {r["sensor"]: r for r in data["sensors"]}
    assert list(rows) == ["EMR", "Gabala", "Armavir"]
    for row in rows.values():
        for key in ("first_detection_s", "first_detection_downrange_km", "visible_intervals_s",
                    "measurements"):  # fmt: skip
            assert key in row
    burnout = data["burnout_s"]
    # the Russian early-warning radars see the launch in (or right after) boost ...
    assert rows["Gabala"]["first_detection_s"] <= burnout + 30
    assert rows["Armavir"]["first_detection_s"] <= burnout + 30
    # ... the Czech X-band radar only much later, far downrange
    assert rows["EMR"]["first_detection_s"] > burnout + 100
    assert rows["EMR"]["first_detection_downrange_km"] > 1000
    assert all(r["measurements"] > 0 for r in rows.values())

"""``analysis.compare`` and the ledger: the numbers equal what the individual commands give."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openbmd.analysis.compare import compare
from openbmd.analysis.ledger import ledger
from openbmd.cli import main
from openbmd.scenario import parse_scenario
from openbmd.scenario.build import to_study

# The coverage command's "europe" region (analysis.footprint.REGIONS), so the two agree.
SMALL = """\
name: small
epoch: 2009-09-17T00:00:00Z
threats:
  - name: iran-irbm
    missile: IRBM
    launch_areas: [Tabriz, Tehran, Semnan]
    targets: [Warsaw, Berlin]
    regions: [europe]
  - name: russia-icbm
    missile: Topol-M
    launch_areas: [Kozelsk, Teykovo, Vypolzovo, Tatishchevo]
    targets: [Washington, New York, Boston]
    regions: []
  - name: iskander
    missile: Iskander
    launch_areas: [Kaliningrad, Baltiysk, Chernyakhovsk]
    targets: [Warsaw]
    regions: []
defended:
  regions:
    - {name: europe, lat_min_deg: 35.0, lat_max_deg: 72.0, lon_min_deg: -12.0, lon_max_deg: 45.0}
architectures:
  - name: none
  - name: third-site-2007
sweeps:
  burnout_speed_kms: [5.4, 7.7]
  burnout_speed_interceptors: [GBI-2]
analyses:
  footprint: {grid_deg: 4.0}
  engageability: {}
  reach: {}
  timeline: {}
"""


@pytest.fixture(scope="session")
def small():
    c = compare(to_study(parse_scenario(SMALL, "small.yaml")))
    return c, ledger(c)


def _cli(capsys, *args):
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def test_footprint_dims_and_units(small):
    c, _ = small
    ds = c.footprints["europe"]
    assert set(ds["defended"].dims) == {"threat", "architecture", "lat", "lon"}
    assert list(ds["architecture"].values) == ["none", "third-site-2007"]
    assert ds["intercept_altitude"].attrs["units"] == "m"
    # No battery, nothing defended; the IRBM threatens Europe.
    irbm = ds.sel(threat="iran-irbm")
    assert not irbm["defended"].sel(architecture="none").any()
    assert irbm["threatened"].sel(architecture="none").any()
    # A threat not asked of the region threatens nothing there.
    assert not ds.sel(threat="russia-icbm")["threatened"].any()


def test_ledger_population_equals_coverage_command(small, capsys):
    _, led = small
    d = _cli(
        capsys, "coverage", "--architecture", "third-site-2007", "--missile", "IRBM",
        "--launch-area", "Tabriz,Tehran,Semnan", "--grid-deg", "4", "--json",
    )  # fmt: skip
    row = led.row("iran-irbm → europe", "population defended")
    assert row.values["third-site-2007"] == pytest.approx(d["population_defended"] / 1e6)
    assert row.values["none"] == 0.0
    share = led.row("iran-irbm → europe", "threatened area defended").values["third-site-2007"]
    assert share == pytest.approx(d["defended_fraction_of_threatened_grid"])


def test_ledger_engageability_equals_engageability_command(small, capsys):
    _, led = small
    d = _cli(
        capsys, "engageability", "--architecture", "third-site-2007", "--speeds-kms", "5.4,7.7",
        "--json",
    )  # fmt: skip
    by_speed = {r["burnout_speed_kms"]: r["fraction_feasible"] for r in d["results"]}
    for v in (5.4, 7.7):
        row = led.row("russia-icbm engageability", f"engageable at {v:g} km/s")
        assert row.values["third-site-2007"] == pytest.approx(by_speed[v])
        assert row.values["none"] == 0.0


def test_ledger_reach_equals_reach_command(small, capsys):
    c, led = small
    ds = c.reach["iskander"]
    d = _cli(
        capsys, "reach", "--from", "Kaliningrad,Baltiysk,Chernyakhovsk", "--range-km",
        f"{ds.attrs['range_m'] / 1e3:g}", "--sites", "Redzikowo,Brdy", "--json",
    )  # fmt: skip
    inside = {p["name"] for p in d["inside"]}
    row = led.row("iskander reach", "sites within reach")
    expect = ", ".join(sorted(n for n in ("Redzikowo", "Brdy") if n in inside)) or "none"
    assert row.values["third-site-2007"] == expect
    assert row.values["none"] == "none"
    assert "iran-irbm" not in c.reach  # long-range classes are not asked the reach question


def test_timeline_orders_events(small):
    c, led = small
    ds = c.timelines["iran-irbm"]
    assert ds["visible"].dims == ("sensor", "time")
    a = ds.sel(architecture="third-site-2007")
    assert float(a["warning"]) <= float(a["commit"])
    if bool(a["feasible"]):
        assert float(a["commit"]) <= float(a["first_launch"]) <= float(a["intercept_time"])
    assert np.isnan(float(ds.sel(architecture="none")["commit"]))
    labels = {r.label for r in led.rows if r.section.startswith("iran-irbm timeline")}
    assert {"first warning", "launch commit", "warning gained from partners' radars"} <= labels

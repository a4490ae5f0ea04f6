"""analysis/exercise.py: the architecture an exercise replays, its flights and radar plots."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from openbmd import earth
from openbmd.analysis.exercise import (
    exercise_architecture,
    fly_threats,
    inside_ellipse,
    partner_name,
    plot_records,
    radar_plots,
)
from openbmd.errors import InputError
from openbmd.exchange.schemas import Plot
from openbmd.scenario.build import to_study
from openbmd.scenario.load import load_scenario
from openbmd.sensors import Radar, SpaceIR


@pytest.fixture(scope="module")
def study() -> Any:
    return to_study(load_scenario("europe-2009"))


@pytest.fixture(scope="module")
def short(study: Any) -> Any:
    """Two short flights (the Sejjil and Iskander classes), 40 s apart, every 2 s."""
    names = ("iran-2000km", "kaliningrad-iskander")
    return fly_threats(tuple(t for t in study.threats if t.name in names), 2.0, 40.0)


def test_default_architecture_is_where_most_partners_share_radars(study: Any) -> None:
    assert exercise_architecture(study).name == "joint-2009"
    assert exercise_architecture(study, "US-NATO-Russia").name == "joint-2009"  # an alias
    assert exercise_architecture(study, "epaa-phase-1").name == "epaa-phase-1"
    with pytest.raises(InputError) as err:
        exercise_architecture(study, "no-such")
    assert err.value.field == "architecture" and "joint-2009" in str(err.value)
    with pytest.raises(InputError, match="no radar"):
        exercise_architecture(study, "none")


def test_flights_are_staggered_and_land_on_their_targets(study: Any, short: Any) -> None:
    assert short.threat == ("iran-2000km", "kaliningrad-iskander")
    assert short.target == ("Bucharest", "Redzikowo")  # the first target in reach of each
    assert list(short.launch_time) == [0.0, 40.0]
    before = short.t < short.launch_time[:, None]
    assert np.isnan(short.r_ecef[..., 0][before]).all()
    k0 = np.searchsorted(short.t, short.launch_time)
    assert np.isfinite(short.r_ecef[np.arange(2), k0, 0]).all()
    assert (short.burnout_time > short.launch_time).all()
    targets = {t.name: t for t in study.threats}
    for k, name in enumerate(short.threat):
        _, lat, lon = targets[name].targets[0]
        miss = earth.geodesic_inverse(lat, lon, short.impact_lat[k], short.impact_lon[k])[0]
        assert miss < 1000.0, (name, miss)


def test_plots_are_midcourse_radar_only_and_cued(study: Any, short: Any) -> None:
    arch = exercise_architecture(study)
    plots = radar_plots(arch, short, np.random.default_rng(5))
    assert len(plots) > 20 and np.all(np.diff(plots.time) >= 0.0)
    assert (plots.time >= short.burnout_time[plots.threat]).all()  # midcourse only
    space = {s.name for s in arch.sensors if isinstance(s.sensor, SpaceIR)}
    assert space and not space & set(plots.sensor.tolist())  # space IR only cues
    owners = {partner_name(s.owner) for s in arch.sensors if isinstance(s.sensor, Radar)}
    assert set(plots.partner.tolist()) <= owners == {"us", "uk", "russia"}
    # noise: the measured range is the true one plus N(0, sigma)
    radars = {s.name: s for s in arch.sensors}
    truth = np.empty(len(plots))
    for name in set(plots.sensor.tolist()):
        sel = plots.sensor == name
        r = short.position(plots.threat[sel], plots.time[sel])
        s = radars[name].sensor
        truth[sel] = earth.ecef2aer(r, s.lat, s.lon, s.alt)[2]
    z = (plots.z[:, 0] - truth) / plots.sigma[:, 0]
    assert 0.6 < float(np.std(z)) < 1.4 and abs(float(np.mean(z))) < 0.5
    # the needs-cue radar (EMR) reports only from its cue on: first other detection + delay
    fc = [s.name for s in arch.sensors if s.needs_cue]
    assert np.isin(plots.sensor, fc).any()
    late = replace(arch, rules=replace(arch.rules, cue_delay=1e5))
    assert not np.isin(radar_plots(late, short, np.random.default_rng(5)).sensor, fc).any()
    free = replace(late, rules=replace(late.rules, fire_control_needs_cue=False))
    assert np.isin(radar_plots(free, short, np.random.default_rng(5)).sensor, fc).any()


def test_plot_records_are_valid_radar_report_plots(study: Any, short: Any) -> None:
    plots = radar_plots(exercise_architecture(study), short, np.random.default_rng(1))
    records = plot_records(plots.take(slice(0, 30)), 1.8e9)
    for rec in records:
        Plot.model_validate(rec)  # the exchange's strict wire schema accepts every field
    i = 0
    assert records[i]["range_km"] == pytest.approx(plots.z[i, 0] / 1e3)
    assert records[i]["elevation_deg"] == pytest.approx(math.degrees(plots.z[i, 2]))
    assert records[i]["time"].endswith("Z")


def test_inside_ellipse() -> None:
    area = {
        "center": {"lat_deg": 40.0, "lon_deg": 30.0},
        "semi_major_km": 20.0,
        "semi_minor_km": 5.0,
        "orientation_deg": 90.0,  # major axis east-west
    }
    lat, lon = math.radians(40.0), math.radians(30.0)
    assert inside_ellipse(area, lat, lon) == pytest.approx(0.0, abs=1e-9)
    d_lon = 19.0 / (6387.0 * math.cos(lat))  # 19 km east (prime-vertical radius at 40°)
    assert inside_ellipse(area, lat, lon + d_lon) == pytest.approx(0.95, abs=0.01)
    assert inside_ellipse(area, lat + 19.0 / 6371.0, lon) > 3.0  # 19 km north: outside

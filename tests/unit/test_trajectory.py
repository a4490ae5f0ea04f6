"""Unit tests of the batch propagator: batching, events, resampling, integration order."""

from __future__ import annotations

import numpy as np
import pytest

from openbmd import earth
from openbmd.catalog import missile
from openbmd.constants import DEG, OMEGA_EARTH
from openbmd.missiles import Missile, Stage, stack
from openbmd.trajectory import EarthModel, Guidance, StepSizes, altitude, fly, hermite

LAT, LON = 35 * DEG, 50 * DEG


def _fly(names: list[str], kicks: list[float], **kw: object) -> object:
    ms = [missile(n) for n in names]
    g = Guidance.of(len(ms), 300 * DEG, np.array(kicks) * DEG)
    return fly(stack(ms), LAT, LON, g, **kw)  # type: ignore[arg-type]


def test_batch_equals_single_flights() -> None:
    """A missile flown in a mixed batch lands exactly where it lands alone (no coupling)."""
    both = _fly(["Shahab-3", "ICBM-solid"], [25.0, 40.0], record=False)
    alone = _fly(["ICBM-solid"], [40.0], record=False)
    np.testing.assert_allclose(
        both.events.impact_r_eci[1],
        alone.events.impact_r_eci[0],  # type: ignore[attr-defined]
        rtol=0,
        atol=1e-6,
    )


def test_events_are_ordered_and_on_the_surface() -> None:
    traj = _fly(["Sejjil"], [30.0])
    ev = traj.events  # type: ignore[attr-defined]
    assert np.all(np.diff(ev.staging_time[0]) > 0)
    assert ev.staging_time[0, -1] == pytest.approx(ev.burnout_time[0])
    assert ev.burnout_time[0] < ev.apogee_time[0] < ev.impact_time[0]
    r_imp = earth.eci2ecef(ev.impact_r_eci[0], ev.impact_time[0])
    assert earth.ecef2geodetic(r_imp)[2] == pytest.approx(0.0, abs=0.01)
    # The recorded path ends at the impact, and its highest point is the apogee.
    alt = traj.geodetic[2]  # type: ignore[attr-defined]
    ok = np.isfinite(alt[0])
    assert alt[0][ok][-1] == pytest.approx(0.0, abs=0.01)
    assert alt[0][ok].max() <= ev.apogee_alt[0] + 1.0
    assert alt[0][ok].max() == pytest.approx(ev.apogee_alt[0], abs=2000.0)  # 30 s coast steps


def test_launch_is_at_rest_on_the_rotating_earth() -> None:
    traj = _fly(["Iskander"], [45.0])
    v_ecef = traj.v_ecef[0, 0]  # type: ignore[attr-defined]
    np.testing.assert_allclose(v_ecef, 0.0, atol=1e-9)
    assert (
        np.linalg.norm(traj.v_eci[0, 0])
        == pytest.approx(  # type: ignore[attr-defined]
            OMEGA_EARTH * np.hypot(*traj.r_eci[0, 0, :2]), rel=1e-12
        )
    )  # type: ignore[attr-defined]


def test_thrusting_flag_and_mass_flow() -> None:
    traj = _fly(["ICBM-liquid"], [12.0])
    t = traj.t[0]  # type: ignore[attr-defined]
    thrust = traj.thrusting[0]  # type: ignore[attr-defined]
    assert thrust[np.isfinite(t) & (t < 239.0)].all()
    assert not thrust[np.isfinite(t) & (t > 241.0)].any()


def test_rk4_is_fourth_order_in_vacuum() -> None:
    """Halving every step shrinks the impact error ~16x (no drag: smooth forcing)."""
    m = missile("IRBM")
    model = EarthModel(atmosphere=False)
    g = Guidance.of(1, 0.0, 30 * DEG)

    def impact(scale: float) -> np.ndarray:
        st = StepSizes(
            boost=2.0 * scale, reentry=2.0 * scale, upper=8.0 * scale, vacuum=32.0 * scale
        )
        return fly(
            stack([m]), LAT, LON, g, model=model, steps=st, record=False
        ).events.impact_r_eci[0]

    ref = impact(1 / 32)
    e1 = np.linalg.norm(impact(1.0) - ref)
    e2 = np.linalg.norm(impact(0.5) - ref)
    assert 8.0 < e1 / e2 < 32.0


def test_sample_resamples_on_common_times() -> None:
    traj = _fly(["Shahab-3", "IRBM"], [25.0, 35.0])
    times = np.arange(0.0, 1500.0, 7.0)
    s = traj.sample(times)  # type: ignore[attr-defined]
    assert s.r_ecef.shape == (2, times.size, 3)
    # Inside flight the samples lie on the recorded path; after impact they are NaN.
    t_imp = traj.events.impact_time  # type: ignore[attr-defined]
    assert np.all(np.isnan(s.alt[0, times > t_imp[0]]))
    assert np.all(np.isfinite(s.alt[1, times < t_imp[1]]))
    k = 40
    exact = traj.sample(traj.t[1, k : k + 1])  # type: ignore[attr-defined]
    np.testing.assert_allclose(exact.r_ecef[1, 0], traj.r_ecef[1, k], atol=1e-6)  # type: ignore[attr-defined]
    assert s.thrusting[0, 0] and not s.thrusting[0, -1]


def test_to_xarray_has_units() -> None:
    ds = _fly(["Iskander"], [40.0]).to_xarray()  # type: ignore[attr-defined]
    assert ds["alt"].attrs["units"] == "m"
    assert ds.sizes["missile"] == 1


def test_hermite_is_exact_for_cubics() -> None:
    t = np.linspace(0.0, 2.0, 5)

    def r(x: np.ndarray) -> np.ndarray:
        return np.stack([x**3, 2 * x**2 - x, np.ones_like(x)], axis=-1)

    def v(x: np.ndarray) -> np.ndarray:
        return np.stack([3 * x**2, 4 * x - 1, np.zeros_like(x)], axis=-1)

    rp, vp = hermite(
        r(np.array(0.0)), v(np.array(0.0)), r(np.array(2.0)), v(np.array(2.0)), 2.0, t / 2.0
    )
    np.testing.assert_allclose(rp, r(t), atol=1e-12)
    np.testing.assert_allclose(vp, v(t), atol=1e-12)


def test_altitude_matches_geodetic_height_at_low_altitude() -> None:
    rng = np.random.default_rng(3)
    lat = rng.uniform(-90, 90, 500) * DEG
    lon = rng.uniform(-180, 180, 500) * DEG
    h = rng.uniform(0.0, 150e3, 500)
    r = earth.geodetic2ecef(lat, lon, h)
    assert np.max(np.abs(altitude(r, EarthModel()) - h)) < 1.0
    np.testing.assert_allclose(
        altitude(earth.geodetic2ecef(lat, lon, 0.0), EarthModel()), 0.0, atol=1e-6
    )


def test_cutoff_shortens_range() -> None:
    m = missile("IRBM")
    g = Guidance.of(3, 0.0, 35 * DEG, np.array([np.inf, 110.0, 90.0]))
    traj = fly(stack([m] * 3), LAT, LON, g, record=False)
    rng = traj.ground_range()
    assert rng[0] > rng[1] > rng[2]
    assert traj.events.burnout_time[1] == pytest.approx(110.0)


def test_stage_validation() -> None:
    from openbmd.errors import InputError

    with pytest.raises(InputError, match="propellant_mass"):
        Stage(gross_mass=100.0, propellant_mass=200.0, burn_time=10.0, diameter=1.0, isp=250.0)
    with pytest.raises(InputError, match="exactly one"):
        Stage(gross_mass=100.0, propellant_mass=50.0, burn_time=10.0, diameter=1.0)
    s = Stage(gross_mass=100.0, propellant_mass=50.0, burn_time=10.0, diameter=1.0, thrust=1e4)
    assert s.isp_s == pytest.approx(1e4 / (9.80665 * 5.0))
    m = Missile("x", (s,), rv_mass=10.0, rv_beta=1000.0, nominal_range=1e5)
    assert m.ideal_delta_v() > 0

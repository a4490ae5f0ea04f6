"""Unit tests of openbmd.sensors and the sensor catalogue, on synthetic trajectories."""

from __future__ import annotations

import numpy as np
import pytest

from openbmd import earth
from openbmd import radar as req
from openbmd.catalog.sensors import load_sensors, sensor, sensors_by_names
from openbmd.constants import R_EARTH_MEAN
from openbmd.errors import InputError, UnknownNameError
from openbmd.sensors import Radar, SpaceIR

DEG = np.pi / 180.0
LAT, LON = 45.0 * DEG, 10.0 * DEG


def strong_radar(**kw: object) -> Radar:
    base: dict[str, object] = {
        "name": "R", "lat": LAT, "lon": LON, "alt": 0.0, "frequency": 1e9, "peak_power": 1e9,
        "pulse_width": 1e-3, "gain_db": 45.0, "snr_threshold_db": 13.0, "revisit": 1.0,
        "min_elevation": 1 * DEG,
    }  # fmt: skip
    base.update(kw)
    return Radar(**base)  # type: ignore[arg-type]


def rising_column(dist: float, az: float, t: np.ndarray, climb: float) -> np.ndarray:
    """A target rising vertically at ``climb`` m/s, ``dist`` m from the radar site."""
    lat, lon, _ = earth.geodesic_direct(LAT, LON, az, dist)
    return earth.geodetic2ecef(lat, lon, climb * t)


def static_targets(radar: Radar, az: np.ndarray, el: np.ndarray, rng: np.ndarray, n_t: int = 3):
    """Targets fixed at (az, el, range) from the radar, sampled ``n_t`` times: (N, T, 3)."""
    r = earth.aer2ecef(az, el, rng, radar.lat, radar.lon, radar.alt)
    return np.arange(n_t, dtype=float), np.repeat(r[:, None, :], n_t, axis=1)


def test_rising_target_appears_at_the_refracted_visibility_altitude() -> None:
    radar = strong_radar()
    t = np.arange(0.0, 400.0, 0.05)
    dist = 1500e3
    r = rising_column(dist, 0.0, t, 1000.0)
    det = radar.detect(t, r[None], rng=np.random.default_rng(0))
    h_first = 1000.0 * det.t[np.argmax(det.visible[0])]
    # a target in space: true geometry plus the astronomical refraction (Bennett 1982: 24.3'
    # at an apparent 1 deg), not the 4/3-Earth sphere (which would say ~30 % lower)
    e_true = 1 * DEG - 24.3 / 60.0 * DEG
    h_model = float(req.min_visible_altitude(dist, e_true, k=1.0))
    h_geometric = float(req.min_visible_altitude(dist, 1 * DEG, k=1.0))
    k = float(req.effective_earth_radius()) / R_EARTH_MEAN
    h_four_thirds = float(req.min_visible_altitude(dist, 1 * DEG, k=k))
    assert h_first == pytest.approx(h_model, rel=0.02)  # ellipsoid vs sphere, sampling
    assert h_model < h_geometric < 1.1 * h_model  # refraction lowers it, but only a little
    assert h_four_thirds < 0.85 * h_model


def test_snr_threshold_sets_the_detection_range() -> None:
    radar = strong_radar(peak_power=1e6)
    rmax = float(radar.detection_range(0.1))
    rng_m = rmax * np.array([0.5, 0.9, 0.99, 1.01, 1.1, 2.0])
    t, r = static_targets(radar, np.zeros(6), np.full(6, 30 * DEG), rng_m)
    det = radar.detect(t, r, rng=np.random.default_rng(0), rcs=0.1)
    assert det.in_view.all()
    np.testing.assert_array_equal(det.visible[:, 0], rng_m <= rmax)
    assert det.snr_db is not None
    np.testing.assert_allclose(det.snr_db[:, 0], radar.snr_db(rng_m, 0.1), rtol=1e-9)
    # per-target RCS (N,) broadcasts over time
    det2 = radar.detect(t, r, rng=np.random.default_rng(0), rcs=np.full(6, 0.1) * 17)
    assert det2.visible[:, 0].tolist() == (rng_m <= 2 * rmax).tolist()


def test_field_of_regard_elevation_window_and_instrumented_range() -> None:
    radar = strong_radar(boresight_az=90 * DEG, az_span=60 * DEG, el_max=40 * DEG,
                         max_range=1000e3)  # fmt: skip
    az = np.array([90, 61, 59, 119, 121, 90, 90, 90]) * DEG
    el = np.array([10, 10, 10, 10, 10, 39, 45, 10]) * DEG
    rg = np.array([500, 500, 500, 500, 500, 500, 500, 1100]) * 1e3
    t, r = static_targets(radar, az, el, rg)
    view = radar.detect(t, r, rng=np.random.default_rng(0)).in_view[:, 0]
    assert view.tolist() == [True, True, False, True, False, True, False, False]


def test_intervals_first_detection_and_downrange() -> None:
    radar = strong_radar(revisit=10.0)
    t = np.arange(0.0, 300.0, 1.0)
    r = rising_column(800e3, 90 * DEG, t, 500.0)
    r[150:200] = np.nan  # a gap in the samples (e.g. outside flight): not visible, no warning
    det = radar.detect(t, r[None], rng=np.random.default_rng(1))
    ivs = det.intervals(0)
    assert len(ivs) == 2 and ivs[0][1] == 149.0 and ivs[1] == (200.0, 299.0)
    first_visible = ivs[0][0]
    assert det.first_detection_time[0] == 10.0 * np.ceil(first_visible / 10.0)
    # downrange measured from the first finite sample (the column's foot): ~0 km
    assert det.first_detection_downrange[0] == pytest.approx(0.0, abs=1.0)
    det_l = radar.detect(t, r[None], rng=np.random.default_rng(1), launch_lat=LAT, launch_lon=LON)
    assert det_l.first_detection_downrange[0] == pytest.approx(800e3, rel=1e-6)
    # one measurement per look while visible, on the revisit grid
    m = det.measurements
    assert m.kind == "rae" and np.all(np.mod(m.time, 10.0) == 0.0)
    assert len(m) == int(det.detected.sum())


def test_measurement_noise_statistics_and_reproducibility() -> None:
    radar = strong_radar(sigma_range=20.0, sigma_az=2e-3, sigma_el=1e-3)
    t, r = static_targets(radar, np.full(400, 1.0), np.full(400, 0.5), np.full(400, 900e3), 20)
    det = radar.detect(t, r, rng=np.random.default_rng(7))
    m = det.measurements
    az, el, rg = earth.ecef2aer(m.truth_ecef, LAT, LON, 0.0)
    err = m.z - np.stack([rg, az, el], axis=-1)
    assert len(m) == 8000
    np.testing.assert_allclose(err.std(axis=0), [20.0, 2e-3, 1e-3], rtol=0.05)
    np.testing.assert_allclose(err.mean(axis=0) / np.array([20.0, 2e-3, 1e-3]), 0.0, atol=0.05)
    again = radar.detect(t, r, rng=np.random.default_rng(7)).measurements
    np.testing.assert_array_equal(again.z, m.z)
    other = radar.detect(t, r, rng=np.random.default_rng(8)).measurements
    assert not np.array_equal(other.z, m.z)


def test_swerling1_detection_frequency() -> None:
    radar = strong_radar(pd_model="swerling1", pfa=1e-6, peak_power=1e6)
    rng_m = float(radar.detection_range(1.0)) * 10 ** (-3.0 / 40.0)  # SNR = threshold + 3 dB
    t, r = static_targets(radar, np.zeros(20), np.full(20, 20 * DEG), np.full(20, rng_m), 500)
    det = radar.detect(t, r, rng=np.random.default_rng(3))
    snr = 10 ** ((radar.snr_threshold_db + 3.0) / 10)
    pd = 1e-6 ** (1 / (1 + snr))
    freq = det.detected.mean()
    assert freq == pytest.approx(pd, abs=4 * np.sqrt(pd * (1 - pd) / det.detected.size))
    assert det.visible.all()


def test_extra_leading_batch_dimensions_pass_through() -> None:
    radar = strong_radar(revisit=5.0)
    t = np.arange(0.0, 200.0, 1.0)
    cols = np.stack([rising_column(d, a, t, 800.0) for d in (300e3, 900e3, 1500e3)
                     for a in (0.0, 2.0)])  # fmt: skip
    flat = radar.detect(t, cols, rng=np.random.default_rng(0))
    nested = radar.detect(t, cols.reshape(3, 2, len(t), 3), rng=np.random.default_rng(0),
                          rcs=np.ones((3, 2)))  # fmt: skip
    assert nested.visible.shape == (3, 2, len(t))
    assert nested.first_detection_time.shape == (3, 2)
    np.testing.assert_array_equal(nested.visible.reshape(6, -1), flat.visible)
    np.testing.assert_array_equal(nested.first_detection_time.ravel(), flat.first_detection_time)
    np.testing.assert_array_equal(nested.measurements.index, flat.measurements.index)
    np.testing.assert_array_equal(nested.measurements.z, flat.measurements.z)
    assert nested.intervals(5) == flat.intervals(5)


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"el_min": 0.3, "el_max": 0.2}, "elevation window"), ({"peak_power": -1.0}, "peak_power"),
     ({"max_range": 0.0}, "max_range"), ({"pd_model": "swerling9"}, "pd_model"),
     ({"pulses": 0}, "pulses"), ({"revisit": float("nan")}, "revisit")],
)  # fmt: skip
def test_radar_rejects_bad_parameters(kw: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        strong_radar(**kw)


def test_detect_rejects_bad_rcs_and_shapes() -> None:
    radar = strong_radar()
    t, r = static_targets(radar, np.zeros(2), np.full(2, 0.5), np.full(2, 1e5))
    with pytest.raises(InputError, match="radar cross-section"):
        radar.detect(t, r, rng=np.random.default_rng(0), rcs=0.0)
    with pytest.raises(InputError, match="expected"):
        radar.detect(t[:2], r, rng=np.random.default_rng(0))


def test_space_ir_sees_the_burning_motor_above_the_clouds() -> None:
    ir = SpaceIR("IR", sat_lons=(10 * DEG, 190 * DEG), cloud_top=10e3, processing_delay=30.0,
                 revisit=10.0, sigma_los=50e-6)  # fmt: skip
    t = np.arange(0.0, 300.0, 1.0)
    r = rising_column(0.0, 0.0, t, 500.0)[None]  # 10 km after 20 s
    burning = (t < 180.0)[None]
    det = ir.detect(t, r, burning, rng=np.random.default_rng(0))
    assert det.intervals(0) == [(20.0, 179.0)]
    assert det.first_detection_time[0] == 20.0 + 30.0
    m = det.measurements
    assert m.kind == "los" and len(m) == 16 and np.all(m.time < 180.0)
    true_los = m.truth_ecef - m.observer_ecef
    true_los /= np.linalg.norm(true_los, axis=-1, keepdims=True)
    ang = np.arccos(np.clip(np.sum(true_los * m.z, axis=-1), -1, 1))
    assert np.all(ang < 5 * 50e-6 * np.sqrt(2)) and np.all(ang > 0)
    np.testing.assert_allclose(np.linalg.norm(m.z, axis=-1), 1.0)
    # a satellite on the far side of the Earth alone cannot see it
    far = SpaceIR("far", sat_lons=(190 * DEG,))
    assert not far.detect(t, r, burning, rng=np.random.default_rng(0)).visible.any()


def test_catalogue_published_ranges_hold_for_the_reference_rcs() -> None:
    radars = [s for s in load_sensors() if s.kind == "radar"]
    assert {s.name for s in radars} >= {"EMR", "TPY-2", "Gabala", "Armavir", "Fylingdales",
                                        "Thule"}  # fmt: skip
    for s in radars:
        assert isinstance(s.model, Radar)
        rng_km = float(s.model.detection_range(s.reference_rcs_m2)) / 1e3
        lo, hi = s.published_range_km
        assert lo * 0.97 <= rng_km <= hi * 1.03, (s.name, rng_km, s.published_range_km)
        assert s.citations
        for key, (a, b) in s.ranges.items():
            assert a <= b, key
    figures = {s.name: float(s.model.detection_range(s.reference_rcs_m2)) / 1e3 for s in radars}
    assert figures["EMR"] == pytest.approx(2000, rel=0.03)
    assert figures["TPY-2"] == pytest.approx(1500, rel=0.03)
    assert figures["Armavir"] == pytest.approx(4000, rel=0.03)
    assert 6000 <= figures["Gabala"] <= 8000
    assert sensor("SpaceIR").kind == "space-ir"


def test_catalogue_lookup() -> None:
    assert sensor("daryal").name == "Gabala"
    assert sensor("an/tpy-2").name == "TPY-2"
    assert [s.name for s in sensors_by_names("EMR, gabala,EMR")] == ["EMR", "Gabala"]
    assert len(sensors_by_names(None)) == len(load_sensors())
    with pytest.raises(UnknownNameError, match="valid: EMR, TPY-2, Gabala"):
        sensor("Krasnoyarsk")

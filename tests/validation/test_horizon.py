"""Effective Earth radius and radar-horizon geometry against independent numeric checks.

* Bean & Dutton, *Radio Meteorology* (NBS Monograph 92, 1966), ch. 3: with a refractivity
  gradient of -39 N-units/km the effective radius is about 4/3 of the true one.
* The closed forms of :mod:`openbmd.radar` (REFERENCES §6: ``h_min = kR (cos e / cos(d/(kR) +
  e) − 1)``) are compared with (a) a brute-force straight-line-of-sight search over the
  effective sphere and (b) ray tracing through a spherically stratified atmosphere whose
  refractive index falls linearly with height, using Bouguer's invariant ``n r cos ψ = const``
  (Born & Wolf, *Principles of Optics*, §3.2) — an independent route to the same horizon.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from openbmd import radar as r
from openbmd.constants import R_EARTH_MEAN

DEG = np.pi / 180.0


def test_effective_radius_is_about_four_thirds() -> None:
    k = float(r.effective_earth_radius()) / R_EARTH_MEAN
    assert k == pytest.approx(4.0 / 3.0, rel=3e-3)
    assert float(r.effective_earth_radius(0.0)) == R_EARTH_MEAN
    # the gradient that makes k exactly 4/3: dN/dh = -1/(4R)
    assert float(r.effective_earth_radius(-1.0 / (4.0 * R_EARTH_MEAN))) == pytest.approx(
        4.0 / 3.0 * R_EARTH_MEAN, rel=1e-12
    )


def _line_clear(a: float, ha: float, ht: float, theta: float, e_min: float | None) -> bool:
    """Brute force: sample the chord between the two points on a sphere of radius a."""
    p0 = np.array([0.0, a + ha])
    p1 = (a + ht) * np.array([np.sin(theta), np.cos(theta)])
    s = np.linspace(0.0, 1.0, 20001)[:, None]
    pts = p0 + s * (p1 - p0)
    if np.min(np.linalg.norm(pts, axis=1)) < a - 1e-7:
        return False
    if e_min is not None:
        d = p1 - p0
        el = np.arctan2(d[1], d[0])  # antenna's local vertical is +y, horizontal +x
        return bool(el >= e_min - 1e-12)
    return True


@pytest.mark.parametrize(
    ("ha", "ht", "e_deg"),
    [(0.0, 100e3, None), (30.0, 0.0, None), (500.0, 300e3, None), (0.0, 1000e3, 1.0),
     (100.0, 200e3, 3.0), (0.0, 50e3, 0.0)],
)  # fmt: skip
def test_horizon_ground_range_matches_brute_force(
    ha: float, ht: float, e_deg: float | None
) -> None:
    k = 4.0 / 3.0
    a = k * R_EARTH_MEAN
    e = None if e_deg is None else e_deg * DEG
    d = float(r.horizon_ground_range(ha, ht, e, k))
    theta = d / a
    assert _line_clear(a, ha, ht, theta * (1 - 1e-4), e)
    assert not _line_clear(a, ha, ht, theta * (1 + 1e-3) + 1e-9, e)


@pytest.mark.parametrize("e_deg", [0.0, 0.5, 2.0, 10.0])
def test_min_visible_altitude_inverts_horizon_ground_range(e_deg: float) -> None:
    d = np.linspace(50e3, 3000e3, 25)
    h = r.min_visible_altitude(d, e_deg * DEG)
    back = r.horizon_ground_range(0.0, h, e_deg * DEG)
    np.testing.assert_allclose(back, d, rtol=1e-9)


def _ray_traced_ground_range(ha: float, ht: float, gradient: float) -> float:
    """Ground range to the grazing ray's arrival at ht in a linear-refractivity atmosphere."""
    big_r = R_EARTH_MEAN
    n0 = 1.000315

    def n(rr: float) -> float:
        return n0 + gradient * (rr - big_r)

    c = n(big_r) * big_r  # grazing at the surface: n r cos(0)

    def dtheta(rr: float) -> float:  # dθ/dr along the ray = c / (r sqrt(n² r² − c²))
        return c / (rr * np.sqrt(max(n(rr) ** 2 * rr**2 - c**2, 1e-300)))

    # substitute r = R + u² near the turning point to remove the 1/sqrt singularity
    def leg(h: float) -> float:
        return quad(lambda u: dtheta(big_r + u * u) * 2 * u, 0.0, np.sqrt(h), limit=200)[0]

    return big_r * (leg(ha) + leg(ht))


@pytest.mark.parametrize(("ha", "ht"), [(0.0, 1000.0), (100.0, 5000.0), (500.0, 10000.0)])
def test_four_thirds_horizon_agrees_with_ray_tracing(ha: float, ht: float) -> None:
    traced = _ray_traced_ground_range(ha, ht, r.REFRACTIVITY_GRADIENT)
    closed = float(r.horizon_ground_range(ha, ht, None, k=None))
    # the effective-Earth model is exact to first order in the gradient; ≲ 0.1 % here
    assert closed == pytest.approx(traced, rel=2e-3)
    # and refraction matters: the geometric horizon is ~13 % shorter
    geometric = float(r.horizon_ground_range(ha, ht, None, k=1.0))
    assert geometric < 0.9 * traced


def test_min_visible_altitude_formula_by_root_finding() -> None:
    # h_min(d) solves "the ray leaving at e just reaches (d, h)" — find it by bisection
    a = 4.0 / 3.0 * R_EARTH_MEAN
    e = 1.0 * DEG
    for d in (200e3, 1500e3, 4000e3):
        theta = d / a

        def miss(h: float, th: float = theta) -> float:
            p1 = (a + h) * np.array([np.sin(th), np.cos(th)])
            return float(np.arctan2(p1[1] - a, p1[0]) - e)

        h_root = brentq(miss, 0.0, 1e8, xtol=1e-6)
        assert float(r.min_visible_altitude(d, e)) == pytest.approx(h_root, rel=1e-9)

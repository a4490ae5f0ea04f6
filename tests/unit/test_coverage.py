"""Coverage: grid axes, chunking independence, monotonicity, the Dataset layout."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import legacy_architecture

from openbmd import catalog
from openbmd.analysis.footprint import (
    footprint,
    grid_axes,
    population_summary,
    threat_lattice,
)
from openbmd.architecture import Architecture
from openbmd.constants import DEG
from openbmd.errors import InputError

SITE = (54.48 * DEG, 17.10 * DEG)
TABRIZ = (38.08 * DEG, 46.29 * DEG)


defence = legacy_architecture


def lattice(d: Architecture, chunk: int = 4096):
    return threat_lattice(
        d,
        catalog.missile("IRBM"),
        *TABRIZ,
        (295 * DEG, 315 * DEG),
        (1500e3, 3300e3),
        5 * DEG,
        450e3,
        chunk,
    )


def test_grid_axes_and_errors():
    lats, lons = grid_axes((35.0, 72.0, -12.0, 45.0), 0.5)
    assert lats.size == 74 and lons.size == 114
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(InputError):
            grid_axes((35.0, 72.0, -12.0, 45.0), bad)
    with pytest.raises(InputError):
        grid_axes((50.0, 40.0, 0.0, 10.0), 1.0)
    with pytest.raises(InputError):
        grid_axes((35.0, 72.0, -12.0, 45.0), 100.0)


def test_lattice_is_independent_of_chunking():
    a = lattice(defence(), chunk=4096)
    b = lattice(defence(), chunk=7)
    for x, y in (
        (a.impact_lat, b.impact_lat),
        (a.slack, b.slack),
        (a.shots, b.shots),
        (a.intercept_alt, b.intercept_alt),
    ):
        np.testing.assert_array_equal(x, y)


def kinematic(d: Architecture) -> Architecture:
    """The divert and seeker-view rules off: a faster interceptor closes faster and leaves its
    seeker less time-to-go (Δv = miss / t_go; a coast-limited acquisition range shrinks the
    seeker's view), and it meets the threat in another miss plane of the anisotropic track
    covariance, so its latest launch may come earlier; the nesting of the reachable sets in
    burnout speed is a property of the kinematic battle space."""
    return d.with_overrides(divert=math.inf, seeker_fov=math.pi)


def test_faster_interceptor_and_earlier_cueing_never_shrink():
    base = lattice(defence())
    own = lattice(defence(mode="own-radar"))  # later (or equal) cue than early-warning
    fast = lattice(defence(8300.0))
    assert np.all((fast.slack >= 0) >= (base.slack >= 0))
    fast_k, base_k = lattice(kinematic(defence(8300.0))), lattice(kinematic(defence()))
    assert np.all(fast_k.slack >= base_k.slack - 1.0)  # 1 s: fan interpolation
    assert np.all(base.slack >= own.slack)
    assert np.all((base.slack >= 0) >= (own.slack >= 0))


def test_footprint_dataset():
    ds = footprint(
        defence(),
        catalog.missile("IRBM"),
        [("Tabriz", *TABRIZ)],
        (46.0, 56.0, 10.0, 24.0),
        2.0,
        catalog_cities(),
        az_step=4 * DEG,
        range_step=400e3,
    )
    assert ds["defended"].dims == ("lat", "lon")
    assert ds["intercept_altitude"].attrs["units"] == "m"
    assert ds["defended"].dtype == bool and ds["defended"].any()
    assert np.all(ds["defended"].values <= ds["threatened"].values)
    s = population_summary(ds)
    assert 0.0 <= s["population_defended_fraction"] <= 1.0


def catalog_cities():
    from openbmd.catalog.places import load_cities

    return load_cities()


@pytest.mark.parametrize(("slow", "fast"), [(5400.0, 6300.0), (6300.0, 8300.0)])
def test_footprint_and_window_monotone_in_burnout_speed(slow, fast):
    """Energy management (thrust cut-off rungs) lets a faster interceptor do what a slower one
    does: on the small lattice, every threat defended by the slower one is defended by the
    faster one, whose latest launch is no earlier in the kinematic battle space (1 s: fan
    interpolation)."""
    a, b = lattice(defence(slow)), lattice(defence(fast))
    assert np.all((b.slack >= 0) >= (a.slack >= 0))
    a, b = lattice(kinematic(defence(slow))), lattice(kinematic(defence(fast)))
    assert np.all(b.slack >= a.slack - 1.0)

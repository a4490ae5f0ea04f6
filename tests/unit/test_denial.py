"""The reverse (denial) map: layout, reach, chunk independence, monotone in cueing and speed."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from _helpers import legacy_architecture

from openbmd import catalog
from openbmd.analysis.denial import deny_map, deny_summary
from openbmd.constants import DEG
from openbmd.errors import InputError

TARGETS = tuple(
    (n, catalog.site(n).lat_deg * DEG, catalog.site(n).lon_deg * DEG) for n in ("Berlin", "Warsaw")
)
# Launch cells from the Caspian to the Gulf, 4 deg apart; the eastern ones are beyond an
# IRBM's reach of both targets.
REGION = (30.0, 42.0, 44.0, 68.0)
SITE = (54.48 * DEG, 17.10 * DEG)


defence = legacy_architecture


@functools.cache
def deny(speed: float = 6300.0, mode: str = "early-warning", chunk: int = 1024):
    return deny_map(defence(speed, mode), catalog.missile("IRBM"), TARGETS, REGION, 4.0, chunk)


def test_dataset_layout_and_units():
    ds = deny()
    assert ds["denied"].dims == ("lat", "lon", "target")
    assert ds["denied_fraction"].dims == ("lat", "lon")
    for name in ds.variables:
        assert "units" in ds[name].attrs or name == "target"
    assert ds["in_reach"].values.any()
    assert np.all(ds["denied"].values <= ds["in_reach"].values)
    s = deny_summary(ds)
    assert s["launch_cells"] == ds["denied_fraction"].size
    assert 0 <= s["launch_cells_fully_denied"] <= s["launch_cells_in_reach_of_a_target"]


def test_beyond_reach_is_never_deniable():
    ds = deny()
    none = ds["targets_in_reach"].values == 0
    assert none.any()  # the eastern cells
    assert not ds["denied_all"].values[none].any()
    assert np.all(np.isnan(ds["denied_fraction"].values[none]))
    assert not ds["denied"].values[none].any()


def test_independent_of_chunking():
    a, b = deny(), deny(chunk=7)
    for name in ("in_reach", "denied", "shot_opportunities", "targets_denied"):
        np.testing.assert_array_equal(a[name].values, b[name].values)


def test_earlier_cueing_never_shrinks_the_denied_area():
    ew, own = deny(), deny(mode="own-radar")  # own-radar cues later (or equally)
    assert np.all(ew["denied"].values >= own["denied"].values)


@pytest.mark.slow
def test_faster_interceptor_never_shrinks_the_denied_area():
    slow, fast = deny(5400.0), deny(8300.0)
    assert np.all(fast["denied"].values >= slow["denied"].values)


def test_bad_input():
    with pytest.raises(InputError):
        deny_map(defence(), catalog.missile("IRBM"), (), REGION, 4.0)
    with pytest.raises(InputError):
        deny_map(defence(), catalog.missile("IRBM"), TARGETS, REGION, 0.0)

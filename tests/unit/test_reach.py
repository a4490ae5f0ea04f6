"""Reach of Iskander-class missiles from the Kaliningrad basing areas (REFERENCES §5)."""

from __future__ import annotations

import numpy as np
import pytest

from openbmd.earth import geodesic_inverse
from openbmd.errors import InputError
from openbmd.reach import range_ring, reach

KALININGRAD = (54.71, 20.51)
PLACES = {"Warsaw": (52.23, 21.01), "Redzikowo": (54.48, 17.10), "Berlin": (52.52, 13.40)}


def _reach(launches, range_km):
    names = list(PLACES)
    lat, lon = np.radians(np.array([PLACES[n] for n in names]).T)
    llat, llon = np.radians(np.array(list(launches.values())).T)
    return reach(list(launches), llat, llon, names, lat, lon, range_km * 1e3)


def test_kaliningrad_500km_contains_warsaw_and_redzikowo_not_berlin():
    r = _reach({"Kaliningrad": KALININGRAD}, 500.0)
    d_km = dict(zip(r.place_names, r.distance_m / 1e3, strict=True))
    assert d_km["Warsaw"] == pytest.approx(278.0, abs=3.0)
    assert d_km["Redzikowo"] == pytest.approx(222.0, abs=3.0)
    assert d_km["Berlin"] == pytest.approx(530.0, abs=3.0)
    inside = dict(zip(r.place_names, r.inside, strict=True))
    assert inside == {"Warsaw": True, "Redzikowo": True, "Berlin": False}


def test_nearest_of_several_launch_points():
    r = _reach({"Kaliningrad": KALININGRAD, "Baltiysk": (54.65, 19.91)}, 500.0)
    i = r.place_names.index("Berlin")
    assert r.nearest_launch(i) == "Baltiysk"
    assert r.distance_m[i] / 1e3 == pytest.approx(492.0, abs=3.0)
    assert r.inside[i]


@pytest.mark.parametrize("range_km", [50.0, 500.0, 2000.0])
def test_ring_points_lie_at_range(range_km):
    lat0, lon0 = np.radians(KALININGRAD)
    lat, lon = range_ring(lat0, lon0, range_km * 1e3, n_points=90)
    assert lat.shape == (91,)
    assert lat[0] == lat[-1] and lon[0] == lon[-1]
    d, _, _ = geodesic_inverse(lat0, lon0, lat, lon)
    assert np.max(np.abs(d - range_km * 1e3)) < 1.0


def test_ring_is_counter_clockwise():
    lat, lon = range_ring(*np.radians(KALININGRAD), 500e3)
    x, y = np.degrees(lon), np.degrees(lat)
    assert 0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) > 0


@pytest.mark.parametrize("bad", [0.0, -5.0, float("nan"), 3e7])
def test_bad_range(bad):
    with pytest.raises(InputError):
        range_ring(0.9, 0.3, bad)


def test_city_table():
    from openbmd.catalog import load_sites
    from openbmd.catalog.places import load_cities

    cities = {c.name: c for c in load_cities()}
    assert len(cities) >= 60
    assert all(c.source and c.population > 0 for c in cities.values())
    for s in load_sites():  # the REFERENCES §5 cities, with the same coordinates
        if s.role == "city":
            c = cities[s.name]
            assert (c.lat_deg, c.lon_deg) == (s.lat_deg, s.lon_deg)

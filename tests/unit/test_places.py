"""The one place lookup: sites, cities, LAT,LON; case and accents ignored (issue 11, item 7)."""

from __future__ import annotations

import math

import pytest

from openbmd.catalog import find_by_name, fold_name, load_places, parse_places, place
from openbmd.errors import InputError, UnknownNameError


def test_fold_name() -> None:
    assert fold_name("Zürich") == fold_name("Zurich") == fold_name(" ZURICH ") == "zurich"
    assert fold_name("Kraków") == "krakow" and fold_name("Straße") == "strasse"


@pytest.mark.parametrize("name", ["Zürich", "Zurich", "zurich"])
def test_find_by_name_ignores_accents(name: str) -> None:
    assert place(name).name == "Zurich"


def test_find_by_name_matches_accented_catalogue_names() -> None:
    class Item:
        name = "Malmö"
        aliases = ("Malmoe",)

    assert find_by_name([Item()], "malmo", "city", "city").name == "Malmö"
    assert find_by_name([Item()], "MALMOE", "city", "city").name == "Malmö"


def test_sites_and_cities_are_one_catalogue() -> None:
    kinds = {p.name: p for p in load_places()}
    assert kinds["Redzikowo"].kind == "site"
    assert kinds["Gothenburg"].kind == "city" and kinds["Gothenburg"].population
    assert kinds["Berlin"].kind == "city" and kinds["Berlin"].population  # a site and a city
    assert len({fold_name(n) for n in kinds}) == len(load_places())


def test_lat_lon_and_its_range() -> None:
    p = place(" 35.5,-120 ", "launch")
    assert (p.name, p.lat_deg, p.lon_deg, p.kind) == ("35.5,-120", 35.5, -120.0, "point")
    assert place("0,180").lon_deg == 180.0 and place("-90,-180").lat_deg == -90.0
    for bad in ("40,200", "91,0", "nan,0", "0,inf", "1,2,3", "a,b"):
        with pytest.raises(InputError) as info:
            place(bad, "target")
        assert info.value.field == "target"


def test_parse_places_mixes_names_and_points_with_indexed_fields() -> None:
    got = parse_places("Tehran,35,51;zürich", "launch_area")
    assert [p.name for p in got] == ["Tehran", "35,51", "Zurich"]
    assert all(math.isfinite(p.lat_deg) for p in got)
    with pytest.raises(UnknownNameError) as info:
        parse_places("Tehran;Atlantis", "launch_area")
    assert info.value.field == "launch_area[1]"
    with pytest.raises(InputError) as info2:
        parse_places("Tehran;35", "launch_area")
    assert info2.value.field == "launch_area[1]"
    with pytest.raises(InputError):
        parse_places(" ; ", "launch_area")

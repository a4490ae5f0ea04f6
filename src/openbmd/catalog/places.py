"""Named places: the sites of ``data/sites.yaml`` and the European city table.

Sites are launch areas, defence sites and radars (``data/sites.yaml``, each with its source).

``data/cities.csv`` lists European capitals and large cities with approximate centre
coordinates (degrees) and a population from a public statistics office, one source and year per
row (``source`` column). Definitions differ between countries (municipality, city proper,
province for Turkey, region for Brussels) and are named in the source; figures are rounded to
the nearest thousand. The cities named in REFERENCES §5 carry exactly its coordinates.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from importlib import resources

from openbmd.catalog._yaml import find_by_name, read_data_yaml, require
from openbmd.errors import ScenarioError, UnknownNameError


@dataclass(frozen=True)
class Site:
    """A named place: a launch area, a defence site, a radar or a city (degrees at the edge)."""

    name: str
    lat_deg: float
    lon_deg: float
    role: str
    country: str = ""


@functools.cache
def load_sites() -> tuple[Site, ...]:
    """The named places of ``data/sites.yaml``."""
    doc = read_data_yaml("sites.yaml")
    out = []
    for i, entry in enumerate(doc.get("sites", [])):
        where = f"data/sites.yaml: sites[{i}]"
        site = Site(
            name=require(entry, "name", where, str),
            lat_deg=require(entry, "lat_deg", where),
            lon_deg=require(entry, "lon_deg", where),
            role=require(entry, "role", where, str),
            country=str(entry.get("country", "")),
        )
        if not -90.0 <= site.lat_deg <= 90.0:
            raise ScenarioError(f"{where}.lat_deg: {site.lat_deg} is outside [-90, 90]")
        out.append(site)
    return tuple(out)


def site(name: str, field: str = "--site") -> Site:
    """Look up one named place."""
    return find_by_name(load_sites(), name, "site", field)


CITY_COLUMNS = ("name", "country", "lat_deg", "lon_deg", "population", "source")


@dataclass(frozen=True)
class City:
    """A city with its population and the statistic it comes from."""

    name: str
    country: str
    lat_deg: float
    lon_deg: float
    population: int
    source: str


def _parse_row(row: dict[str, str], where: str) -> City:
    try:
        city = City(
            name=row["name"].strip(),
            country=row["country"].strip(),
            lat_deg=float(row["lat_deg"]),
            lon_deg=float(row["lon_deg"]),
            population=int(row["population"]),
            source=row["source"].strip(),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{where}: malformed row ({exc})") from exc
    if not city.name or not city.source:
        raise ScenarioError(f"{where}: name and source must not be empty")
    if not (math.isfinite(city.lat_deg) and -90.0 <= city.lat_deg <= 90.0):
        raise ScenarioError(f"{where}.lat_deg: {city.lat_deg} is outside [-90, 90]")
    if not (math.isfinite(city.lon_deg) and -180.0 <= city.lon_deg <= 180.0):
        raise ScenarioError(f"{where}.lon_deg: {city.lon_deg} is outside [-180, 180]")
    if city.population < 0:
        raise ScenarioError(f"{where}.population: {city.population} is negative")
    return city


def parse_cities(text: str, filename: str = "data/cities.csv") -> tuple[City, ...]:
    """Parse a city table in the ``cities.csv`` format (header ``name,country,lat_deg,...``)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CITY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ScenarioError(f"{filename}: missing column(s) {', '.join(missing)}")
    cities = tuple(
        _parse_row(row, f"{filename}:{i + 2}") for i, row in enumerate(reader)
    )  # line 1 is the header
    seen: set[str] = set()
    for city in cities:
        key = city.name.casefold()
        if key in seen:
            raise ScenarioError(f"{filename}: duplicate city {city.name!r}")
        seen.add(key)
    return cities


@functools.cache
def load_cities() -> tuple[City, ...]:
    """The bundled table of European capitals and large cities (``data/cities.csv``)."""
    path = resources.files("openbmd").joinpath("data", "cities.csv")
    return parse_cities(path.read_text(encoding="utf-8"))


def city(name: str, field: str = "--city") -> City:
    """Look up one city by name (case-insensitive); the error lists the valid names."""
    key = name.strip().casefold()
    for c in load_cities():
        if c.name.casefold() == key:
            return c
    valid = ", ".join(c.name for c in load_cities())
    raise UnknownNameError(f"{field}: unknown city {name!r}; valid: {valid}")

"""Named places: the sites of ``data/sites.yaml``, the European city table, and the one lookup.

:func:`place` (one value) and :func:`parse_places` (a list) are the one way every command reads
a place: a site name, a city name or ``LAT,LON`` in degrees (−90 ≤ lat ≤ 90,
−180 ≤ lon ≤ 180, finite). Names match ignoring case and accents. Errors carry the field path.

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

from openbmd.catalog._yaml import find_by_name, fold_name, read_data_yaml, require
from openbmd.errors import InputError, ScenarioError


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
        if not -180.0 <= site.lon_deg <= 180.0:
            raise ScenarioError(f"{where}.lon_deg: {site.lon_deg} is outside [-180, 180]")
        out.append(site)
    return tuple(out)


def site(name: str, field: str = "site") -> Site:
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
        key = fold_name(city.name)
        if key in seen:
            raise ScenarioError(f"{filename}: duplicate city {city.name!r}")
        seen.add(key)
    return cities


@functools.cache
def load_cities() -> tuple[City, ...]:
    """The bundled table of European capitals and large cities (``data/cities.csv``)."""
    path = resources.files("openbmd").joinpath("data", "cities.csv")
    return parse_cities(path.read_text(encoding="utf-8"))


def city(name: str, field: str = "city") -> City:
    """Look up one city by name (ignoring case and accents); the error lists the valid names."""
    found: City = find_by_name(load_cities(), name, "city", field)
    return found


# ------------------------------------------------------------------------- the one place lookup

LAT_LON_HINT = "LAT,LON (two numbers in degrees, e.g. 35.69,51.39)"


@dataclass(frozen=True)
class Place:
    """A place as a command uses it: a site, a city or a bare ``LAT,LON`` point (degrees)."""

    name: str
    lat_deg: float
    lon_deg: float
    kind: str  # "site" | "city" | "point"
    country: str = ""
    population: int | None = None


@functools.cache
def load_places() -> tuple[Place, ...]:
    """Every named place: the sites, then the cities not already named among them.

    A site whose role is ``city`` takes its population from the city table when listed there.
    """
    cities = {fold_name(c.name): c for c in load_cities()}
    out = []
    for s in load_sites():
        c = cities.pop(fold_name(s.name), None) if s.role == "city" else None
        kind = "city" if s.role == "city" else "site"
        out.append(
            Place(s.name, s.lat_deg, s.lon_deg, kind, s.country, c.population if c else None)
        )
    names = {fold_name(p.name) for p in out}
    out += [
        Place(c.name, c.lat_deg, c.lon_deg, "city", c.country, c.population)
        for key, c in cities.items()
        if key not in names
    ]
    return tuple(out)


def check_lat_lon(lat_deg: float, lon_deg: float, field: str) -> None:
    """Reject a latitude outside [-90, 90], a longitude outside [-180, 180], NaN or infinity.

    Raises
    ------
    InputError
        Carrying ``field``.
    """
    if not (math.isfinite(lat_deg) and -90.0 <= lat_deg <= 90.0):
        raise InputError(field=field, message=f"latitude {lat_deg:g} is outside [-90, 90] degrees")
    if not (math.isfinite(lon_deg) and -180.0 <= lon_deg <= 180.0):
        raise InputError(
            field=field, message=f"longitude {lon_deg:g} is outside [-180, 180] degrees"
        )


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def point(lat_deg: float, lon_deg: float, field: str) -> Place:
    """A checked ``LAT,LON`` point named ``"lat,lon"``."""
    check_lat_lon(lat_deg, lon_deg, field)
    return Place(f"{lat_deg:g},{lon_deg:g}", lat_deg, lon_deg, "point")


def place(text: str, field: str = "place") -> Place:
    """Resolve a site name, a city name or ``LAT,LON`` (degrees) to a :class:`Place`.

    Parameters
    ----------
    text : str
        The user's value.
    field : str
        Field path of the value, carried by any error (``launch``, ``batteries[0].site``).

    Raises
    ------
    InputError
        If ``text`` has a comma but is not two numbers, or the point is off the globe.
    UnknownNameError
        If the name is neither a site nor a city; the message lists the valid names.
    """
    text = text.strip()
    if "," not in text:
        found: Place = find_by_name(load_places(), text, "place", field)
        return found
    parts = [_number(p) for p in text.split(",")]
    if len(parts) != 2 or parts[0] is None or parts[1] is None:
        raise InputError(field=field, message=f"{text!r} is not {LAT_LON_HINT}")
    return point(parts[0], parts[1], field)


def parse_places(text: str, field: str = "places") -> list[Place]:
    """Resolve a list of places: ``NAME[,NAME…]`` and/or ``LAT,LON[;LAT,LON…]``.

    Names may be separated by ``,`` or ``;``; a number is always read together with the next
    one as ``LAT,LON``. The ``k``-th place's errors carry ``field[k]``.

    Raises
    ------
    InputError
        If no place is given, or a latitude has no longitude after it.
    UnknownNameError
        If a name is neither a site nor a city.
    """
    tokens = [t.strip() for part in text.split(";") for t in part.split(",")]
    tokens = [t for t in tokens if t]
    if not tokens:
        raise InputError(field=field, message=f"no place given in {text!r}")
    out: list[Place] = []
    i = 0
    while i < len(tokens):
        where = f"{field}[{len(out)}]"
        lat = _number(tokens[i])
        if lat is None:
            out.append(place(tokens[i], where))
            i += 1
            continue
        lon = _number(tokens[i + 1]) if i + 1 < len(tokens) else None
        if lon is None:
            raise InputError(
                field=where,
                message=f"latitude {tokens[i]} is not followed by a longitude (use {LAT_LON_HINT})",
            )
        out.append(point(lat, lon, where))
        i += 2
    return out

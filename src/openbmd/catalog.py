"""Catalogue files of the package (``openbmd/data/*.yaml``) turned into core objects.

This is a user layer: it reads YAML and validates it, so the core never has to. Every
problem is reported as :class:`~openbmd.errors.ScenarioError` naming the file and field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from openbmd.errors import ScenarioError, UnknownNameError


@dataclass(frozen=True)
class Site:
    """A named place: a launch area, a defence site, a radar or a city (degrees at the edge)."""

    name: str
    lat_deg: float
    lon_deg: float
    role: str
    country: str = ""


def read_data_yaml(filename: str) -> dict[str, Any]:
    """Read one YAML file shipped in ``openbmd/data``."""
    path = resources.files("openbmd").joinpath("data", filename)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"data/{filename}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ScenarioError(f"data/{filename}: expected a mapping at the top level")
    return doc


def require(entry: dict[str, Any], key: str, where: str, kind: type = float) -> Any:
    """Fetch ``entry[key]`` converted to ``kind``, or raise naming ``where.key``."""
    if key not in entry:
        raise ScenarioError(f"{where}: missing field {key!r}")
    try:
        return kind(entry[key])
    except (TypeError, ValueError) as exc:
        raise ScenarioError(
            f"{where}.{key}: {entry[key]!r} is not a valid {kind.__name__}"
        ) from exc


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


def find_by_name(items: Any, name: str, kind: str, field: str) -> Any:
    """Find ``name`` (case-insensitive) among objects with a ``name`` and optional ``aliases``.

    Raises :class:`UnknownNameError` naming ``field`` and listing the valid names.
    """
    key = name.strip().casefold()
    for item in items:
        if key == item.name.casefold() or key in (
            a.casefold() for a in getattr(item, "aliases", ())
        ):
            return item
    valid = ", ".join(item.name for item in items)
    raise UnknownNameError(f"{field}: unknown {kind} {name!r}; valid: {valid}")


def check_unique_names(items: Any, where: str, kind: str) -> None:
    """Reject a catalogue whose names repeat (case-insensitive)."""
    names = [item.name.casefold() for item in items]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{where}: {kind} names must be unique")


def site(name: str, field: str = "--site") -> Site:
    """Look up one named place."""
    return find_by_name(load_sites(), name, "site", field)


def _stage(entry: dict[str, Any], where: str) -> Any:
    from openbmd.missiles import Stage

    isp = entry.get("isp_s")
    thrust = entry.get("thrust_n")
    return Stage(
        gross_mass=require(entry, "gross_mass_kg", where),
        propellant_mass=require(entry, "propellant_mass_kg", where),
        burn_time=require(entry, "burn_time_s", where),
        diameter=require(entry, "diameter_m", where),
        isp=None if isp is None else float(isp),
        thrust=None if thrust is None else float(thrust),
    )


@functools.cache
def load_missiles() -> tuple[Any, ...]:
    """The missile classes of ``data/missiles.yaml`` as :class:`openbmd.missiles.Missile`."""
    from openbmd.errors import InputError
    from openbmd.missiles import Missile

    doc = read_data_yaml("missiles.yaml")
    out = []
    for i, entry in enumerate(doc.get("missiles", [])):
        where = f"data/missiles.yaml: missiles[{i}]"
        try:
            stages = tuple(
                _stage(s, f"{where}.stages[{j}]") for j, s in enumerate(entry.get("stages", []))
            )
            drag = entry.get("drag", {})
            kwargs: dict[str, Any] = {}
            if drag:
                kwargs["drag_mach"] = tuple(float(x) for x in drag["mach"])
                kwargs["drag_cd"] = tuple(float(x) for x in drag["cd"])
            out.append(
                Missile(
                    name=require(entry, "name", where, str),
                    stages=stages,
                    rv_mass=require(entry, "rv_mass_kg", where),
                    rv_beta=require(entry, "rv_beta_kg_m2", where),
                    nominal_range=require(entry, "nominal_range_km", where) * 1e3,
                    pitch_vertical_time=float(entry.get("vertical_time_s", 10.0)),
                    pitch_kick_time=float(entry.get("kick_time_s", 10.0)),
                    klass=str(entry.get("class", "")),
                    propellant=str(entry.get("propellant", "")),
                    source=str(entry.get("source", "")),
                    aliases=tuple(str(a) for a in entry.get("aliases", [])),
                    **kwargs,
                )
            )
        except InputError as exc:
            raise ScenarioError(f"{where}: {exc}") from exc
    check_unique_names(out, "data/missiles.yaml", "missile")
    return tuple(out)


def missile(name: str, field: str = "--missile") -> Any:
    """Look up a missile class by name or alias (case-insensitive)."""
    return find_by_name(load_missiles(), name, "missile", field)

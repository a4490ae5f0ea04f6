"""The missile classes of ``data/missiles.yaml`` as :class:`openbmd.missiles.Missile`."""

from __future__ import annotations

import functools
from typing import Any

from openbmd.catalog._yaml import check_unique_names, find_by_name, read_data_yaml, require
from openbmd.errors import InputError, ScenarioError
from openbmd.missiles import Missile, Stage


def _stage(entry: dict[str, Any], where: str) -> Any:
    isp, thrust, exit_area = (
        require(entry, key, where) if entry.get(key) is not None else None
        for key in ("isp_s", "thrust_n", "exit_area_m2")
    )
    gross = require(entry, "gross_mass_kg", where)
    prop = require(entry, "propellant_mass_kg", where)
    burn = require(entry, "burn_time_s", where)
    diameter = require(entry, "diameter_m", where)
    try:
        return Stage(
            gross_mass=gross,
            propellant_mass=prop,
            burn_time=burn,
            diameter=diameter,
            isp=isp,
            thrust=thrust,
            exit_area=exit_area,
        )
    except (InputError, TypeError, ValueError) as exc:  # the stage it came from, by path
        raise ScenarioError(f"{where}: {exc}") from exc


def _flag(entry: dict[str, Any], key: str, where: str) -> bool:
    if key not in entry:
        raise ScenarioError(f"{where}: missing field {key!r}")
    value = entry[key]
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}.{key}: {value!r} is not a valid bool (true or false)")
    return value


def missile_from_entry(entry: dict[str, Any], where: str) -> Missile:
    """One missile class from its ``data/missiles.yaml`` fields (units in the key names)."""
    try:
        stages = tuple(
            _stage(s, f"{where}.stages[{j}]") for j, s in enumerate(entry.get("stages", []))
        )
        drag = entry.get("drag") or {}
        kwargs: dict[str, Any] = {}
        if drag:
            kwargs["drag_mach"] = tuple(float(x) for x in drag["mach"])
            kwargs["drag_cd"] = tuple(float(x) for x in drag["cd"])
        return Missile(
            name=require(entry, "name", where, str),
            stages=stages,
            rv_mass=require(entry, "rv_mass_kg", where),
            rv_beta=require(entry, "rv_beta_kg_m2", where),
            nominal_range=require(entry, "nominal_range_km", where) * 1e3,
            pitch_vertical_time=float(entry.get("vertical_time_s", 10.0)),
            pitch_kick_time=float(entry.get("kick_time_s", 10.0)),
            klass=str(entry.get("class", "")),
            propellant=str(entry.get("propellant") or ""),
            thrust_termination=_flag(entry, "thrust_termination", where),
            source=str(entry.get("source", "")),
            aliases=tuple(str(a) for a in entry.get("aliases", [])),
            **kwargs,
        )
    except InputError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


@functools.cache
def load_missiles() -> tuple[Any, ...]:
    """The missile classes of ``data/missiles.yaml`` as :class:`openbmd.missiles.Missile`."""
    doc = read_data_yaml("missiles.yaml")
    out = [
        missile_from_entry(entry, f"data/missiles.yaml: missiles[{i}]")
        for i, entry in enumerate(doc.get("missiles", []))
    ]
    check_unique_names(out, "data/missiles.yaml", "missile")
    return tuple(out)


def missile(name: str, field: str = "missile") -> Any:
    """Look up a missile class by name or alias (case-insensitive)."""
    return find_by_name(load_missiles(), name, "missile", field)

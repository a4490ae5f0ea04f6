"""The architecture catalogue (``data/architectures.yaml``) turned into core
:class:`openbmd.architecture.Architecture` objects.

A user layer: it reads and validates YAML so the core does not. Sites, sensors and interceptors
are looked up in their own catalogues (so an entry can name only known parts); units are in the
YAML key names and converted to SI here. Every problem is a
:class:`~openbmd.errors.ScenarioError` naming the file and field.
"""

from __future__ import annotations

import functools
from typing import Any

from openbmd.architecture import Architecture, Battery, CommandRules, SensorRole
from openbmd.catalog._yaml import (
    check_unique_names,
    entries,
    find_by_name,
    read_data_yaml,
    require,
)
from openbmd.catalog.interceptors import interceptor
from openbmd.catalog.places import site
from openbmd.catalog.sensors import rcs_for, sensor
from openbmd.constants import DEG
from openbmd.errors import InputError, ScenarioError

__all__ = [
    "architecture",
    "battery_from_entry",
    "load_architectures",
    "rules_from_entry",
    "sensor_role_from_entry",
]

FILE = "data/architectures.yaml"


def battery_from_entry(entry: dict[str, Any], where: str) -> Battery:
    place = site(require(entry, "site", where, str), f"{where}.site")
    icp = interceptor(require(entry, "interceptor", where, str), f"{where}.interceptor")
    return Battery(
        site=place.name,
        lat=place.lat_deg * DEG,
        lon=place.lon_deg * DEG,
        interceptor=icp.model,
        inventory=require(entry, "inventory", where, int),
        doctrine=str(entry.get("doctrine", "shoot-look-shoot")),
        salvo_size=int(entry.get("salvo_size", 1)),
    )


def sensor_role_from_entry(entry: dict[str, Any], where: str) -> SensorRole:
    s = sensor(require(entry, "name", where, str), f"{where}.name")
    return SensorRole(
        sensor=s.model,
        role=require(entry, "role", where, str),
        owner=str(entry.get("owner", "US")),
        latency=float(entry.get("latency_s", 0.0)),
        via_exchange=bool(entry.get("via_exchange", False)),
        rcs=rcs_for(s, None),
        needs_cue=bool(entry.get("needs_cue", False)),
        track_capacity=(
            int(entry["track_capacity"]) if "track_capacity" in entry else s.track_capacity
        ),
    )


def rules_from_entry(entry: dict[str, Any], where: str) -> CommandRules:
    dd = entry.get("decision_delay_s")
    return CommandRules(
        commit=str(entry.get("commit", "fire-control-track")),
        fire_control_needs_cue=bool(entry.get("fire_control_needs_cue", True)),
        decision_delay=None if dd is None else float(dd),
        track_delay=float(entry.get("track_delay_s", 60.0)),
        cue_delay=float(entry.get("cue_delay_s", 60.0)),
        kill_assessment=float(entry.get("kill_assessment_s", 60.0)),
    )


def _entry(entry: dict[str, Any], where: str) -> Architecture:
    try:
        return Architecture(
            name=require(entry, "name", where, str),
            era=require(entry, "era", where, str),
            source=require(entry, "source", where, str),
            batteries=tuple(
                battery_from_entry(b, f"{where}.batteries[{j}]")
                for j, b in enumerate(entry.get("batteries") or [])
            ),
            sensors=tuple(
                sensor_role_from_entry(s, f"{where}.sensors[{j}]")
                for j, s in enumerate(entry.get("sensors") or [])
            ),
            rules=rules_from_entry(entry.get("rules") or {}, f"{where}.rules"),
            exchange_latency=float(entry.get("exchange_latency_s", 0.0)),
            aliases=tuple(str(a) for a in entry.get("aliases", ())),
        )
    except ScenarioError:
        raise
    except (InputError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{where}: {exc}") from exc


@functools.cache
def load_architectures() -> tuple[Architecture, ...]:
    """Every architecture of ``data/architectures.yaml``, in file order."""
    out = entries(
        read_data_yaml("architectures.yaml"), "architectures.yaml", "architectures", _entry
    )
    check_unique_names(out, FILE, "architecture")
    return tuple(out)


def architecture(name: str, field: str = "architecture") -> Architecture:
    """Look up an architecture by name or alias (case-insensitive); list valid names on a miss."""
    found: Architecture = find_by_name(load_architectures(), name, "architecture", field)
    return found

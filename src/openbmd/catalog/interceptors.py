"""The interceptor catalogue (``data/interceptors.yaml``) turned into :class:`Interceptor` objects.

A user layer: it reads and validates YAML so the core does not. Uncertain values are written
``{value: V, range: [LO, HI]}``; the model uses V and the range is kept on the entry
(:attr:`CatalogInterceptor.ranges`). Units are in the YAML key names (km, km/s, s, kg) and are
converted to SI here. Every problem is a :class:`~openbmd.errors.ScenarioError` naming the file
and field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from openbmd.catalog._yaml import (
    check_unique_names,
    entries,
    find_by_name,
    read_data_yaml,
    require,
    value_with_range,
)
from openbmd.catalog.missiles import _stage
from openbmd.constants import DEG
from openbmd.errors import InputError, ScenarioError
from openbmd.interceptors import Interceptor

__all__ = ["CatalogInterceptor", "interceptor", "load_interceptors"]

FILE = "data/interceptors.yaml"


@dataclass(frozen=True)
class CatalogInterceptor:
    """A catalogue entry: the interceptor model and what the catalogue says about it."""

    name: str
    model: Interceptor
    citations: tuple[str, ...] = ()
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    disputed: tuple[dict[str, Any], ...] = ()

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.model.aliases


def _entry(entry: dict[str, Any], where: str) -> CatalogInterceptor:
    name = require(entry, "name", where, str)
    rg: dict[str, tuple[float, float]] = {}

    def v(key: str, default: float | None = None) -> float:
        return value_with_range(entry, key, where, rg, default)

    speed = entry.get("burnout_speed_kms")
    disputed = tuple(speed.get("disputed", ())) if isinstance(speed, dict) else ()
    try:
        stages = tuple(
            _stage(s, f"{where}.stages[{j}]") for j, s in enumerate(entry.get("stages", []))
        )
        bo = v("burnout_speed_kms")
        lo_hi = rg.get("burnout_speed_kms", (bo, bo))
        model = Interceptor(
            name=name,
            stages=stages,
            kill_vehicle_mass=v("kill_vehicle_mass_kg"),
            burnout_speed=bo * 1e3,
            min_altitude=v("min_altitude_km") * 1e3,
            max_altitude=v("max_altitude_km") * 1e3,
            max_range=v("max_range_km") * 1e3,
            max_flyout_time=v("max_flyout_time_s"),
            divert=v("divert_mps"),
            seeker_range=v("seeker_acquisition_range_km") * 1e3,
            min_closing_speed=v("min_closing_speed_kms") * 1e3,
            max_crossing_angle=v("max_crossing_angle_deg") * DEG,
            kv_endurance=v("kv_endurance_s"),
            seeker_fov=v("seeker_fov_deg", 180.0) * DEG,
            decision_delay=v("decision_delay_s", 60.0),
            kv_beta=v("kv_beta_kg_m2", 1e4),
            vertical_time=v("vertical_time_s", 4.0),
            kick_time=v("kick_time_s", 6.0),
            speed_range=(lo_hi[0] * 1e3, lo_hi[1] * 1e3),
            disputed_speeds=tuple((float(d["kms"]) * 1e3, str(d.get("by", ""))) for d in disputed),
            klass=str(entry.get("class", "")),
            source="; ".join(str(c) for c in entry.get("citations", ())),
            aliases=tuple(str(a) for a in entry.get("aliases", ())),
        )
    except (InputError, KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    return CatalogInterceptor(
        name=name,
        model=model,
        citations=tuple(str(c) for c in entry.get("citations", ())),
        ranges=rg,
        disputed=disputed,
    )


@functools.cache
def load_interceptors() -> tuple[CatalogInterceptor, ...]:
    """Every interceptor of ``data/interceptors.yaml``."""
    out = entries(read_data_yaml("interceptors.yaml"), "interceptors.yaml", "interceptors", _entry)
    check_unique_names(out, FILE, "interceptor")
    return tuple(out)


def interceptor(name: str, field: str = "interceptor") -> CatalogInterceptor:
    """Look up an interceptor by name or alias (case-insensitive); list valid names on a miss."""
    found: CatalogInterceptor = find_by_name(load_interceptors(), name, "interceptor", field)
    return found

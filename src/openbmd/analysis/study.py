"""What a comparison is asked: architectures, threat classes, defended regions and questions.

A :class:`Study` holds core objects only (SI units, angles [rad]), so the analysis layer does not
depend on how it was described; :mod:`openbmd.scenario.build` makes one from a scenario file.
Every option that decides an answer is a field here, and :meth:`Study.rules` lists them for the
report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openbmd.architecture import Architecture
from openbmd.errors import InputError
from openbmd.missiles import Missile

__all__ = ["ANALYSES", "DefendedRegion", "Point", "Study", "ThreatClass"]

#: The analyses a study may ask for, in the order they run.
ANALYSES = ("footprint", "engageability", "reach", "timeline")

#: (name, lat [rad], lon [rad])
Point = tuple[str, float, float]


@dataclass(frozen=True)
class ThreatClass:
    """Missiles of one class flown from launch areas, on one trajectory shape.

    ``targets`` are the aimpoints of the engageability and timeline questions; the footprint
    aims at every point of each defended region.
    """

    name: str
    missile: Missile
    launch_areas: tuple[Point, ...]
    targets: tuple[Point, ...] = ()
    shape: str = "min-energy"
    #: Names of the defended regions whose footprint is computed (``None``: all of them).
    regions: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.launch_areas:
            raise InputError(field=f"threats.{self.name}.launch_areas", message="is empty")


@dataclass(frozen=True)
class DefendedRegion:
    """A latitude/longitude box ``(lat_min, lat_max, lon_min, lon_max)`` [deg]."""

    name: str
    bounds_deg: tuple[float, float, float, float]


@dataclass(frozen=True)
class Aimpoint:
    """A defended place: a city (with population) or a named site (population 0)."""

    name: str
    lat_deg: float
    lon_deg: float
    population: int = 0
    country: str = ""


@dataclass(frozen=True)
class Study:
    """Architectures compared against threat classes, and the questions asked.

    Parameters
    ----------
    name, description : str
        Of the scenario.
    epoch : datetime
        UTC instant of t = 0.
    architectures : tuple of Architecture
        Compared side by side; their ``name`` is the column label (unique).
    threats : tuple of ThreatClass
    regions : tuple of DefendedRegion
        Footprints are computed over each.
    aimpoints : tuple of Aimpoint
        Cities and named targets evaluated exactly (population, capitals).
    burnout_speeds : tuple of float
        Interceptor burnout speeds swept [m/s].
    swept_interceptors : tuple of str or None
        Interceptors (names) that take the swept speeds; ``None``: every battery.
    exchange_latencies, decision_delays : tuple of float
        Further sweeps [s].
    analyses : dict
        Analysis name (:data:`ANALYSES`) → its options (``grid_deg``, ``step_s``, …).
    """

    name: str
    epoch: datetime
    architectures: tuple[Architecture, ...]
    threats: tuple[ThreatClass, ...]
    regions: tuple[DefendedRegion, ...] = ()
    aimpoints: tuple[Aimpoint, ...] = ()
    burnout_speeds: tuple[float, ...] = ()
    swept_interceptors: tuple[str, ...] | None = None
    exchange_latencies: tuple[float, ...] = ()
    decision_delays: tuple[float, ...] = ()
    analyses: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        labels = [a.name.casefold() for a in self.architectures]
        if len(set(labels)) != len(labels):
            raise InputError(field="architectures", message="architecture names must be unique")
        for key in self.analyses:
            if key not in ANALYSES:
                raise InputError(
                    field=f"analyses.{key}", message=f"unknown; valid: {', '.join(ANALYSES)}"
                )

    def option(self, analysis: str, key: str, default: Any) -> Any:
        """An analysis option, or ``default`` when the scenario does not set it."""
        value = self.analyses.get(analysis, {}).get(key)
        return default if value is None else value

    def runs(self, analysis: str) -> bool:
        return analysis in self.analyses

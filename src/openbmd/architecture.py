"""A missile-defence architecture: batteries, sensors with roles, and the command rules.

An :class:`Architecture` is what defends, dated and sourced: the interceptor batteries
(:class:`Battery`), the sensors and what each may do (:class:`SensorRole`) and the rules of the
command chain (:class:`CommandRules`). :func:`openbmd.engagement.engage_architecture` is the one
place that turns it into engagements. Core module: plain frozen dataclasses, SI units inside
(angles [rad], times [s]); the catalogue (:mod:`openbmd.catalog.architectures`) builds them from
YAML. ``to_dict`` gives JSON-ready dictionaries with non-SI units in the key names.

Sensor roles
    ``early-warning`` — its detections cue fire-control radars and, if the rules allow, may
    commit a launch; ``fire-control`` — its track (``track_delay`` after track start) commits a
    launch; ``cue-only`` — its detections may cue a fire-control radar, never commit a launch.
Data latency
    Detections reach the shooter ``latency`` seconds later, plus the architecture's
    ``exchange_latency`` when the sensor reports ``via_exchange`` (a partner's radar through a
    data exchange centre).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from openbmd.errors import InputError
from openbmd.interceptors import KV_LIMITS, Interceptor
from openbmd.sensors import Radar, SpaceIR

__all__ = [
    "COMMIT_RULES",
    "DOCTRINES",
    "OVERRIDES",
    "ROLES",
    "Architecture",
    "Battery",
    "CommandRules",
    "SensorRole",
    "kill_vehicle_dict",
    "single_battery",
]

ROLES = ("early-warning", "fire-control", "cue-only")
# What Architecture.with_overrides may set (SI values).
OVERRIDES = (
    "burnout_speed", *KV_LIMITS, "rcs", "decision_delay", "exchange_latency",
)  # fmt: skip
COMMIT_RULES = ("fire-control-track", "early-warning")
DOCTRINES = ("shoot-look-shoot", "salvo")
_DEG = math.pi / 180.0


def kill_vehicle_dict(icp: Interceptor) -> dict[str, float | None]:
    """The kill-vehicle limits of ``icp``, JSON-ready (``None``: no limit)."""

    def f(x: float, scale: float = 1.0) -> float | None:
        return None if math.isinf(x) else x / scale

    return {
        "divert_budget_mps": f(icp.divert),
        "seeker_acquisition_range_km": f(icp.seeker_range, 1e3),
        "min_closing_speed_kms": icp.min_closing_speed / 1e3,
        "max_crossing_angle_off_head_on_deg": icp.max_crossing_angle / _DEG,
        "kv_endurance_s": f(icp.kv_endurance),
        "seeker_fov_deg": icp.seeker_fov / _DEG,
    }


def _nonneg(value: float, where: str) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0.0):
        raise InputError(f"{where}: {value!r} must be a finite number >= 0")


@dataclass(frozen=True)
class Battery:
    """An interceptor battery.

    Parameters
    ----------
    site : str
        Site name (for people and JSON).
    lat, lon : float
        Geodetic site position [rad].
    interceptor : Interceptor
        The interceptor fired (core model; its burnout speed as used).
    inventory : int
        Interceptors at the site (≥ 1).
    doctrine : str
        ``shoot-look-shoot`` (a shot, kill assessment, the next shot) or ``salvo`` (one shot
        opportunity of ``salvo_size`` interceptors).
    salvo_size : int
        Interceptors fired per shot (≥ 1); shots are capped at ``inventory // salvo_size``.
    """

    site: str
    lat: float
    lon: float
    interceptor: Interceptor
    inventory: int = 10
    doctrine: str = "shoot-look-shoot"
    salvo_size: int = 1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and abs(self.lat) <= math.pi / 2):
            raise InputError(f"battery {self.site}.lat: {self.lat!r} rad is not a latitude")
        if not math.isfinite(self.lon):
            raise InputError(f"battery {self.site}.lon: {self.lon!r} rad is not a longitude")
        if not (isinstance(self.inventory, int) and self.inventory >= 1):
            raise InputError(f"battery {self.site}.inventory: {self.inventory!r} must be >= 1")
        if self.doctrine not in DOCTRINES:
            raise InputError(
                f"battery {self.site}.doctrine: {self.doctrine!r} is not one of "
                f"{', '.join(DOCTRINES)}"
            )
        if not (isinstance(self.salvo_size, int) and 1 <= self.salvo_size <= self.inventory):
            raise InputError(
                f"battery {self.site}.salvo_size: {self.salvo_size!r} must be in 1..inventory"
            )

    def with_overrides(self, **kw: float) -> Battery:
        """The same battery with its interceptor's ``burnout_speed`` [m/s] and/or kill-vehicle
        limits (:data:`openbmd.interceptors.KV_LIMITS`, SI) replaced; a pure function."""
        icp = self.interceptor
        speed = kw.pop("burnout_speed", None)
        if speed is not None:
            icp = icp.with_burnout_speed(speed)
        if kw:
            icp = icp.with_kill_vehicle(**kw)
        return replace(self, interceptor=icp)

    @property
    def max_shots(self) -> int:
        """Shot opportunities the inventory and doctrine allow."""
        return 1 if self.doctrine == "salvo" else self.inventory // self.salvo_size

    def to_dict(self) -> dict[str, Any]:
        icp = self.interceptor
        return {
            "site": self.site,
            "lat_deg": self.lat / _DEG,
            "lon_deg": self.lon / _DEG,
            "interceptor": icp.name,
            "burnout_speed_kms": icp.burnout_speed / 1e3,
            "min_intercept_altitude_km": icp.min_altitude / 1e3,
            "max_intercept_altitude_km": icp.max_altitude / 1e3,
            "max_intercept_range_km": icp.max_range / 1e3,
            "max_flyout_time_s": icp.max_flyout_time,
            "kill_vehicle": kill_vehicle_dict(icp),
            "inventory": self.inventory,
            "doctrine": self.doctrine,
            "salvo_size": self.salvo_size,
            "max_shots": self.max_shots,
        }


@dataclass(frozen=True)
class SensorRole:
    """A sensor of the architecture and what it may do (see the module docstring).

    Parameters
    ----------
    sensor : Radar or SpaceIR
        The core sensor model.
    role : str
        One of :data:`ROLES`.
    owner : str
        Partner operating the sensor (e.g. ``US``, ``UK``, ``Russia``).
    latency : float
        Data latency from the sensor to the shooter [s].
    via_exchange : bool
        Data pass the exchange centre: the architecture's ``exchange_latency`` is added.
    rcs : float
        Threat radar cross-section this radar is evaluated with [m²] (unused for space IR).
    needs_cue : bool
        A fire-control radar that cannot search on its own (the EMR): it starts a track only
        after a cue, when the rules say so (:attr:`CommandRules.fire_control_needs_cue`).
    track_capacity : int or None
        Most threats the radar tracks at once (``None``: no limit); binds only for a raid
        (``engage_architecture(..., raid=True)``).
    """

    sensor: Radar | SpaceIR
    role: str
    owner: str = "US"
    latency: float = 0.0
    via_exchange: bool = False
    rcs: float = 1.0
    needs_cue: bool = False
    track_capacity: int | None = None

    def __post_init__(self) -> None:
        name = self.sensor.name
        cap = self.track_capacity
        if cap is not None and not (isinstance(cap, int) and cap >= 1):
            raise InputError(f"sensor {name}.track_capacity: {cap!r} must be an integer >= 1")
        if self.role not in ROLES:
            raise InputError(f"sensor {name}.role: {self.role!r} is not one of {', '.join(ROLES)}")
        _nonneg(self.latency, f"sensor {name}.latency")
        if not (math.isfinite(self.rcs) and self.rcs > 0.0):
            raise InputError(f"sensor {name}.rcs: {self.rcs!r} m2 must be > 0")
        if self.role == "fire-control" and isinstance(self.sensor, SpaceIR):
            raise InputError(f"sensor {name}.role: a space IR sensor cannot be fire control")

    @property
    def name(self) -> str:
        return self.sensor.name

    def to_dict(self, exchange_latency: float = 0.0) -> dict[str, Any]:
        extra = exchange_latency if self.via_exchange else 0.0
        return {
            "name": self.name,
            "kind": "space-ir" if isinstance(self.sensor, SpaceIR) else "radar",
            "role": self.role,
            "owner": self.owner,
            "latency_s": self.latency,
            "via_exchange": self.via_exchange,
            "total_latency_s": self.latency + extra,
            "rcs_m2": None if isinstance(self.sensor, SpaceIR) else self.rcs,
            "needs_cue": self.needs_cue,
            "track_capacity": self.track_capacity,
        }


@dataclass(frozen=True)
class CommandRules:
    """Rules of the command chain. Times [s].

    Parameters
    ----------
    commit : str
        What may commit a launch: ``fire-control-track`` only, or also an ``early-warning`` cue.
    fire_control_needs_cue : bool
        Fire-control radars marked ``needs_cue`` start a track only after the first cue from an
        early-warning or cue-only sensor has reached them.
    decision_delay : float or None
        Commit → launch [s]; ``None`` uses each battery's interceptor value.
    track_delay : float
        Track start → fire-control-quality track [s].
    cue_delay : float
        Early-warning detection → a cue usable for commit [s].
    kill_assessment : float
        Intercept → next shot under shoot-look-shoot [s].
    """

    commit: str = "fire-control-track"
    fire_control_needs_cue: bool = True
    decision_delay: float | None = None
    track_delay: float = 60.0
    cue_delay: float = 60.0
    kill_assessment: float = 60.0

    def __post_init__(self) -> None:
        if self.commit not in COMMIT_RULES:
            raise InputError(
                f"rules.commit: {self.commit!r} is not one of {', '.join(COMMIT_RULES)}"
            )
        if self.decision_delay is not None:
            _nonneg(self.decision_delay, "rules.decision_delay")
        _nonneg(self.track_delay, "rules.track_delay")
        _nonneg(self.cue_delay, "rules.cue_delay")
        _nonneg(self.kill_assessment, "rules.kill_assessment")

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "fire_control_needs_cue": self.fire_control_needs_cue,
            "decision_delay_s": self.decision_delay,
            "track_delay_s": self.track_delay,
            "cue_delay_s": self.cue_delay,
            "kill_assessment_s": self.kill_assessment,
        }


@dataclass(frozen=True)
class Architecture:
    """A dated, sourced defence architecture (see the module docstring).

    ``exchange_latency`` [s] is added to the data of every sensor reporting ``via_exchange``.
    An architecture with no battery defends nothing (every threat is infeasible).
    """

    name: str
    era: str
    source: str
    batteries: tuple[Battery, ...] = ()
    sensors: tuple[SensorRole, ...] = ()
    rules: CommandRules = field(default_factory=CommandRules)
    exchange_latency: float = 0.0
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InputError("architecture.name: must not be empty")
        if not self.source.strip():
            raise InputError(f"architecture {self.name}.source: a citation is required")
        _nonneg(self.exchange_latency, f"architecture {self.name}.exchange_latency")
        for i, b in enumerate(self.batteries):
            if not isinstance(b, Battery):
                raise InputError(f"batteries[{i}]: {b!r} is not a Battery")
        names = [s.name.casefold() for s in self.sensors]
        for i, s in enumerate(self.sensors):
            if not isinstance(s, SensorRole):
                raise InputError(f"sensors[{i}]: {s!r} is not a SensorRole")
            if names.count(s.name.casefold()) > 1:
                raise InputError(f"sensors[{i}]: sensor {s.name!r} appears twice")

    def latencies(self) -> tuple[float, ...]:
        """Total data latency [s] of each sensor to the shooter."""
        return tuple(
            s.latency + (self.exchange_latency if s.via_exchange else 0.0) for s in self.sensors
        )

    def decision_delay(self, battery: Battery) -> float:
        """Commit → launch [s] for ``battery`` under the rules."""
        d = self.rules.decision_delay
        return battery.interceptor.decision_delay if d is None else d

    def with_overrides(self, **kw: float | None) -> Architecture:
        """The same architecture with parameters replaced (a pure function, for sweeps and
        Monte Carlo draws). SI values; ``None`` leaves a parameter as it is.

        Keys: ``burnout_speed`` [m/s] and the kill-vehicle limits of every battery
        (:data:`openbmd.interceptors.KV_LIMITS`: ``divert`` [m/s], ``seeker_range`` [m],
        ``min_closing_speed`` [m/s], ``max_crossing_angle`` [rad], ``kv_endurance`` [s]);
        ``rcs`` [m²] of every radar; ``decision_delay`` [s] (the rules'); ``exchange_latency``
        [s]. Raises :class:`InputError` naming the field for an unknown key or a bad value.
        """
        given = {k: float(v) for k, v in kw.items() if v is not None}
        unknown = sorted(set(given) - set(OVERRIDES))
        if unknown:
            raise InputError(
                field=unknown[0], message=f"not an override; valid: {', '.join(OVERRIDES)}"
            )
        arch = self
        rcs = given.pop("rcs", None)
        if rcs is not None:
            sens = tuple(
                s if isinstance(s.sensor, SpaceIR) else replace(s, rcs=float(rcs))
                for s in arch.sensors
            )
            arch = replace(arch, sensors=sens)
        delay = given.pop("decision_delay", None)
        if delay is not None:
            arch = replace(arch, rules=replace(arch.rules, decision_delay=float(delay)))
        latency = given.pop("exchange_latency", None)
        if latency is not None:
            arch = replace(arch, exchange_latency=float(latency))
        if given:
            bats = tuple(b.with_overrides(**given) for b in arch.batteries)
            arch = replace(arch, batteries=bats)
        return arch

    def with_burnout_speed(
        self, speed: float, interceptors: tuple[str, ...] | None = None
    ) -> Architecture:
        """The same architecture with its interceptors at ``speed`` [m/s].

        ``interceptors``: only batteries firing one of these (names, case-insensitive) change;
        ``None`` changes every battery.
        """
        keep = None if interceptors is None else {n.casefold() for n in interceptors}
        bats = tuple(
            replace(b, interceptor=b.interceptor.with_burnout_speed(speed))
            if keep is None or b.interceptor.name.casefold() in keep
            else b
            for b in self.batteries
        )
        return replace(self, batteries=bats)

    def to_dict(self) -> dict[str, Any]:
        """Every part and rule value, JSON-ready."""
        return {
            "name": self.name,
            "era": self.era,
            "source": self.source,
            "exchange_latency_s": self.exchange_latency,
            "batteries": [
                {**b.to_dict(), "decision_delay_s": self.decision_delay(b)} for b in self.batteries
            ],
            "sensors": [s.to_dict(self.exchange_latency) for s in self.sensors],
            "rules": self.rules.to_dict(),
        }


def single_battery(
    site: str,
    lat: float,
    lon: float,
    interceptor: Interceptor,
    sensors: tuple[SensorRole, ...],
    rules: CommandRules | None = None,
    inventory: int = 8,
) -> Architecture:
    """A user-defined architecture of one battery (angles [rad]); for studies and tests."""
    return Architecture(
        name=f"{interceptor.name}@{site}",
        era="user-defined",
        source="user-defined (no bundled source)",
        batteries=(Battery(site, lat, lon, interceptor, inventory=inventory),),
        sensors=sensors,
        rules=rules or CommandRules(),
    )

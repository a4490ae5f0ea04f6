"""The interceptor vehicle: stages, kill vehicle, limits, and its burnout speed as a parameter.

An :class:`Interceptor` is a stack of rocket stages (:class:`openbmd.missiles.Stage`) under a
kill vehicle, with its engagement limits (intercept altitudes, ground range, fly-out time), the
kill vehicle's divert and the decision-plus-launch delay. Its **burnout speed is a parameter**,
reached by varying a physical quantity, the **propellant load**: :func:`vehicle` multiplies
every stage's propellant mass by one common factor ``f`` (inert mass, burn time, specific
impulse and nozzle kept, so the mass flow and thrust scale with ``f``) until the Earth-relative
speed at burnout on the *reference fly-out* equals :attr:`Interceptor.burnout_speed`. ``f < 1``
is an off-loaded motor (how test programmes fly a booster slower); ``f > 1`` a motor stretched
with the same case mass, which leans toward the interceptor. ``f`` is kept in
:data:`LOAD_BAND`; the catalogue's stage data are tuned so that ``f = 1`` (the catalogued load)
gives the nominal burnout speed, except where the nominal is the disputed quantity (GBI-2).

Specific impulse stays the catalogued vacuum value of each stage, which must lie in
:data:`ISP_BAND` — delivered vacuum Isp of composite (AP/Al/HTPB) solid motors, ≈ 250–300 s
(Sutton & Biblarz, *Rocket Propulsion Elements*, 9th ed., 2017, solid-propellant performance
tables; Orion 50S XL: 290 s vacuum, Pegasus User's Guide). In the air the thrust is
``F_vac − A_e p(h)`` (nozzle back-pressure, US-76 pressure), here and in the fan kernel.

The reference fly-out is a vertical rise, a pitch-over to :data:`REFERENCE_KICK` from the
vertical and a gravity turn over a non-rotating WGS-84 Earth with the US-76 atmosphere. This
keeps the disputed GBI figures of the 2007 debate (5.4 / 6.3 / 7.7-8.3 / ~9 km/s) directly
sweepable.

The fly-out fan (earliest arrival time at any point, batched) is :mod:`openbmd.interceptors.fan`.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd.constants import DEG
from openbmd.errors import InputError
from openbmd.missiles import Missile, Stage, stack
from openbmd.trajectory import EarthModel, Guidance, StepSizes, fly

FloatArray = NDArray[np.float64]

REFERENCE_KICK = 20.0 * DEG  # reference fly-out that defines the quoted burnout speed
# Energy management of the fly-out fan: besides the full burn, thrust cut-offs at the burnout
# speeds of this ladder (multiples of the step, from the floor up to just below the vehicle's own
# speed), each defined on the reference fly-out. A faster interceptor's ladder contains every
# rung of a slower one's, which is what keeps reachable sets nested in burnout speed.
LADDER_STEP = 500.0  # [m/s]
LADDER_FLOOR = 2000.0  # [m/s]
# Delivered vacuum specific impulse of composite solid motors [s] (module docstring, source).
ISP_BAND = (250.0, 300.0)
# Propellant-load factor: from a motor off-loaded to a quarter (below that the thrust-to-weight
# of a first stage falls toward 1) to one stretched by half with the same case mass (assumption).
LOAD_BAND = (0.25, 1.5)


@dataclass(frozen=True)
class Interceptor:
    """An interceptor (SI units). See the module docstring for the burnout-speed model.

    Parameters
    ----------
    name : str
        Catalogue name.
    stages : tuple of Stage
        Booster stages in firing order at the catalogued propellant load (``isp`` in
        :data:`ISP_BAND`).
    kill_vehicle_mass : float
        Kill vehicle (with adapter) carried to burnout [kg].
    burnout_speed : float
        Earth-relative speed at burnout on the reference fly-out [m/s].
    min_altitude, max_altitude : float
        Intercept altitude limits [m] (exo-atmospheric kill vehicles: min ≈ 100 km).
    max_range : float
        Greatest ground range from the site to an intercept point [m].
    max_flyout_time : float
        Longest fly-out considered [s] (the fan's time span).
    divert : float
        Kill-vehicle divert velocity budget Δv [m/s] (``inf``: unlimited).
    decision_delay : float
        Cue → launch: decision and launch preparation [s].
    seeker_range : float
        Range at which the kill vehicle's seeker acquires the threat [m] (``inf``: at
        separation).
    min_closing_speed : float
        Least closing speed of a credited intercept [m/s] (0: no limit).
    max_crossing_angle : float
        Largest angle between the two velocities *measured from head-on* [rad] (0 head-on,
        π/2 broadside, π a pure tail chase; π: no limit). Note that
        :attr:`openbmd.engagement.Intercepts.crossing_angle` is measured from a tail chase.
    kv_endurance : float
        Longest kill-vehicle flight after thrust cut-off [s] (``inf``: no limit).
    seeker_fov : float
        Full field of view of the seeker [rad]: the PIP error at handover must lie inside it at
        the acquisition range (π: no limit).

    The kill-vehicle limits (``divert`` … ``kv_endurance``, :data:`KV_LIMITS`) do not change
    the fly-out fan; :func:`openbmd.interceptors.flyout_fan` shares one fan between vehicles
    that differ only in them, so that a sweep over them costs no new fan.
    """

    name: str
    stages: tuple[Stage, ...]
    kill_vehicle_mass: float
    burnout_speed: float
    min_altitude: float
    max_altitude: float
    max_range: float
    max_flyout_time: float
    divert: float = float("inf")
    decision_delay: float = 60.0
    kv_beta: float = 1.0e4
    vertical_time: float = 4.0
    kick_time: float = 6.0
    speed_range: tuple[float, float] = (float("nan"), float("nan"))
    disputed_speeds: tuple[tuple[float, str], ...] = ()
    klass: str = ""
    source: str = ""
    aliases: tuple[str, ...] = ()
    seeker_range: float = float("inf")
    min_closing_speed: float = 0.0
    max_crossing_angle: float = float(np.pi)
    kv_endurance: float = float("inf")
    seeker_fov: float = float(np.pi)

    def __post_init__(self) -> None:
        w = f"interceptor {self.name!r}"
        if not self.stages:
            raise InputError(f"{w}: needs at least one stage")
        for attr in (
            "kill_vehicle_mass",
            "burnout_speed",
            "max_range",
            "max_flyout_time",
            "kv_beta",
        ):
            value = float(getattr(self, attr))
            if not (np.isfinite(value) and value > 0.0):
                raise InputError(f"{w}: {attr} must be a positive number, got {value!r}")
        if not 0.0 <= self.min_altitude < self.max_altitude:
            raise InputError(
                f"{w}: need 0 <= min_altitude < max_altitude, got "
                f"{self.min_altitude:g}, {self.max_altitude:g} m"
            )
        if self.decision_delay < 0.0 or not self.divert > 0.0:
            raise InputError(f"{w}: decision_delay must be >= 0 and divert > 0")
        for attr in ("seeker_range", "kv_endurance"):
            if not float(getattr(self, attr)) > 0.0:
                raise InputError(
                    field=f"interceptor.{attr}",
                    message=f"{w}: {attr} must be > 0, got {getattr(self, attr)!r}",
                )
        if not 0.0 <= self.min_closing_speed < 20_000.0:
            raise InputError(
                field="interceptor.min_closing_speed",
                message=f"{w}: {self.min_closing_speed!r} m/s must be in [0, 20000)",
            )
        if not 0.0 < self.max_crossing_angle <= np.pi:
            raise InputError(
                field="interceptor.max_crossing_angle",
                message=f"{w}: {self.max_crossing_angle!r} rad must be in (0, pi]",
            )
        for j, st in enumerate(self.stages):
            if not ISP_BAND[0] <= st.isp_s <= ISP_BAND[1]:
                raise InputError(
                    field=f"interceptor.stages[{j}].isp",
                    message=f"{w}: vacuum Isp {st.isp_s:g} s is outside the solid-motor band "
                    f"{ISP_BAND[0]:g}-{ISP_BAND[1]:g} s",
                )
        if not 0.0 < self.seeker_fov <= np.pi:
            raise InputError(
                field="interceptor.seeker_fov",
                message=f"{w}: {self.seeker_fov!r} rad must be in (0, pi]",
            )
        if self.burnout_speed >= 11_000.0:
            raise InputError(f"{w}: burnout_speed {self.burnout_speed:g} m/s is beyond escape")

    @property
    def burn_time(self) -> float:
        """Total burn time of the stages [s]."""
        return float(sum(s.burn_time for s in self.stages))

    def with_burnout_speed(self, speed: float) -> Interceptor:
        """The same interceptor with another burnout speed [m/s] (> 0)."""
        if not (np.isfinite(speed) and speed > 0.0):
            raise InputError(
                field="interceptor.burnout_speed",
                message=f"{speed!r} m/s must be a positive number",
            )
        return dataclasses.replace(self, burnout_speed=float(speed))

    def with_kill_vehicle(self, **limits: float) -> Interceptor:
        """The same interceptor with other kill-vehicle limits (names of :data:`KV_LIMITS`, SI).

        Raises :class:`InputError` naming ``interceptor.<name>`` for an unknown name or an
        invalid value.
        """
        bad = sorted(set(limits) - set(KV_LIMITS))
        if bad:
            raise InputError(
                field=f"interceptor.{bad[0]}",
                message=f"not a kill-vehicle limit; valid: {', '.join(KV_LIMITS)}",
            )
        new: dict[str, Any] = {k: float(v) for k, v in limits.items()}
        return dataclasses.replace(self, **new)

    def fan_key(self) -> Interceptor:
        """This interceptor with the kill-vehicle limits at their defaults (what a fan depends
        on)."""
        return dataclasses.replace(self, **_KV_DEFAULTS)


# The kill-vehicle limits: fields of Interceptor that do not change the fly-out fan.
KV_LIMITS = (
    "divert", "seeker_range", "min_closing_speed", "max_crossing_angle", "kv_endurance",
    "seeker_fov",
)  # fmt: skip
_KV_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in dataclasses.fields(Interceptor) if f.name in KV_LIMITS
}


def _as_missile(icp: Interceptor, load: float) -> Missile:
    """The interceptor as a missile with every stage's propellant mass times ``load``."""
    stages = tuple(
        Stage(
            gross_mass=s.gross_mass + (load - 1.0) * s.propellant_mass,
            propellant_mass=s.propellant_mass * load,
            burn_time=s.burn_time,
            diameter=s.diameter,
            isp=s.isp_s,
            exit_area=s.exit_area_m2,
        )
        for s in icp.stages
    )
    return Missile(
        name=icp.name,
        stages=stages,
        rv_mass=icp.kill_vehicle_mass,
        rv_beta=icp.kv_beta,
        nominal_range=max(icp.max_range, 1.0),
        pitch_vertical_time=icp.vertical_time,
        pitch_kick_time=icp.kick_time,
        klass="interceptor",
    )


def reference_burnout_speed(missiles: list[Missile]) -> FloatArray:
    """Earth-relative burnout speed [m/s] of each vehicle on the reference fly-out."""
    n = len(missiles)
    batch = stack(missiles)
    steps = StepSizes(boost=0.5, max_time=float(batch.total_burn.max()) + 5.0)
    traj = fly(
        batch,
        0.0,
        0.0,
        Guidance.of(n, np.pi / 2, REFERENCE_KICK),
        EarthModel(rotation=False),
        steps,
        record=False,
    )
    return np.asarray(np.linalg.norm(traj.events.burnout_v_eci, axis=-1))


@functools.lru_cache(maxsize=64)
def energy_levels(icp: Interceptor) -> tuple[FloatArray, FloatArray]:
    """The fan's energy levels: ``(burnout speeds [m/s], thrust cut-off times [s])``.

    First the full burn (the catalogue speed; cut-off = total burn time), then the ladder rungs
    ``LADDER_FLOOR + k * LADDER_STEP`` below it, each with the cut-off time at which the
    vehicle reaches that Earth-relative speed on the reference fly-out (flights with 96 cut-off
    times between the end of the pitch-over and burnout, interpolated).
    """
    m = vehicle(icp)
    t_burn = float(m.burn_time)
    rungs = np.arange(LADDER_FLOOR, icp.burnout_speed - 0.5 * LADDER_STEP, LADDER_STEP)
    cut = np.linspace(m.pitch_vertical_time + m.pitch_kick_time, t_burn, 96)
    batch = stack([m] * cut.size)
    traj = fly(
        batch,
        0.0,
        0.0,
        Guidance.of(cut.size, np.pi / 2, REFERENCE_KICK, cut),
        EarthModel(rotation=False),
        StepSizes(boost=0.5, max_time=t_burn + 5.0),
        record=False,
    )
    v = np.maximum.accumulate(np.linalg.norm(traj.events.burnout_v_eci, axis=-1))
    rungs = rungs[rungs > v[0]]
    cuts = np.interp(rungs, v, cut)
    speeds = np.concatenate([[icp.burnout_speed], rungs[::-1]])
    return speeds, np.concatenate([[t_burn], cuts[::-1]])


@functools.lru_cache(maxsize=64)
def propellant_load(icp: Interceptor) -> float:
    """The propellant-load factor ``f`` at which the stages reach ``icp.burnout_speed``.

    Burnout speed rises monotonically with ``f``: one batched flight of a grid over
    :data:`LOAD_BAND` brackets the target, then secant steps (one flight each) converge to
    < 0.5 m/s. Raises :class:`InputError` (field ``interceptor.burnout_speed``) naming the
    reachable speeds if the target lies outside what the band gives.
    """
    grid = np.linspace(LOAD_BAND[0], LOAD_BAND[1], 11)
    v = reference_burnout_speed([_as_missile(icp, f) for f in grid])
    v = np.maximum.accumulate(np.nan_to_num(v, nan=0.0))  # NaN: too heavy to lift off
    target = icp.burnout_speed
    if not v[0] <= target <= v[-1]:
        raise InputError(
            field="interceptor.burnout_speed",
            message=f"interceptor {icp.name!r}: {target / 1e3:g} km/s is outside what its "
            f"stages reach with a propellant load of {LOAD_BAND[0]:g}-{LOAD_BAND[1]:g} times "
            f"the catalogued one ({v[0] / 1e3:.2f}-{v[-1] / 1e3:.2f} km/s at Isp "
            f"{ISP_BAND[0]:g}-{ISP_BAND[1]:g} s)",
        )
    k = int(np.clip(np.searchsorted(v, target), 1, grid.size - 1))
    lo, hi = (float(grid[k - 1]), float(v[k - 1])), (float(grid[k]), float(v[k]))
    a, b = lo, hi  # secant through the last two flights, kept inside the bracket [lo, hi]
    f = hi[0]
    for _ in range(10):
        dv = b[1] - a[1]
        f = a[0] + (target - a[1]) * (b[0] - a[0]) / dv if abs(dv) > 1e-9 else 0.5 * (a[0] + b[0])
        if not lo[0] < f < hi[0]:
            f = 0.5 * (lo[0] + hi[0])
        vf = float(reference_burnout_speed([_as_missile(icp, f)])[0])
        if abs(vf - target) < 0.5:
            break
        if vf < target:
            lo = (f, vf)
        else:
            hi = (f, vf)
        a, b = b, (f, vf)
    return f


@functools.lru_cache(maxsize=64)
def vehicle(icp: Interceptor) -> Missile:
    """The interceptor as a :class:`Missile` whose burnout speed matches the parameter: the
    stages at the propellant load :func:`propellant_load` finds (module docstring)."""
    return _as_missile(icp, propellant_load(icp))


__all__ = [
    "ISP_BAND",
    "KV_LIMITS",
    "LOAD_BAND",
    "Interceptor",
    "energy_levels",
    "propellant_load",
    "reference_burnout_speed",
    "vehicle",
]

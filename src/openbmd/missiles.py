"""Missiles as data: stages, reentry vehicle, drag; and their batch form for the propagator.

A :class:`Missile` is a stack of :class:`Stage` objects fired in order, topped by a reentry
vehicle (RV). Thrust is constant over each stage's burn (propellant flows at a constant rate);
the thrust follows from the vacuum specific impulse, or is given directly. After the last
stage burns out — or when the guidance cuts thrust early — the RV separates and coasts alone,
its drag set by its ballistic coefficient.

All values SI: kg, s, m, N. :func:`stack` packs several missiles into padded arrays so the
propagator can fly a mixed batch with no Python loop over missiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from openbmd.constants import G0
from openbmd.errors import InputError

FloatArray = NDArray[np.float64]

# Mach grid shared by every drag table in a batch (tables are resampled onto it).
MACH_GRID: FloatArray = np.array(
    [0.0, 0.6, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0, 30.0]
)

# A generic slender-missile zero-lift drag curve (axial force coefficient versus Mach number)
# with the transonic rise typical of published ballistic-missile drag data; used when a
# catalogue entry gives no table of its own.
GENERIC_DRAG_CD: tuple[float, ...] = (
    0.20, 0.20, 0.22, 0.27, 0.40, 0.42, 0.41, 0.37, 0.32, 0.27, 0.24, 0.21, 0.19, 0.18,
)  # fmt: skip


EXIT_AREA_FRACTION = 0.3  # stated assumption: nozzle exit area / body cross-section


@dataclass(frozen=True)
class Stage:
    """One rocket stage.

    Parameters
    ----------
    gross_mass : float
        Stage mass at ignition, propellant included [kg].
    propellant_mass : float
        Usable propellant [kg].
    burn_time : float
        Burn duration [s].
    diameter : float
        Body diameter [m] (sets the drag reference area while this stage flies).
    isp : float, optional
        Vacuum specific impulse [s]. Give this or ``thrust``.
    thrust : float, optional
        Vacuum thrust [N]. Give this or ``isp``.
    exit_area : float, optional
        Nozzle exit area [m²]; the thrust in air is ``F_vac − A_e p(h)`` (US-76 pressure).
        Not public for these generic classes: by default the stated assumption
        ``EXIT_AREA_FRACTION`` (0.3) of the body cross-section (exit diameter ≈ 0.55 d, which
        gives the 10–15 % sea-level thrust deficit typical of first stages).
    """

    gross_mass: float
    propellant_mass: float
    burn_time: float
    diameter: float
    isp: float | None = None
    thrust: float | None = None
    exit_area: float | None = None

    def __post_init__(self) -> None:
        if not self.gross_mass > 0.0:
            raise InputError(f"stage gross_mass must be > 0 kg, got {self.gross_mass}")
        if not 0.0 < self.propellant_mass < self.gross_mass:
            raise InputError(
                f"stage propellant_mass must be in (0, gross_mass={self.gross_mass}) kg, "
                f"got {self.propellant_mass}"
            )
        if not self.burn_time > 0.0:
            raise InputError(f"stage burn_time must be > 0 s, got {self.burn_time}")
        if not self.diameter > 0.0:
            raise InputError(f"stage diameter must be > 0 m, got {self.diameter}")
        if (self.isp is None) == (self.thrust is None):
            raise InputError("a stage needs exactly one of isp (s) or thrust (N)")
        if self.isp is not None and not self.isp > 0.0:
            raise InputError(f"stage isp must be > 0 s, got {self.isp}")
        if self.thrust is not None and not self.thrust > 0.0:
            raise InputError(f"stage thrust must be > 0 N, got {self.thrust}")

    @property
    def mass_flow(self) -> float:
        """Propellant mass flow [kg/s]."""
        return self.propellant_mass / self.burn_time

    @property
    def thrust_n(self) -> float:
        """Vacuum thrust [N]."""
        if self.thrust is not None:
            return self.thrust
        assert self.isp is not None
        return self.isp * G0 * self.mass_flow

    @property
    def isp_s(self) -> float:
        """Vacuum specific impulse [s]."""
        return self.thrust_n / (G0 * self.mass_flow)

    @property
    def exit_area_m2(self) -> float:
        """Nozzle exit area [m²] (catalogued, else ``EXIT_AREA_FRACTION`` of the body area)."""
        if self.exit_area is not None:
            return self.exit_area
        return EXIT_AREA_FRACTION * math.pi * self.diameter**2 / 4.0


@dataclass(frozen=True)
class Missile:
    """A ballistic missile: stages fired in order, then a coasting reentry vehicle.

    Parameters
    ----------
    name : str
        Catalogue name.
    stages : tuple of Stage
        Stages in firing order.
    rv_mass : float
        Reentry vehicle (payload) mass [kg]; carried through boost.
    rv_beta : float
        RV ballistic coefficient m / (C_D A) [kg/m²].
    drag_mach, drag_cd : tuple of float
        Drag table of the boosting stack (axial C_D versus Mach), same length.
    nominal_range : float
        Published nominal range of the class [m] (for validation and display).
    pitch_vertical_time : float
        Duration of the vertical rise [s].
    pitch_kick_time : float
        Duration of the pitch-over manoeuvre that tilts the thrust to the kick angle [s].
    klass, propellant, source : str
        Descriptive fields (class, "liquid"/"solid", citation).
    thrust_termination : bool
        Whether the motor can cut thrust before burnout (liquid engines; solid motors only
        with thrust-termination ports). Without it the aim solver flies full burn and
        shortens range by the trajectory shape (:func:`openbmd.targeting.aim`).
    """

    name: str
    stages: tuple[Stage, ...]
    rv_mass: float
    rv_beta: float
    nominal_range: float
    drag_mach: tuple[float, ...] = tuple(MACH_GRID.tolist())
    drag_cd: tuple[float, ...] = GENERIC_DRAG_CD
    pitch_vertical_time: float = 10.0
    pitch_kick_time: float = 10.0
    klass: str = ""
    propellant: str = ""
    source: str = ""
    aliases: tuple[str, ...] = field(default=())
    thrust_termination: bool = True

    def __post_init__(self) -> None:
        if not self.stages:
            raise InputError(f"missile {self.name!r}: needs at least one stage")
        if not self.rv_mass > 0.0:
            raise InputError(f"missile {self.name!r}: rv_mass must be > 0 kg")
        if not self.rv_beta > 0.0:
            raise InputError(f"missile {self.name!r}: rv_beta must be > 0 kg/m²")
        if len(self.drag_mach) != len(self.drag_cd) or len(self.drag_mach) < 2:
            raise InputError(f"missile {self.name!r}: drag_mach and drag_cd need equal length ≥ 2")
        if any(b <= a for a, b in zip(self.drag_mach, self.drag_mach[1:], strict=False)):
            raise InputError(f"missile {self.name!r}: drag_mach must increase strictly")

    @property
    def burn_time(self) -> float:
        """Total burn time of all stages [s]."""
        return sum(s.burn_time for s in self.stages)

    @property
    def launch_mass(self) -> float:
        """Mass at lift-off [kg]."""
        return sum(s.gross_mass for s in self.stages) + self.rv_mass

    def ideal_delta_v(self) -> float:
        """Tsiolkovsky Δv of the full stack, ignoring gravity and drag losses [m/s]."""
        dv = 0.0
        above = self.rv_mass
        for i, s in enumerate(self.stages):
            upper = sum(x.gross_mass for x in self.stages[i + 1 :]) + above
            m0 = s.gross_mass + upper
            dv += s.isp_s * G0 * math.log(m0 / (m0 - s.propellant_mass))
        return dv


@dataclass(frozen=True)
class MissileBatch:
    """N missiles packed as padded arrays (stage axis S = the most stages in the batch).

    Stage arrays are ``(N, S)``; missing stages have zero burn time, thrust and mass.
    ``stage_start`` is the ignition time of each stage after launch [s]; ``mass_above`` the
    mass sitting on top of each stage (upper stages + RV) [kg].
    """

    n: int
    stage_start: FloatArray
    burn_time: FloatArray
    thrust: FloatArray
    mass_flow: FloatArray
    gross_mass: FloatArray
    area: FloatArray
    mass_above: FloatArray
    total_burn: FloatArray
    rv_mass: FloatArray
    rv_beta: FloatArray
    drag_cd: FloatArray  # (N, len(MACH_GRID))
    vertical_time: FloatArray
    kick_time: FloatArray
    exit_area: FloatArray  # (N, S) nozzle exit area [m²], 0 for missing stages


def stack(missiles: list[Missile] | tuple[Missile, ...]) -> MissileBatch:
    """Pack missiles into a :class:`MissileBatch` for the batch propagator."""
    n = len(missiles)
    s_max = max(len(m.stages) for m in missiles)
    keys = ("burn", "thrust", "mdot", "gross", "area", "above", "exit")
    arr = {k: np.zeros((n, s_max)) for k in keys}
    cd = np.empty((n, MACH_GRID.size))
    for i, m in enumerate(missiles):
        for j, s in enumerate(m.stages):
            arr["burn"][i, j] = s.burn_time
            arr["thrust"][i, j] = s.thrust_n
            arr["mdot"][i, j] = s.mass_flow
            arr["gross"][i, j] = s.gross_mass
            arr["area"][i, j] = math.pi * s.diameter**2 / 4.0
            arr["exit"][i, j] = s.exit_area_m2
            arr["above"][i, j] = sum(x.gross_mass for x in m.stages[j + 1 :]) + m.rv_mass
        # Empty stage slots keep the last real stage's area so the reference area stays sane.
        arr["area"][i, len(m.stages) :] = arr["area"][i, len(m.stages) - 1]
        cd[i] = np.interp(MACH_GRID, np.asarray(m.drag_mach), np.asarray(m.drag_cd))
    burn = arr["burn"]
    start = np.concatenate([np.zeros((n, 1)), np.cumsum(burn, axis=1)[:, :-1]], axis=1)
    return MissileBatch(
        n=n,
        stage_start=start,
        burn_time=burn,
        thrust=arr["thrust"],
        mass_flow=arr["mdot"],
        gross_mass=arr["gross"],
        area=arr["area"],
        mass_above=arr["above"],
        total_burn=burn.sum(axis=1),
        rv_mass=np.array([m.rv_mass for m in missiles]),
        rv_beta=np.array([m.rv_beta for m in missiles]),
        drag_cd=cd,
        vertical_time=np.array([m.pitch_vertical_time for m in missiles]),
        kick_time=np.array([m.pitch_kick_time for m in missiles]),
        exit_area=arr["exit"],
    )

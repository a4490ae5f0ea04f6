"""Russian ICBM engageability: ICBM fields x target cities x interceptor burnout speeds.

For each burnout speed and each cueing assumption (an :class:`openbmd.architecture.Architecture`
per cueing label), every field -> target pair is aimed once (minimum energy, one batch), and
engaged by :func:`openbmd.engagement.engage_architecture`; the result is the fraction of
trajectories with at least one feasible intercept (``xarray.Dataset``, units in attrs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from openbmd.architecture import Architecture
from openbmd.engagement import engage_architecture
from openbmd.errors import InputError
from openbmd.missiles import Missile
from openbmd.trajectory import EarthModel

__all__ = ["engageability"]


def engageability(
    architectures: dict[str, Architecture],
    missile: Missile,
    fields: Sequence[tuple[str, float, float]],
    targets: Sequence[tuple[str, float, float]],
    speeds: Sequence[float],
    model: EarthModel | None = None,
    dt: float = 2.0,
) -> xr.Dataset:
    """Fraction of field → target trajectories with a feasible intercept, per speed and cueing.

    ``architectures`` maps a cueing label to an :class:`Architecture`; for each burnout speed
    [m/s] every battery's interceptor is set to that speed (its fan built once and cached).
    Every field × target pair is aimed once (minimum energy) as one batch.
    """
    from openbmd.targeting import aim

    if not fields or not targets:
        raise InputError(field="fields", message="need at least one field and one target")
    pairs = [(f, t) for f in fields for t in targets]
    sol = aim(
        missile,
        [f[1] for f, _ in pairs],
        [f[2] for f, _ in pairs],
        [t[1] for _, t in pairs],
        [t[2] for _, t in pairs],
        model=model,
    )
    traj = sol.trajectory
    smp = traj.sample(np.arange(0.0, float(np.nanmax(traj.events.impact_time)) + dt, dt))
    cues = list(architectures)
    shape = (len(speeds), len(cues), len(fields), len(targets))
    feas = np.zeros(shape, dtype=bool)
    first_launch = np.full(shape, np.nan)
    alt = np.full(shape, np.nan)
    for i, v in enumerate(speeds):
        for j, cue in enumerate(cues):
            arch = architectures[cue].with_burnout_speed(v)
            res = engage_architecture(smp, arch, burnout_time=traj.events.burnout_time)
            feas[i, j] = res.feasible.reshape(len(fields), len(targets))
            first_launch[i, j] = res.first_launch.reshape(len(fields), len(targets))
            alt[i, j] = res.intercept_altitude.reshape(len(fields), len(targets))
    ds = xr.Dataset(
        {
            "feasible": (("speed", "cueing", "field", "target"), feas),
            "first_launch": (("speed", "cueing", "field", "target"), first_launch),
            "intercept_altitude": (("speed", "cueing", "field", "target"), alt),
            "fraction": (("speed", "cueing"), feas.reshape(len(speeds), len(cues), -1).mean(-1)),
        },
        coords={
            "speed": np.asarray(speeds, dtype=float),
            "cueing": cues,
            "field": [f[0] for f in fields],
            "target": [t[0] for t in targets],
        },
    )
    for name, unit in (
        ("speed", "m/s"),
        ("feasible", "1"),
        ("first_launch", "s"),
        ("intercept_altitude", "m"),
        ("fraction", "1"),
    ):
        ds[name].attrs["units"] = unit
    return ds

"""Russian ICBM engageability: ICBM fields x target cities x interceptor burnout speeds.

For each burnout speed and each cueing assumption (a :class:`openbmd.analysis.footprint.Defence` per
cueing label), every field -> target pair is aimed once (minimum energy, one batch), detected by
the defence's sensors and engaged; the result is the fraction of trajectories with at least one
feasible intercept (``xarray.Dataset``, units in attrs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from openbmd.analysis.footprint import Defence
from openbmd.engagement import detection_times, engage, launch_times
from openbmd.errors import InputError
from openbmd.missiles import Missile
from openbmd.trajectory import EarthModel

__all__ = ["engageability"]


def engageability(
    defences: dict[str, Defence],
    missile: Missile,
    fields: Sequence[tuple[str, float, float]],
    targets: Sequence[tuple[str, float, float]],
    speeds: Sequence[float],
    model: EarthModel | None = None,
    dt: float = 2.0,
) -> xr.Dataset:
    """Fraction of field → target trajectories with a feasible intercept, per speed and cueing.

    ``defences`` maps a cueing label to a :class:`Defence` (its fan built at the catalogue
    speed); for each burnout speed [m/s] the fan is rebuilt with that speed. Every field ×
    target pair is aimed once (minimum energy) as one batch.
    """
    from openbmd.interceptors import flyout_fan
    from openbmd.targeting import aim

    if not fields or not targets:
        raise InputError("--fields/--targets: need at least one field and one target")
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
    cues = list(defences)
    shape = (len(speeds), len(cues), len(fields), len(targets))
    feas = np.zeros(shape, dtype=bool)
    first_launch = np.full(shape, np.nan)
    alt = np.full(shape, np.nan)
    for i, v in enumerate(speeds):
        for j, cue in enumerate(cues):
            d = defences[cue]
            base = d.fan
            fan = flyout_fan(base.interceptor.with_burnout_speed(v), base.site_lat, base.site_lon)
            det = detection_times(smp, d.sensors, d.rcs)
            fc = np.asarray(d.fire_control, dtype=bool)
            l0 = launch_times(det[:, fc], det[:, ~fc], d.cue, fan.interceptor.decision_delay)
            res = engage(smp, traj.events.burnout_time, fan, l0, d.kill_assessment)
            feas[i, j] = res.feasible.reshape(len(fields), len(targets))
            first_launch[i, j] = res.first_launch.reshape(len(fields), len(targets))
            alt[i, j] = res.first.altitude.reshape(len(fields), len(targets))
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

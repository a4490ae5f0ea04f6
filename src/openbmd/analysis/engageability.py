"""Russian ICBM engageability: ICBM fields x target cities x interceptor burnout speeds.

For each burnout speed and each cueing assumption (an :class:`openbmd.architecture.Architecture`
per cueing label), every field -> target pair is aimed once (minimum energy, one batch), and
engaged by :func:`openbmd.engagement.engage_architecture`; the result is the fraction of
trajectories with at least one feasible intercept (``xarray.Dataset``, units in attrs), and for
every pair that is not engageable the first rule it fails (``reason``: never tracked, out of
battle space, closing too slow, crossing too wide, PIP error too large —
:data:`openbmd.engagement.REASONS`), counted per speed and cueing in ``reason_count``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from openbmd.architecture import Architecture
from openbmd.engagement import REASONS, engage_architecture
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
    reason = np.zeros(shape, dtype=np.int8)
    per_pair = {k: np.full(shape, np.nan) for k, _ in _PER_PAIR}
    for i, v in enumerate(speeds):
        for j, cue in enumerate(cues):
            arch = architectures[cue].with_burnout_speed(v)
            res = engage_architecture(smp, arch, burnout_time=traj.events.burnout_time)
            feas[i, j] = res.feasible.reshape(len(fields), len(targets))
            reason[i, j] = np.asarray(res.reason).reshape(len(fields), len(targets))
            for k, _ in _PER_PAIR:
                per_pair[k][i, j] = np.asarray(getattr(res, k)).reshape(len(fields), len(targets))
    dims = ("speed", "cueing", "field", "target")
    counts = (
        (reason[..., None] == np.arange(len(REASONS)))
        .reshape(len(speeds), len(cues), -1, len(REASONS))
        .sum(axis=2)
    )
    ds = xr.Dataset(
        {
            "feasible": (dims, feas),
            "reason": (dims, reason),
            **{k: (dims, a) for k, a in per_pair.items()},
            "fraction": (("speed", "cueing"), feas.reshape(len(speeds), len(cues), -1).mean(-1)),
            "reason_count": (("speed", "cueing", "reason_name"), counts),
        },
        coords={
            "speed": np.asarray(speeds, dtype=float),
            "cueing": cues,
            "field": [f[0] for f in fields],
            "target": [t[0] for t in targets],
            "reason_name": list(REASONS),
        },
    )
    for name, unit in (
        ("speed", "m/s"),
        ("feasible", "1"),
        ("reason", "1"),
        ("fraction", "1"),
        ("reason_count", "1"),
        *_PER_PAIR,
    ):
        ds[name].attrs["units"] = unit
    # CF flag convention: the integer codes and what they mean
    ds["reason"].attrs["flag_values"] = np.arange(len(REASONS), dtype=np.int8)
    ds["reason"].attrs["flag_meanings"] = " ".join(r.replace(" ", "_") for r in REASONS)
    return ds


# Per-pair results of the chosen battery's first shot (NaN where not engageable) and units.
_PER_PAIR = (
    ("first_launch", "s"),
    ("intercept_altitude", "m"),
    ("closing_speed", "m/s"),
    ("crossing_angle", "rad"),
    ("pip_error_commit", "m"),
    ("pip_error_acquisition", "m"),
    ("divert_required", "m/s"),
)

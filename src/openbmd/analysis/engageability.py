"""Engageability: launch fields × target cities × interceptor burnout speeds.

For each burnout speed and each cueing assumption (an :class:`openbmd.architecture.Architecture`
per cueing label), every field → target pair the missile can reach is aimed once (one batch, on
the threat's trajectory shape) and engaged by :func:`openbmd.engagement.engage_architecture`;
the result is the fraction of those trajectories with at least one feasible intercept
(``xarray.Dataset``, units in attrs), and for every pair that is not engageable the first rule
it fails (``reason``: never tracked, out of battle space, closing too slow, crossing too wide,
outside seeker field of view, PIP error too large — :data:`openbmd.engagement.REASONS`),
counted per speed and cueing in
``reason_count``. Pairs out of the missile's reach are not threatened: they are left out of
the fraction and the counts (``in_reach`` says which; their ``reason`` is −1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from openbmd.architecture import Architecture
from openbmd.engagement import REASONS, engage_architecture
from openbmd.errors import InputError, OutOfRangeError
from openbmd.missiles import Missile
from openbmd.targeting import max_range
from openbmd.trajectory import EarthModel, TrajectorySample, surface_distance

__all__ = ["REACH_MARGIN", "Aimed", "aim_pairs", "engageability", "within_reach"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
REACH_MARGIN = 0.995  # pairs this close to the maximum range are left out (aiming there fails)

#: (sample of the pairs in reach, their burnout times [s], in-reach mask of all pairs)
Aimed = tuple[TrajectorySample, FloatArray, BoolArray]


def within_reach(
    missile: Missile,
    launch_lat: Any,
    launch_lon: Any,
    aim_lat: Any,
    aim_lon: Any,
    model: EarthModel | None = None,
) -> tuple[BoolArray, Any]:
    """Which launch → aimpoint pairs [rad] the missile can reach, and the maximum-range search.

    A pair is in reach when its distance is at most :data:`REACH_MARGIN` of the maximum range
    in that direction (one batched search for all pairs).
    """
    model = model or EarthModel()
    dist, az0 = surface_distance(launch_lat, launch_lon, aim_lat, aim_lon, model)
    # A missile class's reach barely depends on the launch latitude over a region; the
    # maximum range is searched per pair all the same (one batch), it is cheap next to aiming.
    with np.errstate(invalid="ignore"):
        mr = max_range(missile, launch_lat, launch_lon, az0, model)
    return (dist <= REACH_MARGIN * mr.range) & (dist > 0.0), mr


def aim_pairs(
    missile: Missile,
    fields: Sequence[tuple[str, float, float]],
    targets: Sequence[tuple[str, float, float]],
    model: EarthModel | None = None,
    dt: float = 2.0,
    shape: str = "min-energy",
) -> Aimed:
    """Aim every field × target pair in reach (one batch, field-major), sampled every ``dt``."""
    from openbmd.targeting import aim

    if not fields or not targets:
        raise InputError(field="fields", message="need at least one field and one target")
    pairs = [(f, t) for f in fields for t in targets]
    f_lat = np.array([f[1] for f, _ in pairs], dtype=float)
    f_lon = np.array([f[2] for f, _ in pairs], dtype=float)
    t_lat = np.array([t[1] for _, t in pairs], dtype=float)
    t_lon = np.array([t[2] for _, t in pairs], dtype=float)
    ok, _ = within_reach(missile, f_lat, f_lon, t_lat, t_lon, model)
    if not ok.any():
        raise OutOfRangeError(
            field="targets", message=f"no target is within the reach of {missile.name}"
        )
    with np.errstate(invalid="ignore"):  # NaN probes of the kick search near reach
        sol = aim(missile, f_lat[ok], f_lon[ok], t_lat[ok], t_lon[ok], shape=shape, model=model)
    traj = sol.trajectory
    smp = traj.sample(np.arange(0.0, float(np.nanmax(traj.events.impact_time)) + dt, dt))
    return smp, np.asarray(traj.events.burnout_time, dtype=float), ok


def engageability(
    architectures: dict[str, Architecture],
    missile: Missile,
    fields: Sequence[tuple[str, float, float]],
    targets: Sequence[tuple[str, float, float]],
    speeds: Sequence[float | None],
    model: EarthModel | None = None,
    dt: float = 2.0,
    shape: str = "min-energy",
    aimed: Aimed | None = None,
    swept: tuple[str, ...] | None = None,
    detection_cache: dict[Any, Any] | None = None,
) -> xr.Dataset:
    """Fraction of field → target trajectories with a feasible intercept, per speed and cueing.

    ``architectures`` maps a cueing label to an :class:`Architecture`; for each burnout speed
    [m/s] every battery's interceptor is set to that speed (its fan built once and cached);
    a speed of ``None`` keeps each interceptor's catalogued speed (coordinate NaN).
    The pairs in reach are aimed once (``shape``) as one batch, or ``aimed`` is the result of
    :func:`aim_pairs` for the same pairs. Each sensor's detections are computed once and shared
    by every speed and cueing label. ``swept``: only these interceptors (names) take the swept
    speed (``None``: every battery), see :meth:`Architecture.with_burnout_speed`.
    ``detection_cache``: shared by calls on the same ``aimed`` sample (see
    :func:`openbmd.engagement.engage_architecture`); default: one for this call.
    """
    smp, burnout, ok = (
        aimed if aimed is not None else aim_pairs(missile, fields, targets, model, dt, shape)
    )
    cues = list(architectures)
    n_f, n_t = len(fields), len(targets)
    if ok.size != n_f * n_t or smp.r_ecef.shape[0] != int(ok.sum()):
        raise InputError(field="aimed", message="the sample does not match fields x targets")
    flat = (len(speeds), len(cues), n_f * n_t)
    feas = np.zeros(flat, dtype=bool)
    reason = np.full(flat, -1, dtype=np.int8)
    per_pair = {k: np.full(flat, np.nan) for k, _ in _PER_PAIR}
    # One sample: every sensor is evaluated once, across calls too when the caller shares it.
    cache: dict[Any, Any] = {} if detection_cache is None else detection_cache
    for i, v in enumerate(speeds):
        for j, cue in enumerate(cues):
            arch = architectures[cue]
            arch = arch if v is None else arch.with_burnout_speed(v, swept)
            res = engage_architecture(smp, arch, burnout_time=burnout, detection_cache=cache)
            feas[i, j, ok] = res.feasible
            reason[i, j, ok] = np.asarray(res.reason)
            for k, _ in _PER_PAIR:
                per_pair[k][i, j, ok] = np.asarray(getattr(res, k))
    dims = ("speed", "cueing", "field", "target")
    shape4 = (len(speeds), len(cues), n_f, n_t)
    counts = (reason[..., ok][..., None] == np.arange(len(REASONS))).sum(axis=2)
    ds = xr.Dataset(
        {
            "feasible": (dims, feas.reshape(shape4)),
            "reason": (dims, reason.reshape(shape4)),
            **{k: (dims, a.reshape(shape4)) for k, a in per_pair.items()},
            "in_reach": (("field", "target"), ok.reshape(n_f, n_t)),
            "fraction": (("speed", "cueing"), feas[..., ok].mean(-1)),
            "reason_count": (("speed", "cueing", "reason_name"), counts),
        },
        coords={
            "speed": np.array([np.nan if v is None else v for v in speeds], dtype=float),
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
        ("in_reach", "1"),
        ("reason_count", "1"),
        *_PER_PAIR,
    ):
        ds[name].attrs["units"] = unit
    # CF flag convention: the integer codes and what they mean (−1: out of the missile's reach)
    ds["reason"].attrs["flag_values"] = np.arange(-1, len(REASONS), dtype=np.int8)
    ds["reason"].attrs["flag_meanings"] = " ".join(
        ["out_of_missile_reach", *(r.replace(" ", "_") for r in REASONS)]
    )
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

"""The reverse map: from which launch areas can a site deny an attack on a defended region?

For one architecture (batteries, sensors with roles, command rules), a missile class
and a list of defended aimpoints, every cell of a lat/lon grid of *launch points* is paired with
every aimpoint. A pair is **in reach** when the aimpoint lies within the missile's maximum range
from the launch point in that direction (:func:`openbmd.targeting.max_range`, one batch for all
pairs); pairs in reach are aimed (minimum energy, :func:`openbmd.targeting.aim`) in chunks of
``chunk`` trajectories, sampled on one global time grid, detected and engaged
(:func:`openbmd.analysis.footprint.engage_trajectories`). A pair is **denied** when its
trajectory has at
least one feasible intercept.

Per launch point the result gives the number of aimpoints in reach, the number denied, the
*denied fraction* (NaN where nothing is in reach) and ``denied_all`` — every aimpoint in reach is
denied, i.e. an attack on the defended region from there can be engaged whatever it aims at. A
launch point with no aimpoint in reach is never deniable.

Cost: one maximum-range search and ~10 batched propagations per chunk; no Python loop over grid
points. Chunking bounds memory only: every pair is aimed on its own guidance (the aimer iterates
a chunk as a batch, so a pair's trajectory can differ by less than the aiming tolerance, 200 m at
impact, between chunkings; the unit tests check that the maps agree).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from openbmd.analysis.engageability import REACH_MARGIN, within_reach
from openbmd.analysis.footprint import engage_trajectories, grid_axes
from openbmd.architecture import Architecture
from openbmd.constants import DEG
from openbmd.engagement import flyout_fans
from openbmd.errors import InputError
from openbmd.missiles import Missile
from openbmd.targeting import aim
from openbmd.trajectory import EarthModel

__all__ = ["deny_map", "deny_summary"]

FloatArray = NDArray[np.float64]


def deny_map(
    architecture: Architecture,
    missile: Missile,
    targets: Sequence[tuple[str, float, float]],
    region: Sequence[float],
    grid_deg: float = 1.0,
    chunk: int = 1024,
    dt: float = 5.0,
    model: EarthModel | None = None,
) -> xr.Dataset:
    """Reverse map over launch ``region`` [deg] against ``targets`` (name, lat, lon [rad])."""
    if not targets:
        raise InputError(field="targets", message="give at least one defended aimpoint")
    if not chunk >= 1:
        raise InputError(f"chunk: {chunk!r} must be >= 1")
    model = model or EarthModel()
    fans = flyout_fans(architecture)
    lats, lons = grid_axes(region, grid_deg)
    glat, glon = np.meshgrid(lats * DEG, lons * DEG, indexing="ij")
    n_g, n_t = glat.size, len(targets)
    # Every (launch point, aimpoint) pair, launch-major.
    p_lat, p_lon = np.repeat(glat.ravel(), n_t), np.repeat(glon.ravel(), n_t)
    t_lat = np.tile(np.array([t[1] for t in targets], dtype=float), n_g)
    t_lon = np.tile(np.array([t[2] for t in targets], dtype=float), n_g)
    reach, mr = within_reach(missile, p_lat, p_lon, t_lat, t_lon, model)
    idx = np.flatnonzero(reach)
    denied = np.zeros(idx.size, dtype=bool)
    shots = np.zeros(idx.size, dtype=np.int64)
    alt = np.full(idx.size, np.nan)
    if idx.size:
        # Global time grid: long enough for the slowest pair of the class (the maximum range).
        t_end = float(np.nanmax(mr.trajectory.events.impact_time[idx])) * 1.05 + 2 * dt
        times = np.arange(0.0, t_end, dt)
        for s in range(0, idx.size, chunk):  # chunks bound memory; rows are independent
            sl = slice(s, s + chunk)
            k = idx[sl]
            with np.errstate(invalid="ignore"):  # NaN probes of the kick search near reach
                sol = aim(missile, p_lat[k], p_lon[k], t_lat[k], t_lon[k], model=model)
            res = engage_trajectories(architecture, sol.trajectory, times, fans)
            denied[sl] = res.feasible
            shots[sl] = res.shots
            alt[sl] = res.intercept_altitude
    in_reach = np.zeros(n_g * n_t, dtype=bool)
    in_reach[idx] = True
    den = np.zeros(n_g * n_t, dtype=bool)
    den[idx] = denied
    n_shot = np.zeros(n_g * n_t, dtype=np.int64)
    n_shot[idx] = shots
    i_alt = np.full(n_g * n_t, np.nan)
    i_alt[idx] = alt
    shape3 = (*glat.shape, n_t)
    in_reach, den = in_reach.reshape(shape3), den.reshape(shape3)
    n_reach = in_reach.sum(-1)
    n_den = den.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(n_reach > 0, n_den / np.maximum(n_reach, 1), np.nan)
    ds = xr.Dataset(
        {
            "in_reach": (("lat", "lon", "target"), in_reach),
            "denied": (("lat", "lon", "target"), den),
            "shot_opportunities": (("lat", "lon", "target"), n_shot.reshape(shape3)),
            "intercept_altitude": (("lat", "lon", "target"), i_alt.reshape(shape3)),
            "targets_in_reach": (("lat", "lon"), n_reach.astype(np.int64)),
            "targets_denied": (("lat", "lon"), n_den.astype(np.int64)),
            "denied_fraction": (("lat", "lon"), frac),
            "denied_all": (("lat", "lon"), (n_reach > 0) & (n_den == n_reach)),
        },
        coords={
            "lat": lats,
            "lon": lons,
            "target": [t[0] for t in targets],
            "target_lat": ("target", np.array([t[1] for t in targets]) / DEG),
            "target_lon": ("target", np.array([t[2] for t in targets]) / DEG),
        },
    )
    units = {
        "lat": "degrees_north",
        "lon": "degrees_east",
        "target_lat": "degrees_north",
        "target_lon": "degrees_east",
        "in_reach": "1",
        "denied": "1",
        "shot_opportunities": "1",
        "intercept_altitude": "m",
        "targets_in_reach": "1",
        "targets_denied": "1",
        "denied_fraction": "1",
        "denied_all": "1",
    }
    for name, unit in units.items():
        ds[name].attrs["units"] = unit
    ds.attrs["reach_margin"] = REACH_MARGIN
    ds.attrs["trajectory_shape"] = "min-energy"
    return ds


def deny_summary(ds: xr.Dataset) -> dict[str, object]:
    """Counts for people and JSON: launch cells that threaten, that are fully/partly denied."""
    n_reach = ds["targets_in_reach"].values
    threat = n_reach > 0
    frac = ds["denied_fraction"].values
    full = ds["denied_all"].values
    per_target = ds["denied"].values.sum((0, 1))
    per_target_reach = ds["in_reach"].values.sum((0, 1))
    return {
        "launch_cells": int(n_reach.size),
        "launch_cells_in_reach_of_a_target": int(threat.sum()),
        "launch_cells_fully_denied": int(full.sum()),
        "launch_cells_partly_denied": int((threat & (frac > 0) & ~full).sum()),
        "fully_denied_fraction_of_threatening_cells": float(full[threat].mean())
        if threat.any()
        else None,
        "mean_denied_fraction": float(np.nanmean(frac)) if threat.any() else None,
        "per_target": {
            str(name): {"launch_cells_in_reach": int(r), "launch_cells_denied": int(d)}
            for name, r, d in zip(ds["target"].values, per_target_reach, per_target, strict=True)
        },
    }

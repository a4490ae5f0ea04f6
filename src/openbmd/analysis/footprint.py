"""Defended footprints on a lat/lon grid (results as ``xarray.Dataset``).

For one architecture (:class:`openbmd.architecture.Architecture`: batteries, sensors with roles,
command rules), threat launch areas and a missile class, every aimpoint of a grid is marked
*defended* if a threat flown to it can be engaged at least once by some battery
(:func:`openbmd.engagement.engage_architecture`), with its shot opportunities and intercept
altitude.

Aiming every grid point would cost ~10 propagations per point. Instead, per launch area, a
**threat lattice** is flown once as one batch (in chunks): launch azimuths every ``az_step``
across the region's sector × thrust cut-off times chosen for impact ranges every
``range_step`` (the minimum-energy shape of :func:`openbmd.targeting.aim`: the maximum-range kick
of the class, energy managed by the cut-off). Every lattice trajectory is sampled at common
times, run through the sensors and engaged. A grid aimpoint then takes the result of the
lattice trajectories whose *actual* impact points are nearest to it: the engagement slack
(latest feasible launch − earliest launch, best over the batteries) is interpolated by inverse
distance over the 4 nearest impacts and the point is defended where it is ≥ 0; shot count and
intercept altitude come from the nearest one. A point is *threatened* if a lattice impact lies
within 1.5 lattice spacings of it (so a class's maximum range is resolved to about a spacing).
Results do not depend on chunking: every trajectory is flown, sampled on the same global time
grid and engaged independently.

Several launch areas: a point is defended if it is defended against every area that threatens
it. Cities (``openbmd.catalog.places.load_cities``) inside the region are evaluated as extra
aimpoints;
the defended share of their population is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from openbmd import earth
from openbmd.architecture import Architecture
from openbmd.constants import DEG
from openbmd.engagement import ArchitectureEngagement, engage_architecture, flyout_fans
from openbmd.errors import InputError
from openbmd.interceptors import FlyoutFan
from openbmd.missiles import Missile, stack
from openbmd.targeting import max_range
from openbmd.trajectory import EarthModel, Guidance, fly

FloatArray = NDArray[np.float64]

REGIONS: dict[str, tuple[float, float, float, float]] = {
    # lat_min, lat_max, lon_min, lon_max [deg]
    "europe": (35.0, 72.0, -12.0, 45.0),
    "middle-east": (24.0, 42.0, 38.0, 64.0),  # Iranian and neighbouring launch areas
}
SLACK_FLOOR = -3600.0  # [s] stands for "no battle space" when interpolating the slack


@dataclass(frozen=True)
class LatticeResult:
    """Engagement of one launch area's threat lattice (M trajectories)."""

    impact_lat: FloatArray
    impact_lon: FloatArray
    slack: FloatArray
    shots: NDArray[np.int64]
    intercept_alt: FloatArray
    spacing: FloatArray  # local lattice spacing at each impact [m]


def grid_axes(region: Sequence[float], step_deg: float) -> tuple[FloatArray, FloatArray]:
    """Cell-centre latitudes and longitudes [deg] of a region ``(lat0, lat1, lon0, lon1)``."""
    if not (np.isfinite(step_deg) and step_deg > 0.0):
        raise InputError(
            field="grid_deg", message=f"{step_deg!r} must be a positive number of degrees"
        )
    lat0, lat1, lon0, lon1 = (float(x) for x in region)
    if not (lat0 < lat1 and lon0 < lon1):
        raise InputError(f"region: ({lat0}, {lat1}, {lon0}, {lon1}) is empty")
    lats = np.arange(lat0 + step_deg / 2, lat1, step_deg)
    lons = np.arange(lon0 + step_deg / 2, lon1, step_deg)
    if lats.size == 0 or lons.size == 0:
        raise InputError(
            field="grid_deg", message=f"{step_deg:g} deg leaves no grid point in the region"
        )
    return lats, lons


def engage_trajectories(
    architecture: Architecture,
    traj: Any,
    times: FloatArray,
    fans: Sequence[FlyoutFan] | None = None,
) -> ArchitectureEngagement:
    """Sample flown threats at ``times`` and engage them with ``architecture``."""
    return engage_architecture(
        traj.sample(times), architecture, fans=fans, burnout_time=traj.events.burnout_time
    )


def threat_lattices(
    architectures: Sequence[Architecture],
    missile: Missile,
    launch_lat: float,
    launch_lon: float,
    az_range: tuple[float, float],
    range_span: tuple[float, float],
    az_step: float = 1.0 * DEG,
    range_step: float = 100e3,
    chunk: int = 2048,
    dt: float = 5.0,
    model: EarthModel | None = None,
    fans: Sequence[Sequence[FlyoutFan]] | None = None,
) -> list[LatticeResult] | None:
    """Fly the lattice of one launch area once and engage it with every architecture.

    Angles [rad], lengths [m]. ``fans``: per architecture, one fan per battery (default: built
    and cached). Returns one :class:`LatticeResult` per architecture, or ``None`` when the
    missile cannot reach the range span from this area. The flight and each sensor's
    detections are computed once per chunk and shared by the architectures.
    """
    model = model or EarthModel()
    fan_sets = (
        [tuple(f) for f in fans] if fans is not None else [flyout_fans(a) for a in architectures]
    )
    az_c = 0.5 * (az_range[0] + az_range[1])
    mr = max_range(missile, launch_lat, launch_lon, az_c, model)
    kick = float(mr.kick_angle[0])
    t_end = float(mr.trajectory.events.impact_time[0]) * 1.05 + 2 * dt
    # Range versus cut-off at the central azimuth, inverted for evenly spaced ranges.
    t_lo = missile.pitch_vertical_time + missile.pitch_kick_time + 5.0
    cut = np.linspace(t_lo, missile.burn_time, 64)
    scan = fly(
        stack([missile] * cut.size),
        launch_lat,
        launch_lon,
        Guidance.of(cut.size, az_c, kick, cut),
        model,
        record=False,
    )
    rng_scan = np.maximum.accumulate(np.nan_to_num(scan.ground_range(), nan=0.0))
    r_lo = max(range_span[0], float(rng_scan[0]))
    r_hi = min(range_span[1] + range_step, float(rng_scan[-1]))
    if r_hi <= r_lo:
        return None
    ranges = np.arange(r_lo, r_hi + 0.5 * range_step, range_step)
    cutoffs = np.interp(ranges, rng_scan, cut)
    cutoffs[ranges >= rng_scan[-1]] = np.inf
    azs = np.arange(az_range[0], az_range[1] + 0.5 * az_step, az_step)
    aa, cc = np.repeat(azs, cutoffs.size), np.tile(cutoffs, azs.size)
    spacing = np.tile(np.maximum(range_step, ranges * az_step), azs.size)
    times = np.arange(0.0, t_end, dt)
    parts: list[list[tuple[Any, ...]]] = [[] for _ in architectures]
    for s in range(0, aa.size, chunk):  # chunks bound memory; every row is independent
        sl = slice(s, s + chunk)
        n = aa[sl].size
        traj = fly(
            stack([missile] * n), launch_lat, launch_lon, Guidance.of(n, aa[sl], kick, cc[sl]),
            model,
        )  # fmt: skip
        smp = traj.sample(times)
        ilat, ilon = traj.impact_geodetic()
        cache: dict[Any, Any] = {}  # this chunk's detections, shared by the architectures
        for k, (arch, f) in enumerate(zip(architectures, fan_sets, strict=True)):
            res = engage_architecture(
                smp, arch, fans=f, burnout_time=traj.events.burnout_time, detection_cache=cache
            )
            parts[k].append((ilat, ilon, res.slack, res.shots, res.intercept_altitude))
    out = []
    for p in parts:
        cat = [np.concatenate([q[k] for q in p]) for k in range(5)]
        out.append(LatticeResult(cat[0], cat[1], cat[2], cat[3].astype(np.int64), cat[4], spacing))
    return out


def threat_lattice(
    architecture: Architecture,
    missile: Missile,
    launch_lat: float,
    launch_lon: float,
    az_range: tuple[float, float],
    range_span: tuple[float, float],
    az_step: float = 1.0 * DEG,
    range_step: float = 100e3,
    chunk: int = 2048,
    dt: float = 5.0,
    model: EarthModel | None = None,
    fans: Sequence[FlyoutFan] | None = None,
) -> LatticeResult:
    """Fly and engage the lattice of one launch area (angles [rad], lengths [m])."""
    res = threat_lattices(
        [architecture], missile, launch_lat, launch_lon, az_range, range_span, az_step,
        range_step, chunk, dt, model, None if fans is None else [fans],
    )  # fmt: skip
    if res is None:
        raise InputError("launch area: the missile cannot reach the region from there")
    return res[0]


def _unit(lat: FloatArray, lon: FloatArray) -> FloatArray:
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


def map_to_points(res: LatticeResult, lat: FloatArray, lon: FloatArray) -> dict[str, FloatArray]:
    """Map lattice results to aimpoints [rad]: threatened, defended, shots, intercept altitude."""
    ok = np.isfinite(res.impact_lat)
    tree = cKDTree(_unit(res.impact_lat[ok], res.impact_lon[ok]))
    k = min(4, int(ok.sum()))
    dist, idx = tree.query(_unit(lat, lon), k=k)
    dist, idx = dist.reshape((*lat.shape, k)), idx.reshape((*lat.shape, k))
    dist_m = dist * 6371e3
    slack = np.clip(res.slack[ok], SLACK_FLOOR, -SLACK_FLOOR)[idx]
    wgt = 1.0 / np.maximum(dist_m, 1.0) ** 2
    s_interp = (wgt * slack).sum(-1) / wgt.sum(-1)
    near = idx[..., 0]
    threatened = dist_m[..., 0] <= 1.5 * res.spacing[ok][near]
    defended = threatened & (s_interp >= 0.0)
    shots = np.where(defended, res.shots[ok][near], 0)
    alt = np.where(defended, res.intercept_alt[ok][near], np.nan)
    return {"threatened": threatened, "defended": defended, "shots": shots, "alt": alt}


def footprint(
    architecture: Architecture,
    missile: Missile,
    launch_areas: Sequence[tuple[str, float, float]],
    region: Sequence[float],
    grid_deg: float = 0.5,
    cities: Sequence[Any] = (),
    az_step: float = 1.0 * DEG,
    range_step: float = 100e3,
    chunk: int = 2048,
    model: EarthModel | None = None,
    fans: Sequence[FlyoutFan] | None = None,
) -> xr.Dataset:
    """Defended footprint over ``region`` [deg] against ``launch_areas`` (name, lat, lon [rad]).

    ``fans``: one fly-out fan per battery of ``architecture`` (default: built and cached).
    """
    return footprints(
        [architecture], missile, launch_areas, region, grid_deg, cities, az_step, range_step,
        chunk, model, None if fans is None else [fans],
    )[0]  # fmt: skip


def footprints(
    architectures: Sequence[Architecture],
    missile: Missile,
    launch_areas: Sequence[tuple[str, float, float]],
    region: Sequence[float],
    grid_deg: float = 0.5,
    cities: Sequence[Any] = (),
    az_step: float = 1.0 * DEG,
    range_step: float = 100e3,
    chunk: int = 2048,
    model: EarthModel | None = None,
    fans: Sequence[Sequence[FlyoutFan]] | None = None,
) -> list[xr.Dataset]:
    """:func:`footprint` of several architectures against the same threats, one per architecture.

    The threat lattices are flown once and engaged by every architecture, so each Dataset is
    the one :func:`footprint` gives for that architecture alone. A launch area whose missile
    cannot reach the region threatens none of it; at least one must reach.
    """
    if not launch_areas:
        raise InputError(field="launch_area", message="give at least one launch area")
    if not architectures:
        raise InputError(field="architectures", message="give at least one architecture")
    fan_sets = (
        [tuple(f) for f in fans] if fans is not None else [flyout_fans(a) for a in architectures]
    )
    lats, lons = grid_axes(region, grid_deg)
    glat, glon = np.meshgrid(lats * DEG, lons * DEG, indexing="ij")
    cl = [
        c
        for c in cities
        if region[0] <= c.lat_deg <= region[1] and region[2] <= c.lon_deg <= region[3]
    ]
    clat = np.array([c.lat_deg for c in cl]) * DEG
    clon = np.array([c.lon_deg for c in cl]) * DEG
    keys = ("threatened", "defended", "shots", "alt")
    per_area = [{k: [] for k in keys} for _ in architectures]  # type: ignore[var-annotated]
    per_city = [{k: [] for k in keys} for _ in architectures]  # type: ignore[var-annotated]
    pts_lat = np.concatenate([glat.ravel(), clat])
    pts_lon = np.concatenate([glon.ravel(), clon])
    reached = []
    for name, a_lat, a_lon in launch_areas:
        dist, az, _ = earth.geodesic_inverse(a_lat, a_lon, pts_lat, pts_lon)
        az_u = np.unwrap(np.sort(az))  # the sector of the region as seen from the area
        gap = np.argmax(np.diff(np.concatenate([az_u, az_u[:1] + 2 * np.pi])))
        lo = az_u[(gap + 1) % az_u.size]
        span = float(np.mod(az_u[gap] - lo, 2 * np.pi))
        res = threat_lattices(
            architectures, missile, a_lat, a_lon, (lo - az_step, lo + span + az_step),
            (float(dist.min()), float(dist.max())), az_step, range_step, chunk, model=model,
            fans=fan_sets,
        )  # fmt: skip
        if res is None:
            continue
        reached.append(name)
        for k, r in enumerate(res):
            out = map_to_points(r, pts_lat, pts_lon)
            for key, arr in out.items():
                per_area[k][key].append(arr[: glat.size].reshape(glat.shape))
                per_city[k][key].append(arr[glat.size :])
    if not reached:
        raise InputError(
            field="launch_area",
            message=f"{missile.name} cannot reach the region from any of the launch areas",
        )
    return [
        _combine(per_area[k], per_city[k], reached, lats, lons, cl)
        for k in range(len(architectures))
    ]


def _combine(
    per_area: dict[str, list[Any]],
    per_city: dict[str, list[Any]],
    names: list[str],
    lats: FloatArray,
    lons: FloatArray,
    cl: list[Any],
) -> xr.Dataset:
    """One architecture's footprint: defended where defended against every threatening area."""
    st: dict[str, Any] = {k: np.stack(v) for k, v in per_area.items()}
    thr_any = st["threatened"].any(0)
    defended = thr_any & np.all(st["defended"] | ~st["threatened"], axis=0)
    shots = np.where(defended, np.where(st["threatened"], st["shots"], 99).min(0), 0)
    alt = np.where(
        defended, np.fmin.reduce(np.where(st["threatened"], st["alt"], np.nan), 0), np.nan
    )
    ds = xr.Dataset(
        {
            "defended": (("lat", "lon"), defended),
            "threatened": (("lat", "lon"), thr_any),
            "shot_opportunities": (("lat", "lon"), shots.astype(np.int64)),
            "intercept_altitude": (("lat", "lon"), alt),
            "defended_by_area": (("launch_area", "lat", "lon"), st["defended"]),
            "threatened_by_area": (("launch_area", "lat", "lon"), st["threatened"]),
        },
        coords={"lat": lats, "lon": lons, "launch_area": names},
    )
    if cl:
        ct: Any = np.stack(per_city["threatened"])
        cd: Any = np.stack(per_city["defended"])
        c_def = ct.any(0) & np.all(cd | ~ct, axis=0)
        ds = ds.assign_coords(city=[c.name for c in cl])
        ds["city_defended"] = ("city", c_def)
        ds["city_threatened"] = ("city", ct.any(0))
        ds["city_population"] = ("city", np.array([c.population for c in cl], dtype=np.int64))
        ds["city_country"] = ("city", np.array([getattr(c, "country", "") for c in cl], dtype=str))
    _attrs(ds)
    return ds


def _attrs(ds: xr.Dataset) -> None:
    units = {
        "lat": "degrees_north",
        "lon": "degrees_east",
        "defended": "1",
        "threatened": "1",
        "shot_opportunities": "1",
        "intercept_altitude": "m",
        "defended_by_area": "1",
        "threatened_by_area": "1",
        "city_defended": "1",
        "city_threatened": "1",
        "city_population": "persons",
    }
    for name, unit in units.items():
        if name in ds.variables:
            ds[name].attrs["units"] = unit


def population_summary(ds: xr.Dataset) -> dict[str, Any]:
    """Defended cities and the defended share of the population (of threatened cities)."""
    if "city" not in ds.coords:
        return {"defended_cities": [], "population_defended_fraction": None}
    pop = ds["city_population"].values.astype(float)
    thr = ds["city_threatened"].values
    dfd = ds["city_defended"].values
    names = [str(c) for c in ds["city"].values]
    return {
        "defended_cities": [n for n, d in zip(names, dfd, strict=True) if d],
        "undefended_threatened_cities": [
            n for n, d, t in zip(names, dfd, thr, strict=True) if t and not d
        ],
        "population_threatened": float(pop[thr].sum()),
        "population_defended": float(pop[dfd].sum()),
        "population_defended_fraction": float(pop[dfd].sum() / pop[thr].sum())
        if thr.any()
        else None,
        "population_total_in_region": float(pop.sum()),
    }

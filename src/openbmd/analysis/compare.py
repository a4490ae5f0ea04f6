"""Architectures side by side: every analysis of a :class:`~openbmd.analysis.study.Study`.

:func:`compare` runs, for every threat class,

* **footprints** over each defended region (:func:`openbmd.analysis.footprint.footprints`: the
  threat lattice is flown once and engaged by every architecture), with the study's aimpoints
  (cities with population, named targets) evaluated exactly;
* **engageability** of every launch area × target pair versus interceptor burnout speed, per
  commit rule, and versus each further swept parameter (exchange latency, decision delay),
  at the architecture's own speeds (:func:`openbmd.analysis.engageability.engageability`);
* **reach** of short-range threats (nominal range ≤ ``reach.short_range_km``, default 1,000
  km): which battery, radar and named sites lie within the missile's nominal range of its launch
  areas (:func:`openbmd.reach.reach`);
* **timelines** of a representative trajectory (:func:`openbmd.analysis.timeline.timeline`).

Results are ``xarray.Dataset`` objects with named dims (``architecture``, ``threat``, ``lat``,
``lon``, ``speed``, ``commit``, …) and units in ``attrs``; :mod:`openbmd.analysis.ledger` sums
them into the table a committee reads. Loops run over threat classes, regions, architectures
and swept values — never over grid points or trajectories.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import xarray as xr

from openbmd.analysis.engageability import aim_pairs, engageability
from openbmd.analysis.footprint import footprints
from openbmd.analysis.study import Study, ThreatClass
from openbmd.analysis.timeline import timeline
from openbmd.architecture import COMMIT_RULES, Architecture
from openbmd.constants import DEG
from openbmd.errors import InputError, OutOfRangeError
from openbmd.interceptors import flyout_fan
from openbmd.reach import reach

__all__ = ["SHORT_RANGE_KM", "Comparison", "compare"]

#: Threat classes whose nominal range is at most this are "short range": the reach question
#: (which sites they can strike) is asked of them (settable: ``reach.short_range_km``).
SHORT_RANGE_KM = 1000.0

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Comparison:
    """Every result of :func:`compare`.

    ``footprints``: region name → Dataset (architecture, threat, lat, lon) with ``defended``,
    ``threatened``, ``shot_opportunities``, ``intercept_altitude`` and, per aimpoint
    (architecture, threat, city), ``city_defended``, ``city_threatened``, ``city_population``,
    ``city_country``. ``engageability``: threat → Dataset with ``feasible`` (commit, speed,
    architecture, field, target), ``fraction`` (commit, speed, architecture) and
    ``fraction_vs_<parameter>`` (<parameter>, architecture). ``reach``: threat → Dataset (place).
    ``timelines``: threat → Dataset (sensor, time). ``timings``: seconds per step.
    """

    study: Study
    footprints: dict[str, xr.Dataset] = field(default_factory=dict)
    engageability: dict[str, xr.Dataset] = field(default_factory=dict)
    reach: dict[str, xr.Dataset] = field(default_factory=dict)
    timelines: dict[str, xr.Dataset] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def _region_footprints(study: Study, progress: Progress) -> dict[str, xr.Dataset]:
    grid = float(study.option("footprint", "grid_deg", 1.0))
    archs = list(study.architectures)
    names = [a.name for a in archs]
    out: dict[str, xr.Dataset] = {}
    total = len(study.regions) * len(study.threats)
    done = 0
    for region in study.regions:
        per_threat: list[list[xr.Dataset] | None] = []
        for threat in study.threats:
            if threat.regions is not None and region.name not in threat.regions:
                per_threat.append(None)  # not asked: reported as not threatened
                done += 1
                progress("footprints", done, total)
                continue
            try:
                dss = footprints(
                    archs, threat.missile, threat.launch_areas, region.bounds_deg, grid,
                    study.aimpoints,
                )  # fmt: skip
            except InputError as exc:
                if "cannot reach" not in str(exc):
                    raise
                dss = None  # no launch area reaches the region: nothing threatened
            per_threat.append(dss)
            done += 1
            progress("footprints", done, total)
        template = next((d[0] for d in per_threat if d is not None), None)
        if template is None:
            continue
        blank = _unthreatened(template)
        rows = [
            xr.concat(d if d is not None else [blank] * len(archs), dim="architecture")
            for d in per_threat
        ]
        ds = xr.concat(
            [r.drop_vars(["defended_by_area", "threatened_by_area", "launch_area"]) for r in rows],
            dim="threat",
            coords="minimal",
            compat="override",
        )
        ds = ds.assign_coords(architecture=names, threat=[t.name for t in study.threats])
        ds.attrs.update(
            {
                "region": region.name,
                "bounds_deg": list(region.bounds_deg),
                "grid_deg": grid,
                "rule": "a grid point is defended if a threat flown to it from every launch "
                "area that reaches it can be engaged at least once by some battery",
            }
        )
        out[region.name] = ds
    return out


def _unthreatened(template: xr.Dataset) -> xr.Dataset:
    """A footprint of the same grid where nothing is threatened (an out-of-reach threat)."""
    ds = template.copy(deep=True)
    for name in ("defended", "threatened", "defended_by_area", "threatened_by_area"):
        ds[name][:] = False
    ds["shot_opportunities"][:] = 0
    ds["intercept_altitude"][:] = np.nan
    if "city" in ds.coords:
        ds["city_defended"][:] = False
        ds["city_threatened"][:] = False
    return ds


def _with(arch: Architecture, parameter: str, value: float) -> Architecture:
    if parameter == "exchange_latency":
        return replace(arch, exchange_latency=float(value))
    if parameter == "decision_delay":
        return replace(arch, rules=replace(arch.rules, decision_delay=float(value)))
    raise InputError(field="sweeps", message=f"unknown swept parameter {parameter!r}")


def _threat_engageability(study: Study, threat: ThreatClass) -> xr.Dataset | None:
    if not threat.targets:
        return None
    dt = float(study.option("engageability", "step_s", 2.0))
    try:
        aimed = aim_pairs(
            threat.missile, threat.launch_areas, threat.targets, dt=dt, shape=threat.shape
        )
    except OutOfRangeError:
        return None  # no target in reach: nothing to engage
    speeds: list[float | None] = list(study.burnout_speeds) or [None]
    cache: dict[Any, Any] = {}  # the same aimed sample for every call below
    by_rule = {}
    for rule in COMMIT_RULES:
        archs = {
            a.name: replace(a, rules=replace(a.rules, commit=rule)) for a in study.architectures
        }
        by_rule[rule] = engageability(
            archs, threat.missile, threat.launch_areas, threat.targets, speeds, aimed=aimed,
            swept=study.swept_interceptors, detection_cache=cache,
        )  # fmt: skip
    ds = xr.concat(list(by_rule.values()), dim="commit").assign_coords(commit=list(COMMIT_RULES))
    ds = ds.rename({"cueing": "architecture"})
    ds["own_commit"] = ("architecture", [a.rules.commit for a in study.architectures])
    sweeps = {"exchange_latency": study.exchange_latencies, "decision_delay": study.decision_delays}
    own = {a.name: a for a in study.architectures}
    for parameter, values in sweeps.items():
        if not values:
            continue
        fr = []
        for v in values:
            archs = {n: _with(a, parameter, v) for n, a in own.items()}
            e = engageability(
                archs,
                threat.missile,
                threat.launch_areas,
                threat.targets,
                [None],
                aimed=aimed,
                detection_cache=cache,
            )
            fr.append(e["fraction"].values[0])
        ds[f"fraction_vs_{parameter}"] = ((parameter, "architecture"), np.array(fr))
        ds = ds.assign_coords({parameter: np.asarray(values, dtype=float)})
        ds[parameter].attrs["units"] = "s"
    ds.attrs.update({"threat": threat.name, "missile": threat.missile.name, "shape": threat.shape})
    return ds


def _threat_reach(study: Study, threat: ThreatClass) -> xr.Dataset | None:
    limit = float(study.option("reach", "short_range_km", SHORT_RANGE_KM)) * 1e3
    range_m = study.option("reach", "max_range_km", None)
    range_m = threat.missile.nominal_range if range_m is None else float(range_m) * 1e3
    if threat.missile.nominal_range > limit:
        return None
    places: dict[str, tuple[str, float, float]] = {}
    for arch in study.architectures:
        for b in arch.batteries:
            places.setdefault(b.site, ("battery", b.lat, b.lon))
        for s in arch.sensors:
            lat, lon = getattr(s.sensor, "lat", None), getattr(s.sensor, "lon", None)
            if lat is not None and lon is not None:
                places.setdefault(s.name, ("radar", float(lat), float(lon)))
    for p in study.aimpoints:
        places.setdefault(p.name, ("target", p.lat_deg * DEG, p.lon_deg * DEG))
    names = list(places)
    res = reach(
        [a[0] for a in threat.launch_areas],
        [a[1] for a in threat.launch_areas],
        [a[2] for a in threat.launch_areas],
        names,
        [places[n][1] for n in names],
        [places[n][2] for n in names],
        range_m,
    )
    ring_lat = np.stack([r[0] for r in res.rings]) / DEG
    ring_lon = np.stack([r[1] for r in res.rings]) / DEG
    ds = xr.Dataset(
        {
            "distance": ("place", res.distance_m),
            "inside": ("place", res.inside),
            "nearest_launch_area": ("place", [res.nearest_launch(i) for i in range(len(names))]),
            "ring_lat": (("launch_area", "ring_point"), ring_lat),
            "ring_lon": (("launch_area", "ring_point"), ring_lon),
        },
        coords={
            "place": names,
            "kind": ("place", [places[n][0] for n in names]),
            "place_lat": ("place", [places[n][1] / DEG for n in names]),
            "place_lon": ("place", [places[n][2] / DEG for n in names]),
            "launch_area": [a[0] for a in threat.launch_areas],
        },
        attrs={"threat": threat.name, "missile": threat.missile.name, "range_m": range_m},
    )
    ds["distance"].attrs["units"] = "m"
    ds["inside"].attrs["units"] = "1"
    ds["ring_lat"].attrs["units"] = "degrees_north"
    ds["ring_lon"].attrs["units"] = "degrees_east"
    return ds


def _threat_timeline(study: Study, threat: ThreatClass) -> xr.Dataset | None:
    try:
        return timeline(study, threat, float(study.option("timeline", "step_s", 10.0)))
    except OutOfRangeError:
        return None  # the shape cannot reach the representative target


def _fans(study: Study, store: Any, progress: Progress) -> None:
    """Build (or load from ``store``) every fly-out fan the study needs, once, up front."""
    archs = list(study.architectures)
    if study.runs("engageability"):
        archs += [
            a.with_burnout_speed(v, study.swept_interceptors)
            for v in study.burnout_speeds
            for a in study.architectures
        ]
    needed = {(b.interceptor, b.lat, b.lon) for a in archs for b in a.batteries}
    for i, (icp, lat, lon) in enumerate(sorted(needed, key=repr)):
        flyout_fan(icp, lat, lon, store=store)
        progress("fly-out fans", i + 1, len(needed))


def compare(study: Study, progress: Progress | None = None, fan_store: Any = None) -> Comparison:
    """Run every analysis ``study`` asks for (see the module docstring).

    ``progress(step, done, total)`` is called as work completes (for progress bars).
    ``fan_store``: a folder where fly-out fans are kept between runs (see
    :func:`openbmd.interceptors.flyout_fan`); results do not depend on it.
    """
    progress = progress or _no_progress
    timings: dict[str, float] = {}
    out: dict[str, Any] = {"footprints": {}, "engageability": {}, "reach": {}, "timelines": {}}
    t0 = time.perf_counter()
    _fans(study, fan_store, progress)
    timings["fly-out fans"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if study.runs("footprint") and study.regions:
        out["footprints"] = _region_footprints(study, progress)
        timings["footprints"] = time.perf_counter() - t0
    steps: list[tuple[str, str, Callable[[Study, ThreatClass], xr.Dataset | None]]] = [
        ("engageability", "engageability", _threat_engageability),
        ("reach", "reach", _threat_reach),
        ("timeline", "timelines", _threat_timeline),
    ]
    for analysis, key, fn in steps:
        if not study.runs(analysis):
            continue
        t0 = time.perf_counter()
        for i, threat in enumerate(study.threats):
            ds = fn(study, threat)
            if ds is not None:
                out[key][threat.name] = ds
            progress(key, i + 1, len(study.threats))
        timings[key] = time.perf_counter() - t0
    return Comparison(study=study, timings=timings, **out)

"""Detection-and-track timelines of representative threats, and the warning partners add.

For one representative trajectory per threat class (the first of its launch area → target pairs
in reach, on its shape), every sensor of every compared architecture is run over the flight: when it
sees the threat (``visible``, geometry and signal-to-noise) and when it first detects it. Each
architecture is then engaged (:func:`openbmd.engagement.engage_architecture`, the one chain):
first datum at the shooter (*warning*), commit, first launch and first intercept. The time an
architecture gains from partners' radars is the same chain run without the sensors that report
through the exchange centre (``via_exchange``): ``gain = t(without) − t(with)``; ``NaN``
where neither commits, ``+inf`` where only the partners' data allow a commit.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import xarray as xr

from openbmd import earth
from openbmd.analysis.engageability import aim_pairs, within_reach
from openbmd.analysis.study import Point, Study, ThreatClass
from openbmd.engagement import engage_architecture
from openbmd.sensors import SpaceIR

__all__ = ["representative_pair", "timeline"]


def _sensors(study: Study) -> list[Any]:
    """Every distinct sensor role of the study's architectures (first seen wins), in order."""
    seen: dict[str, Any] = {}
    for arch in study.architectures:
        for s in arch.sensors:
            seen.setdefault(s.name, s)
    return list(seen.values())


def _warning(res: Any, latencies: np.ndarray) -> float:
    """First datum of any sensor at the shooter [s] for the single threat of ``res``."""
    det = res.detection[0] + latencies if res.detection.shape[1] else np.array([np.nan])
    return float(np.fmin.reduce(det)) if det.size else float("nan")


def _gain(without: float, with_: float) -> float:
    if np.isnan(with_):
        return float("nan")
    if np.isnan(without):
        return float("inf")
    return without - with_


def representative_pair(threat: ThreatClass) -> tuple[Point, Point] | None:
    """The representative flight of *threat*: its first launch area → target pair (in the
    scenario's order, launch areas first) that the missile can reach; ``None`` if none is."""
    if not threat.targets:
        return None
    pairs = [(a, t) for a in threat.launch_areas for t in threat.targets]
    lat0, lon0, lat1, lon1 = (np.array([p[k][i] for p in pairs]) for k in (0, 1) for i in (1, 2))
    ok, _ = within_reach(threat.missile, lat0, lon0, lat1, lon1)
    return pairs[int(np.argmax(ok))] if ok.any() else None


def timeline(study: Study, threat: ThreatClass, step_s: float = 10.0) -> xr.Dataset | None:
    """The timeline of ``threat``'s representative trajectory (``None`` when it has no target).

    Returns a Dataset with ``visible`` and ``detected`` (sensor, time), ``first_detection``
    (sensor) and per architecture ``warning``, ``commit``, ``first_launch``,
    ``intercept_time``, ``feasible``, ``warning_gain`` and ``commit_gain`` [s after launch].
    """
    pair = representative_pair(threat)
    if pair is None:
        return None
    area, target = pair
    smp, burnout, _ = aim_pairs(threat.missile, [area], [target], dt=step_s, shape=threat.shape)
    roles = _sensors(study)
    n_t = smp.t.size
    visible = np.zeros((len(roles), n_t), dtype=bool)
    first = np.full(len(roles), np.nan)
    for k, role in enumerate(roles):  # loop over sensors only
        s = role.sensor
        if isinstance(s, SpaceIR):
            det = s.detect(smp.t, smp.r_ecef, smp.thrusting, rng=None)
        else:
            det = s.detect(smp.t, smp.r_ecef, rng=None, rcs=role.rcs)
        visible[k] = det.visible[0]
        first[k] = det.first_detection_time[0]
    cols: dict[str, list[float]] = {
        k: []
        for k in (
            "warning",
            "commit",
            "first_launch",
            "intercept_time",
            "feasible",
            "warning_gain",
            "commit_gain",
        )
    }
    cache: dict[Any, Any] = {}
    for arch in study.architectures:
        res = engage_architecture(smp, arch, burnout_time=burnout, detection_cache=cache)
        lat = np.asarray(arch.latencies(), dtype=float)
        own = replace(arch, sensors=tuple(s for s in arch.sensors if not s.via_exchange))
        res0 = engage_architecture(smp, own, burnout_time=burnout, detection_cache=cache)
        lat0 = np.asarray(own.latencies(), dtype=float)
        warn, warn0 = _warning(res, lat), _warning(res0, lat0)
        cols["warning"].append(warn)
        cols["commit"].append(float(res.cue_time[0]))
        cols["first_launch"].append(float(res.first_launch[0]))
        cols["intercept_time"].append(float(res.intercept_time[0]))
        cols["feasible"].append(float(res.feasible[0]))
        cols["warning_gain"].append(_gain(warn0, warn))
        cols["commit_gain"].append(_gain(float(res0.cue_time[0]), float(res.cue_time[0])))
    names = [a.name for a in study.architectures]
    with np.errstate(invalid="ignore"):
        g_lat, g_lon, g_alt = earth.ecef2geodetic(smp.r_ecef[0])
    ds = xr.Dataset(
        {
            "visible": (("sensor", "time"), visible),
            "track_lat": ("time", np.degrees(g_lat)),
            "track_lon": ("time", np.degrees(g_lon)),
            "track_alt": ("time", g_alt),
            "first_detection": ("sensor", first),
            **{
                k: ("architecture", np.asarray(v, dtype=bool if k == "feasible" else float))
                for k, v in cols.items()
            },
        },
        coords={
            "sensor": [r.name for r in roles],
            "time": np.asarray(smp.t, dtype=float),
            "architecture": names,
            "sensor_owner": ("sensor", [r.owner for r in roles]),
        },
        attrs={
            "threat": threat.name,
            "launch_area": area[0],
            "target": target[0],
            "shape": threat.shape,
            "burnout_time_s": float(burnout[0]),
            "impact_time_s": float(
                np.nanmax(np.where(np.isfinite(smp.r_ecef[0, :, 0]), smp.t, np.nan))
            ),
        },
    )
    units = {"visible": "1", "feasible": "1", "track_lat": "degrees_north",
             "track_lon": "degrees_east", "track_alt": "m"}  # fmt: skip
    for name in ds.data_vars:
        ds[name].attrs["units"] = units.get(str(name), "s")
    ds["time"].attrs["units"] = "s"
    return ds

"""What each partner's radars see of a scenario's threats: truth flights and radar plots for an
exchange exercise (``openbmd exchange exercise``).

Choices (stated once, reported by the command):

* **Flights** — one representative flight per threat class: its first launch area → target
  pair in reach (:func:`openbmd.analysis.timeline.representative_pair`, the one the timeline
  analysis flies), on the class's trajectory shape. The classes are launched one after the
  other, ``stagger_s`` apart in the scenario's order (so a tracker is not handed six launches
  in the same second), all aimed in one batch per shape.
* **Sensors** — the radars of ONE architecture, each run over every flight at once
  (:meth:`openbmd.sensors.Radar.detect`, vectorised over threats and times; noise from the
  caller's generator). Space IR sensors send nothing to the centre (a ``radar_report`` carries
  range/azimuth/elevation plots, not lines of sight): they only *cue*. A fire-control radar
  that ``needs_cue`` reports a threat only from its cue on — the first detection by any other
  sensor of the architecture plus the rules' ``cue_delay`` (when the rules say it needs one).
* **Owners** are the exercise's partners (``owner`` in ``data/architectures.yaml``), named in
  lower case for the centre.

Times are seconds on the scenario clock from the first launch; :func:`plot_records` maps them
to RFC 3339 times from a given POSIX origin, in the format of a ``radar_report`` plot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd import earth
from openbmd.analysis.study import Study, ThreatClass
from openbmd.analysis.timeline import representative_pair
from openbmd.architecture import Architecture, SensorRole
from openbmd.errors import InputError
from openbmd.sensors import Radar, SpaceIR

__all__ = [
    "Flights",
    "Plots",
    "exercise_architecture",
    "fly_threats",
    "inside_ellipse",
    "iso",
    "partner_name",
    "plot_records",
    "radar_plots",
]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Flights:
    """Truth of the representative flights on one scenario clock (N threats, T samples).

    ``t (T,)`` [s]; ``r_ecef (N, T, 3)`` [m], NaN before launch and after impact;
    ``thrusting (N, T)``; ``launch_time``, ``burnout_time``, ``impact_time (N,)`` [s];
    ``launch_lat``, ``launch_lon``, ``impact_lat``, ``impact_lon (N,)`` [rad]; names of each
    threat, launch area and target.
    """

    threat: tuple[str, ...]
    launch_area: tuple[str, ...]
    target: tuple[str, ...]
    t: Array
    r_ecef: Array
    thrusting: NDArray[np.bool_]
    launch_time: Array
    burnout_time: Array
    impact_time: Array
    launch_lat: Array
    launch_lon: Array
    impact_lat: Array
    impact_lon: Array

    def position(self, k: Any, t: Any) -> Array:
        """Truth ECEF positions ``(..., 3)`` [m] of threats *k* at times *t* [s] (broadcast;
        the nearest grid sample)."""
        i = np.clip(np.rint((np.asarray(t) - self.t[0]) / (self.t[1] - self.t[0])), 0, None)
        return self.r_ecef[k, np.minimum(i.astype(np.intp), self.t.size - 1)]


@dataclass(frozen=True)
class Plots:
    """Radar plots flattened over (sensor, threat, time), sorted by time.

    ``partner``, ``sensor`` (M,) names; ``threat`` (M,) the true threat's index (for scoring
    only, never sent); ``time`` (M,) [s]; ``z (M, 3)`` slant range [m], azimuth [rad],
    elevation [rad]; ``sigma (M, 3)`` their standard deviations; ``site (M, 3)`` sensor
    latitude [rad], longitude [rad], altitude [m].
    """

    partner: NDArray[np.str_]
    sensor: NDArray[np.str_]
    threat: NDArray[np.intp]
    time: Array
    z: Array
    sigma: Array
    site: Array

    def __len__(self) -> int:
        return int(self.time.size)

    def take(self, keep: Any) -> Plots:
        """The plots selected by a mask or index array."""
        return Plots(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def partner_name(owner: str) -> str:
    """The centre's partner name of a sensor owner (``US`` → ``us``, ``Russia`` → ``russia``)."""
    return "-".join(owner.casefold().split())


def exercise_architecture(study: Study, name: str | None = None) -> Architecture:
    """The architecture an exercise replays.

    *name* (or an alias, any case) picks one of the study's; by default the one where radars
    of the most partners pass their data through the exchange centre (``via_exchange``; ties:
    the most partners owning radars, then the scenario's order) — ``joint-2009`` in
    ``europe-2009``. Raises :class:`InputError` (field ``architecture``) when *name* is not one
    of the study's or the architecture has no radar.
    """
    archs = study.architectures
    if name is not None:
        key = name.casefold()
        found = [a for a in archs if key in {a.name.casefold(), *(x.casefold() for x in a.aliases)}]
        if not found:
            valid = ", ".join(a.name for a in archs)
            raise InputError(field="architecture", message=f"{name!r} is not one of {valid}")
        arch = found[0]
    else:

        def score(a: Architecture) -> tuple[int, int]:
            radars = [s for s in a.sensors if isinstance(s.sensor, Radar)]
            return len({s.owner for s in radars if s.via_exchange}), len({s.owner for s in radars})

        if not archs:
            raise InputError(field="architecture", message="the scenario has no architecture")
        arch = max(archs, key=score)  # max keeps the first of equal scores
    if not any(isinstance(s.sensor, Radar) for s in arch.sensors):
        raise InputError(field="architecture", message=f"{arch.name} has no radar to replay")
    return arch


def fly_threats(
    threats: tuple[ThreatClass, ...], dt: float = 2.0, stagger_s: float = 60.0
) -> Flights:
    """The representative flight of every threat class that has one, sampled every *dt* [s].

    Threat *k* (among those flown) is launched at ``k * stagger_s``; *stagger_s* is rounded to
    a multiple of *dt* so every flight lies on the common grid.
    """
    from openbmd.targeting import aim

    chosen = [(th, representative_pair(th)) for th in threats]
    flown = [(th, pair) for th, pair in chosen if pair is not None]
    if not flown:
        raise InputError(field="threats", message="no threat class can reach any of its targets")
    n = len(flown)
    step = max(round(stagger_s / dt), 0)
    offset = np.arange(n) * step  # launch of each threat, in grid steps
    trajs: list[Any] = [None] * n
    for shape in sorted({th.shape for th, _ in flown}):  # one batched aim per shape
        idx = [k for k, (th, _) in enumerate(flown) if th.shape == shape]
        (lat0, lon0), (lat1, lon1) = (
            np.array([[flown[k][1][j][1], flown[k][1][j][2]] for k in idx]).T for j in (0, 1)
        )
        with np.errstate(invalid="ignore"):
            sol = aim([flown[k][0].missile for k in idx], lat0, lon0, lat1, lon1, shape=shape)
        for i, k in enumerate(idx):
            trajs[k] = (sol.trajectory, i)
    impact = np.array([tr.events.impact_time[i] for tr, i in trajs])
    n_local = int(np.ceil(np.nanmax(impact) / dt)) + 1
    local = np.arange(n_local) * dt
    n_t = n_local + int(offset[-1])
    r = np.full((n, n_t, 3), np.nan)
    burn = np.zeros((n, n_t), dtype=bool)
    lat_i, lon_i, burnout = np.empty(n), np.empty(n), np.empty(n)
    for k, (tr, i) in enumerate(trajs):  # per threat class: place its sampled flight
        smp = tr.sample(local)
        r[k, offset[k] : offset[k] + n_local] = smp.r_ecef[i]
        burn[k, offset[k] : offset[k] + n_local] = smp.thrusting[i]
        lat, lon = tr.impact_geodetic()
        lat_i[k], lon_i[k], burnout[k] = lat[i], lon[i], tr.events.burnout_time[i]
    launch = offset * dt
    return Flights(
        tuple(th.name for th, _ in flown),
        tuple(p[0][0] for _, p in flown),
        tuple(p[1][0] for _, p in flown),
        np.arange(n_t, dtype=np.float64) * dt,
        r,
        burn,
        launch.astype(float),
        launch + burnout,
        launch + impact,
        np.array([p[0][1] for _, p in flown]),
        np.array([p[0][2] for _, p in flown]),
        lat_i,
        lon_i,
    )


def _cue_times(arch: Architecture, flights: Flights) -> Array:
    """Per threat: when a ``needs_cue`` radar may start reporting it [s] (−inf: at once)."""
    n = len(flights.threat)
    if not arch.rules.fire_control_needs_cue:
        return np.full(n, -np.inf)
    first = np.full(n, np.inf)
    for role in arch.sensors:  # loop over sensors only
        if role.needs_cue:
            continue
        det = _detect(role, flights, None)
        first = np.fmin(first, det.first_detection_time)
    return first + arch.rules.cue_delay


def _detect(role: SensorRole, flights: Flights, rng: np.random.Generator | None) -> Any:
    s = role.sensor
    if isinstance(s, SpaceIR):
        return s.detect(flights.t, flights.r_ecef, flights.thrusting, rng=rng)
    return s.detect(flights.t, flights.r_ecef, rng=rng, rcs=role.rcs)


def radar_plots(arch: Architecture, flights: Flights, rng: np.random.Generator) -> Plots:
    """Every radar plot of *arch*'s radars over *flights* (see the module for the rules)."""
    cue = _cue_times(arch, flights)
    parts = []
    for role in arch.sensors:  # loop over sensors only
        s = role.sensor
        if not isinstance(s, Radar):
            continue  # space IR: a cue only (see the module)
        m = _detect(role, flights, rng).measurements
        keep = m.time >= flights.burnout_time[m.index]  # midcourse only (see the module)
        if role.needs_cue:
            keep &= m.time >= cue[m.index]
        k = int(np.count_nonzero(keep))
        parts.append(
            Plots(
                np.full(k, partner_name(role.owner)),
                np.full(k, s.name),
                m.index[keep],
                m.time[keep],
                m.z[keep],
                np.broadcast_to(m.sigma, (k, 3)).copy(),
                np.broadcast_to([s.lat, s.lon, s.alt], (k, 3)).copy(),
            )
        )
    if not parts:
        raise InputError(field="architecture", message=f"{arch.name} has no radar to replay")
    fields = Plots.__dataclass_fields__
    joined = Plots(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))
    return joined.take(np.argsort(joined.time, kind="stable"))


def iso(t: float) -> str:
    """RFC 3339 UTC time of POSIX seconds *t*, to the millisecond (``…Z``)."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plot_records(plots: Plots, clock0: float) -> list[dict[str, Any]]:
    """*plots* as ``radar_report`` plot documents, their times ``clock0`` + scenario time
    (POSIX s); units at the edge: km and degrees."""
    lat, lon = np.degrees(plots.site[:, 0]), np.degrees(plots.site[:, 1])
    alt_km = plots.site[:, 2] / 1e3
    rng_km, sig_km = plots.z[:, 0] / 1e3, plots.sigma[:, 0] / 1e3
    az, el = np.degrees(plots.z[:, 1]) % 360.0, np.degrees(plots.z[:, 2])
    sig_az, sig_el = np.degrees(plots.sigma[:, 1]), np.degrees(plots.sigma[:, 2])
    return [
        {
            "time": iso(clock0 + float(plots.time[i])),
            "sensor_id": str(plots.sensor[i]),
            "sensor_lat_deg": float(lat[i]),
            "sensor_lon_deg": float(lon[i]),
            "sensor_alt_km": float(alt_km[i]),
            "range_km": float(rng_km[i]),
            "azimuth_deg": float(az[i]),
            "elevation_deg": float(el[i]),
            "sigma_range_km": float(sig_km[i]),
            "sigma_azimuth_deg": float(sig_az[i]),
            "sigma_elevation_deg": float(sig_el[i]),
        }
        for i in range(len(plots))
    ]


def inside_ellipse(area: dict[str, Any], lat: float, lon: float) -> float:
    """Normalised distance of (*lat*, *lon*) [rad] from an impact-ellipse area document
    (``center``, ``semi_major_km``, ``semi_minor_km``, ``orientation_deg`` of the major axis
    from north towards east): ≤ 1 inside. Local east-north plane at the centre."""
    c = area["center"]
    clat, clon = math.radians(c["lat_deg"]), math.radians(c["lon_deg"])
    d = earth.geodetic2ecef(lat, lon, 0.0) - earth.geodetic2ecef(clat, clon, 0.0)
    east, north = earth.enu_basis(clat, clon)[:2] @ d
    th = math.radians(area["orientation_deg"])
    major = east * math.sin(th) + north * math.cos(th)
    minor = east * math.cos(th) - north * math.sin(th)
    a, b = area["semi_major_km"] * 1e3, area["semi_minor_km"] * 1e3
    return math.hypot(major / a, minor / b)

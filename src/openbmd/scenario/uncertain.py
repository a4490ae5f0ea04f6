"""The ``uncertain:`` block: each path resolved against the scenario's study, and a campaign run.

Paths use the core's SI field names; ``*`` stands for every architecture (or battery):

* ``interceptors.NAME.burnout_speed`` [m/s] — every battery firing NAME, in every architecture;
  likewise ``interceptors.NAME.FIELD`` for a kill-vehicle limit FIELD: ``divert`` [m/s],
  ``seeker_range`` [m], ``min_closing_speed`` [m/s], ``max_crossing_angle`` [rad],
  ``kv_endurance`` [s], ``seeker_fov`` [rad] (full angle);
* ``architectures.LABEL.batteries[I].interceptor.burnout_speed`` (or ``.FIELD``);
* ``architectures.LABEL.rules.decision_delay`` [s] (commit → launch);
* ``architectures.LABEL.exchange_latency`` [s];
* ``architectures.LABEL.sensors[NAME].latency`` [s] and ``….rcs`` [m²] (radars only).

LABEL is the architecture's column label (its ``label`` or name). A burnout speed is used on a
grid of ``quantum`` (default :data:`SPEED_QUANTUM`) so fly-out fans are reused across trials.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import xarray as xr

from openbmd.analysis.campaign import Distribution, Parameter, Progress, draw, run_trials
from openbmd.analysis.campaign_stats import campaign_dataset
from openbmd.analysis.study import Study
from openbmd.analysis.trials import KNOB_UNITS, EngageabilityTrials, Knob
from openbmd.catalog.interceptors import interceptor as lookup_interceptor
from openbmd.constants import DEG
from openbmd.errors import InputError
from openbmd.interceptors import KV_LIMITS, flyout_fan
from openbmd.interceptors.fan import fan_stored
from openbmd.scenario import schema
from openbmd.scenario.build import to_study
from openbmd.scenario.names import did_you_mean
from openbmd.sensors import SpaceIR

__all__ = ["SPEED_QUANTUM", "campaign", "check_uncertain", "resolve"]

#: Default grid of drawn burnout speeds [m/s] (0.1 km/s).
SPEED_QUANTUM = 100.0
_FIELDS = "|".join(("burnout_speed", *KV_LIMITS))
_ICP = re.compile(rf"interceptors\.(?P<icp>[^.\[\]]+)\.(?P<field>{_FIELDS})")
_ARCH = re.compile(r"architectures\.(?P<arch>[^.\[\]]+)\.(?P<rest>.+)")
_REST = (
    (
        "battery",
        re.compile(rf"batteries\[(?P<bat>\d+|\*)\]\.interceptor\.(?P<field>{_FIELDS})"),
    ),
    ("decision_delay", re.compile(r"rules\.decision_delay")),
    ("exchange_latency", re.compile(r"exchange_latency")),
    ("sensor", re.compile(r"sensors\[(?P<sensor>[^\]]+)\]\.(?P<what>rcs|latency)")),
)
_FORMS = (
    "interceptors.NAME.FIELD, architectures.LABEL.batteries[I].interceptor.FIELD (FIELD: "
    f"{_FIELDS.replace('|', ', ')}), architectures.LABEL.rules.decision_delay, "
    "architectures.LABEL.exchange_latency, architectures.LABEL.sensors[NAME].latency|rcs "
    "(LABEL may be *)"
)


def _fail(where: str, message: str) -> InputError:
    return InputError(field=where, message=message)


def _arch_knobs(study: Study, arch: str, rest: str, where: str) -> tuple[Knob, ...]:
    labels = [a.name for a in study.architectures]
    if arch != "*" and arch not in labels:
        raise _fail(
            where,
            f"unknown architecture {arch!r}{did_you_mean(arch, labels)}; "
            f"valid: {', '.join(labels)}, *",
        )
    chosen = [a for a in study.architectures if arch in ("*", a.name)]
    for kind, rx in _REST:
        m = rx.fullmatch(rest)
        if m is None:
            continue
        if kind == "battery":
            bat = m["bat"]
            out = tuple(
                Knob(m["field"], a.name, battery=j)
                for a in chosen
                for j in range(len(a.batteries))
                if bat in ("*", str(j))
            )
            if not out:
                raise _fail(where, f"no battery {bat} in {arch!r}")
            return out
        if kind == "exchange_latency":
            # Only architectures with a sensor reporting via the exchange feel its latency;
            # the others are left untouched (and so are not re-engaged per trial).
            chosen = [a for a in chosen if any(s.via_exchange for s in a.sensors)]
            if not chosen:
                raise _fail(where, f"no sensor of {arch!r} reports via the exchange")
        if kind != "sensor":
            return tuple(Knob(kind, a.name) for a in chosen)
        name, what = m["sensor"], m["what"]
        out = tuple(
            Knob(what, a.name, sensor=s.name)
            for a in chosen
            for s in a.sensors
            if s.name.casefold() == name.casefold()
        )
        known = sorted({s.name for a in chosen for s in a.sensors})
        if not out:
            raise _fail(
                where,
                f"no sensor {name!r} in {arch!r}{did_you_mean(name, known)}; "
                f"valid: {', '.join(known) or 'none'}",
            )
        if what == "rcs" and any(
            isinstance(s.sensor, SpaceIR) for a in chosen for s in a.sensors if s.name == name
        ):
            raise _fail(where, f"{name} is a space IR sensor: it has no RCS to vary")
        return out
    raise _fail(where, f"cannot vary {rest!r} of an architecture; valid paths: {_FORMS}")


def _knobs(study: Study, path: str, where: str) -> tuple[Knob, ...]:
    if m := _ICP.fullmatch(path):
        name = m["icp"]
        fielded = sorted({b.interceptor.name for a in study.architectures for b in a.batteries})
        hit = [n for n in fielded if n.casefold() == name.casefold()]
        if not hit:
            raise _fail(
                where,
                f"no architecture of the scenario fields {name!r}"
                f"{did_you_mean(name, fielded)}; fielded: {', '.join(fielded)}",
            )
        return tuple(
            Knob(m["field"], a.name, interceptor=hit[0])
            for a in study.architectures
            if any(b.interceptor.name == hit[0] for b in a.batteries)
        )
    if m := _ARCH.fullmatch(path):
        return _arch_knobs(study, m["arch"], m["rest"], where)
    raise _fail(where, f"unknown path {path!r}; valid: {_FORMS}")


# Field → (its key in data/interceptors.yaml, that key's unit in SI).
_CATALOGUE_KEYS = {
    "burnout_speed": ("burnout_speed_kms", 1e3),
    "divert": ("divert_mps", 1.0),
    "seeker_range": ("seeker_acquisition_range_km", 1e3),
    "min_closing_speed": ("min_closing_speed_kms", 1e3),
    "max_crossing_angle": ("max_crossing_angle_deg", DEG),
    "kv_endurance": ("kv_endurance_s", 1.0),
    "seeker_fov": ("seeker_fov_deg", DEG),
}


def _catalogue(study: Study, knobs: tuple[Knob, ...], where: str) -> tuple[float, float, str]:
    kinds = {k.kind for k in knobs}
    if not kinds <= set(_CATALOGUE_KEYS):
        raise _fail(
            where,
            "from: catalogue is known for interceptor fields only "
            f"({', '.join(_CATALOGUE_KEYS)}); give low and high",
        )
    names = set()
    for k in knobs:
        arch = next(a for a in study.architectures if a.name == k.architecture)
        names |= {
            b.interceptor.name
            for j, b in enumerate(arch.batteries)
            if k.interceptor in (None, b.interceptor.name) and k.battery in (None, j)
        }
    if len(names) != 1:
        raise _fail(
            where,
            f"from: catalogue needs one interceptor, the path names {', '.join(sorted(names))}",
        )
    entry = lookup_interceptor(names.pop(), where)
    kind = kinds.pop()
    key, scale = _CATALOGUE_KEYS[kind]
    if kind == "burnout_speed":
        lo, hi = entry.model.speed_range
    else:
        lo, hi = (float(x) * scale for x in entry.ranges.get(key, (0.0, 0.0)))
    if not lo < hi:
        raise _fail(where, f"the catalogue gives {entry.name} no range of {key}")
    cites = "; ".join(f"{d.get('kms')} km/s: {d.get('by', '')}" for d in entry.disputed)
    if kind != "burnout_speed":
        return lo, hi, f"catalogue range of {entry.name}'s {key} (data/interceptors.yaml)"
    return (
        lo,
        hi,
        f"catalogue range of {entry.name} (data/interceptors.yaml){': ' + cites if cites else ''}",
    )


def _parameter(u: schema.UncertainParameter, study: Study, where: str) -> tuple[Parameter, Any]:
    knobs = _knobs(study, u.path, f"{where}.path")
    units = {KNOB_UNITS[k.kind] for k in knobs}
    source = u.source or ""
    low, high = u.low, u.high
    if u.from_ == "catalogue":
        low, high, cat = _catalogue(study, knobs, f"{where}.from")
        source = source or cat
    args = {
        "uniform": (low, high),
        "loguniform": (low, high),
        "normal": (u.mean, u.sd),
        "truncnormal": (u.mean, u.sd, low, high),
        "triangular": (low, u.mode, high),
        "choice": tuple(u.values or ()),
    }[u.distribution]
    speed = all(k.kind == "burnout_speed" for k in knobs)
    quantum = u.quantum if u.quantum is not None else (SPEED_QUANTUM if speed else None)
    dist = Distribution(u.distribution, tuple(float(a) for a in args if a is not None))
    return Parameter(u.path, units.pop(), dist, source, quantum), knobs


def resolve(sc: schema.Scenario, study: Study | None = None) -> tuple[tuple[Parameter, ...], Any]:
    """The campaign parameters of ``sc.uncertain`` and, per parameter, the knobs it sets."""
    study = study or to_study(sc)
    if not sc.uncertain:
        raise _fail("uncertain", "the scenario has no uncertain: block (nothing to draw)")
    pairs = [_parameter(u, study, f"uncertain[{i}]") for i, u in enumerate(sc.uncertain)]
    return tuple(p for p, _ in pairs), tuple(k for _, k in pairs)


def check_uncertain(sc: schema.Scenario) -> tuple[tuple[Any, ...], str] | None:
    """For the loader: the location and message of the first bad entry, or ``None``."""
    if not sc.uncertain:
        return None
    try:
        study = to_study(sc)
    except InputError:
        return None  # not the block's fault: the analysis reports it
    try:
        resolve(sc, study)
    except InputError as exc:
        where = str(exc.field or "uncertain")
        m = re.fullmatch(r"uncertain\[(\d+)\]\.(\w+)", where)
        loc: tuple[Any, ...] = ("uncertain", int(m[1]), m[2]) if m else ("uncertain",)
        return loc, exc.message
    return None


def campaign(
    scenario: schema.Scenario,
    trials: int | None = None,
    seed: int | None = None,
    executor: str = "serial",
    *,
    scheduler: str | None = None,
    workers: int = 2,
    chunk_trials: int | None = None,
    progress: Progress | None = None,
    fan_store: str | Path | None = None,
    footprint: bool = True,
) -> tuple[xr.Dataset, dict[str, float]]:
    """Run the scenario's campaign: draw its ``uncertain:`` block, answer per trial.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario with an ``uncertain:`` block (:func:`openbmd.load_scenario`).
    trials, seed : int, optional
        Default: the scenario's ``campaign.trials`` (100) and ``campaign.seed`` (0). Trial i
        draws from ``numpy.random.SeedSequence(seed).spawn(trials)[i]``.
    executor : {"serial", "processes", "dask"}
        Where the tasks (chunks of trials × pieces) run; the Dataset is the same for each.
    scheduler : str, optional
        A Dask scheduler ``tcp://HOST:PORT`` (default: a ``LocalCluster`` on 127.0.0.1).
    workers : int
        Processes, or local Dask workers.
    chunk_trials : int, optional
        Trials per task (see :func:`openbmd.analysis.campaign.run_trials`).
    progress : callable, optional
        ``progress(done, total)`` as tasks finish.
    fan_store : str or Path, optional
        A folder of fly-out fans every worker can read. Every fan the trials need is built
        into it first, once (on all of this process's threads), so workers only load them.
        Default: none for serial runs (fans built as needed, in memory), a temporary folder
        for the others.
    footprint : bool
        Answer the footprint question per trial too (when the scenario has regions, a
        footprint analysis and ``campaign.footprint_grid_deg``).

    Returns
    -------
    (xarray.Dataset, dict)
        The trials, summary and sensitivities (:func:`campaign_dataset`), and timings [s]
        (``fans_s``: building or checking the fans up front; ``wall_s``, ``compute_s``,
        ``setup_s``, ``chunks`` of :func:`run_trials`).
    """
    opts = scenario.campaign
    trials = opts.trials if trials is None else trials
    seed = opts.seed if seed is None else seed
    study = to_study(scenario)
    params, knobs = resolve(scenario, study)
    dt = float(study.option("engageability", "step_s", 2.0))
    grid = opts.footprint_grid_deg
    with_fp = footprint and grid is not None and study.runs("footprint") and bool(study.regions)
    drawn, used = draw(params, seed, trials)
    with contextlib.ExitStack() as stack:
        if fan_store is None and executor != "serial":
            fan_store = stack.enter_context(tempfile.TemporaryDirectory(prefix="openbmd-fans-"))
        model = EngageabilityTrials(
            study, knobs, dt=dt, fan_store=None if fan_store is None else str(fan_store),
            footprint_grid_deg=grid if with_fp else None,
        )  # fmt: skip
        fans_s = 0.0 if fan_store is None else build_fans(model, used, fan_store)
        quantised = [p.quantum is not None for p in params]
        out, timing = run_trials(
            model, used, quantised, executor, workers=workers, scheduler=scheduler,
            chunk_trials=chunk_trials, progress=progress,
        )  # fmt: skip
    ds = campaign_dataset(
        params, drawn, used, out, model.threats, model.architectures, seed,
        regions=[r.name for r in study.regions], all_threats=[t.name for t in study.threats],
        grid_deg=grid if with_fp else None,
    )  # fmt: skip
    ds.attrs["scenario"] = scenario.name
    return ds, {"fans_s": fans_s, **timing}


def build_fans(model: EngageabilityTrials, used: Any, store: str | Path) -> float:
    """Build into ``store`` every fly-out fan the trials ``used`` (n, P) need and it lacks, on
    all of this process's threads; returns the seconds spent (workers then only read them)."""
    t0 = time.perf_counter()
    for icp, lat, lon in model.fans_needed(used):
        if not fan_stored(icp, lat, lon, store):
            flyout_fan(icp, lat, lon, store=store)
    return time.perf_counter() - t0


def prebuild(scenario: schema.Scenario, trials: int, seed: int, store: str | Path) -> float:
    """:func:`build_fans` for the campaign ``campaign(scenario, trials, seed)`` would run."""
    study = to_study(scenario)
    params, knobs = resolve(scenario, study)
    return build_fans(EngageabilityTrials(study, knobs), draw(params, seed, trials)[1], store)


#: Output formats of :func:`write`, by the suffix of ``out``.
FORMATS = ("netcdf", "zarr")


def output_format(out: str | Path, fmt: str | None = None) -> str:
    """``fmt`` if given, else ``zarr`` for a ``.zarr`` folder, else ``netcdf``."""
    if fmt is None:
        return "zarr" if Path(out).suffix == ".zarr" else "netcdf"
    if fmt not in FORMATS:
        raise InputError(field="format", message=f"{fmt!r}; valid: {', '.join(FORMATS)}")
    return fmt


def write(ds: xr.Dataset, out: str | Path, fmt: str | None = None) -> Path:
    """Write the campaign Dataset; returns its path.

    NetCDF-4 (h5netcdf): ``campaign.nc`` in folder ``out``. Zarr (for large runs, chunked
    along ``trial``): the store ``out`` itself when it ends in ``.zarr``, else
    ``out/campaign.zarr``; an existing store is replaced.
    """
    folder = Path(out)
    kind = output_format(folder, fmt)
    if kind == "netcdf":
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "campaign.nc"
        ds.to_netcdf(path, engine="h5netcdf")
        return path
    path = folder if folder.suffix == ".zarr" else folder / "campaign.zarr"
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = {"trial": min(ds.sizes["trial"], 10_000)}
    # Zarr format 2: its fixed-length string type is specified (format 3 has none yet).
    ds.chunk(chunk).to_zarr(path, mode="w", consolidated=True, zarr_format=2)
    return path

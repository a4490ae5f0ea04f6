"""The engageability and footprint questions as a campaign model: what changes per trial.

The threats' trajectories do not depend on the defence, so each threat's field × target pairs
are aimed and sampled once per worker (:meth:`EngageabilityTrials.prepare`), and so are the
outcomes of the architectures no parameter touches. Per trial only the touched architectures
are rebuilt (:class:`Knob`) and re-engaged by :func:`openbmd.engagement.engage_architecture`
(a loop over trials × touched architectures × threats, each step batched over the pairs).
The footprint question (:mod:`openbmd.analysis.campaign_footprint`) is the model's further
pieces, one per grid tile, aimed lazily once per worker.

Fly-out fans: burnout speeds reach here already on their grid (:attr:`Parameter.quantum`), so
fans repeat; :func:`fans_needed` lists them so the campaign builds them once, up front, into
``fan_store`` (a folder every worker reads). A fan's answer to the same points is the same, so
a trial at an already-seen speed re-uses the large first query of each engagement
(:class:`_MemoFan`): only the per-shot queries, which depend on the launch times, are new.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from openbmd.analysis import campaign_footprint as fp
from openbmd.analysis.engageability import aim_pairs
from openbmd.analysis.study import Study
from openbmd.architecture import Architecture
from openbmd.engagement import engage_architecture
from openbmd.errors import InputError, OutOfRangeError
from openbmd.interceptors import KV_LIMITS, Flyout, FlyoutFan, flyout_fan

__all__ = ["KNOB_UNITS", "EngageabilityTrials", "Knob"]

#: What a knob may change, and its SI unit.
KNOB_UNITS = {
    "burnout_speed": "m/s",
    # the kill-vehicle limits (openbmd.interceptors.KV_LIMITS): they change no fly-out fan
    "divert": "m/s",
    "seeker_range": "m",
    "min_closing_speed": "m/s",
    "max_crossing_angle": "rad",
    "kv_endurance": "s",
    "seeker_fov": "rad",
    "decision_delay": "s",
    "exchange_latency": "s",
    "latency": "s",
    "rcs": "m2",
}


@dataclass(frozen=True)
class Knob:
    """One place in one architecture (by its label) that a parameter sets.

    ``burnout_speed`` and the kill-vehicle limits (``divert``, ``seeker_range``,
    ``min_closing_speed``, ``max_crossing_angle``, ``kv_endurance``, ``seeker_fov``): battery
    ``battery`` (index), or every battery firing ``interceptor``;
    ``decision_delay``: the rules' commit → launch delay; ``exchange_latency``; ``latency`` and
    ``rcs``: of sensor ``sensor`` (name).
    """

    kind: str
    architecture: str
    battery: int | None = None
    interceptor: str | None = None
    sensor: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KNOB_UNITS:
            raise InputError(field="uncertain.path", message=f"cannot vary {self.kind!r}")

    def apply(self, arch: Architecture, value: float) -> Architecture:
        if self.kind == "burnout_speed" and self.interceptor is not None:
            return arch.with_burnout_speed(value, (self.interceptor,))
        if self.kind == "burnout_speed" or self.kind in KV_LIMITS:
            hit = None if self.interceptor is None else self.interceptor.casefold()
            bats = tuple(
                b.with_overrides(**{self.kind: value})
                if (b.interceptor.name.casefold() == hit if hit else j == (self.battery or 0))
                else b
                for j, b in enumerate(arch.batteries)
            )
            return replace(arch, batteries=bats)
        if self.kind == "decision_delay":
            return replace(arch, rules=replace(arch.rules, decision_delay=value))
        if self.kind == "exchange_latency":
            return replace(arch, exchange_latency=value)
        hit = str(self.sensor).casefold()
        sensors = tuple(
            s
            if s.name.casefold() != hit
            else replace(s, latency=value)
            if self.kind == "latency"
            else replace(s, rcs=value)
            for s in arch.sensors
        )
        return replace(arch, sensors=sensors)


#: Queries of at least this many points are remembered (the first, whole-sample query of an
#: engagement); the per-shot queries (one point per threat) are not worth a hash.
MEMO_MIN_POINTS = 2048
#: Bound of the remembered answers of one process [bytes].
MEMO_BYTES = 512 * 2**20
_MEMO: OrderedDict[tuple[Any, ...], Flyout] = OrderedDict()
_MEMO_SIZE = [0]


@dataclass(frozen=True)
class _MemoFan(FlyoutFan):
    """A fan that remembers its answers to large queries (a fan is a pure function of points).

    Keyed by the fan's identity (vehicle as the fan sees it, site, grid) and a BLAKE2 digest of
    the points, in a per-process LRU bounded by :data:`MEMO_BYTES`; the arrays handed out are
    read-only, so a caller that wrote into one would fail loudly instead of corrupting a trial.
    """

    def query(self, r_ecef: Any) -> Flyout:
        r = np.ascontiguousarray(r_ecef, dtype=float)
        if r.size < 3 * MEMO_MIN_POINTS:
            return super().query(r)
        key = (
            self.interceptor.fan_key(), self.site_lat, self.site_lon, self.table.shape,
            r.shape, hashlib.blake2b(r.data, digest_size=16).digest(),
        )  # fmt: skip
        hit = _MEMO.pop(key, None)
        if hit is None:
            hit = super().query(r)
            for a in _arrays(hit):
                a.setflags(write=False)
            _MEMO_SIZE[0] += sum(a.nbytes for a in _arrays(hit))
        _MEMO[key] = hit
        while _MEMO_SIZE[0] > MEMO_BYTES and len(_MEMO) > 1:
            old = _MEMO.pop(next(iter(_MEMO)))
            _MEMO_SIZE[0] -= sum(a.nbytes for a in _arrays(old))
        return hit


def _arrays(q: Flyout) -> list[Any]:
    return [getattr(q, f.name) for f in dataclasses.fields(q)]


def _memo(fan: FlyoutFan) -> _MemoFan:
    return _MemoFan(**{f.name: getattr(fan, f.name) for f in dataclasses.fields(FlyoutFan)})


@dataclass
class _State:
    aimed: dict[str, Any]
    fixed: dict[tuple[int, int], float]
    caches: dict[str, dict[Any, Any]]
    #: Footprint tiles aimed so far (tile index → prepared, ``None``: out of reach) and the
    #: untouched architectures' (population, area) defended per tile.
    tiles: dict[int, fp.Prepared | None] = field(default_factory=dict)
    tile_fixed: dict[int, dict[int, tuple[float, float]]] = field(default_factory=dict)


@dataclass(frozen=True)
class EngageabilityTrials:
    """Engageable fraction of each threat's field → target pairs, per architecture and trial;
    and, with ``footprint_grid_deg``, population and area defended per region × threat.

    ``knobs[j]``: where parameter ``j`` applies (a parameter may set several places, e.g. the
    GBI's speed in every architecture that fields it). ``dt`` [s]: trajectory sampling step.
    """

    study: Study
    knobs: tuple[tuple[Knob, ...], ...]
    dt: float = 2.0
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: A folder of fly-out fans on disk shared by every worker (None: each builds its own).
    fan_store: str | None = None
    #: Grid of the per-trial footprint [deg] (None: no footprint question).
    footprint_grid_deg: float | None = None
    tiles: tuple[fp.Tile, ...] = ()

    def __post_init__(self) -> None:
        labels = {a.name for a in self.study.architectures}
        for ks in self.knobs:
            for k in ks:
                if k.architecture not in labels:
                    raise InputError(field="uncertain.path", message=f"no {k.architecture!r}")
        if self.footprint_grid_deg is not None and not self.tiles:
            object.__setattr__(self, "tiles", fp.tiles(self.study, self.footprint_grid_deg))

    @property
    def pieces(self) -> int:
        """Piece 0: the engageability pairs; pieces 1…: the footprint tiles."""
        return 1 + len(self.tiles)

    @property
    def threats(self) -> tuple[str, ...]:
        """The threat classes with targets (the engageability question's rows)."""
        return tuple(t.name for t in self.study.threats if t.targets)

    @property
    def architectures(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.study.architectures)

    def _touched(self) -> set[str]:
        return {k.architecture for ks in self.knobs for k in ks}

    def trial_architecture(self, arch: Architecture, row: Any) -> Architecture:
        """``arch`` with every knob of the trial's values ``row`` (P,) applied."""
        for p, ks in enumerate(self.knobs):
            for k in ks:
                if k.architecture == arch.name:
                    arch = k.apply(arch, float(row[p]))
        return arch

    def fans_needed(self, used: Any) -> list[tuple[Any, float, float]]:
        """(interceptor, site lat, site lon) of every fan the trials ``used`` (n, P) need."""
        need = {}
        touched = self._touched()
        for arch in self.study.architectures:
            rows = np.unique(np.asarray(used), axis=0) if arch.name in touched else [None]
            for row in rows:
                a = arch if row is None else self.trial_architecture(arch, row)
                for b in a.batteries:
                    need[(b.interceptor.fan_key(), b.lat, b.lon)] = (b.interceptor, b.lat, b.lon)
        return list(need.values())

    def prepare(self) -> _State:
        """Aim every threat once; engage the untouched architectures once."""
        aimed: dict[str, Any] = {}
        for th in self.study.threats:
            if not th.targets:
                continue
            try:
                aimed[th.name] = aim_pairs(
                    th.missile, th.launch_areas, th.targets, dt=self.dt, shape=th.shape
                )
            except OutOfRangeError:
                aimed[th.name] = None  # no pair in reach: no fraction (NaN)
        state = _State(aimed, {}, {name: {} for name in aimed})
        touched = self._touched()
        for j, arch in enumerate(self.study.architectures):
            if arch.name not in touched:
                for i, name in enumerate(self.threats):
                    got = state.aimed[name]
                    state.fixed[(i, j)] = self._fraction(got, state.caches[name], arch, False)
        return state

    def _engage(self, got: Any, cache: dict[Any, Any], arch: Architecture, fresh: bool) -> Any:
        smp, burnout = got[0], got[1]
        # A drawn RCS is a new detection-cache key: such trials get a throw-away copy.
        cache = dict(cache) if fresh else cache
        fans = tuple(
            _memo(flyout_fan(b.interceptor, b.lat, b.lon, store=self.fan_store))
            for b in arch.batteries
        )
        res = engage_architecture(smp, arch, fans=fans, burnout_time=burnout, detection_cache=cache)
        return res.feasible

    def _fraction(self, got: Any, cache: dict[Any, Any], arch: Architecture, fresh: bool) -> float:
        if got is None:
            return float("nan")
        return float(np.mean(self._engage(got, cache, arch, fresh)))

    def _tile_feasible(self, prep: fp.Prepared, arch: Architecture, fresh: bool) -> list[Any]:
        return [
            self._engage(part, cache, arch, fresh)
            for part, cache in zip(prep.parts, prep.cache, strict=True)
        ]

    def _tile(self, state: _State, t: int) -> fp.Prepared | None:
        if t not in state.tiles:
            tile = self.tiles[t]
            prep = state.tiles[t] = fp.prepare(self.study, tile)
            touched = self._touched()
            state.tile_fixed[t] = {
                j: (0.0, 0.0)
                if prep is None
                else fp.defended_sums(tile, prep, self._tile_feasible(prep, a, False))
                for j, a in enumerate(self.study.architectures)
                if a.name not in touched
            }
        return state.tiles[t]

    def evaluate(self, state: _State, values: Any, piece: int = 0) -> dict[str, Any]:
        """``values`` (k, P) → piece 0: ``engageable_fraction`` (k, threat, architecture);
        piece 1 + t: tile t's ``population_defended``, ``area_defended`` (k, architecture) and
        ``population_threatened``, ``area_threatened`` (k,)."""
        vals = np.asarray(values, dtype=float)
        archs = self.study.architectures
        rcs = any(k.kind == "rcs" for ks in self.knobs for k in ks)
        names = self._touched()
        touched = [(j, a) for j, a in enumerate(archs) if a.name in names]
        if piece > 0:
            t = piece - 1
            prep = self._tile(state, t)
            pop = np.zeros((vals.shape[0], len(archs)))
            area = np.zeros_like(pop)
            for j, (p0, a0) in state.tile_fixed[t].items():
                pop[:, j], area[:, j] = p0, a0
            if prep is not None:
                for r, row in enumerate(vals):  # per trial: one architecture each
                    for j, arch in touched:
                        a = self.trial_architecture(arch, row)
                        feas = self._tile_feasible(prep, a, rcs)
                        pop[r, j], area[r, j] = fp.defended_sums(self.tiles[t], prep, feas)
            thr = fp.threatened_sums(self.tiles[t], prep)
            return {
                "population_defended": pop,
                "area_defended": area,
                "population_threatened": np.full(vals.shape[0], thr[0]),
                "area_threatened": np.full(vals.shape[0], thr[1]),
            }
        out = np.full((vals.shape[0], len(self.threats), len(archs)), np.nan)
        for (i, j), frac in state.fixed.items():
            out[:, i, j] = frac
        for t, row in enumerate(vals):  # one architecture per trial: not batchable over trials
            for j, arch in touched:
                a = self.trial_architecture(arch, row)
                for i, name in enumerate(self.threats):
                    got = state.aimed[name]
                    out[t, i, j] = self._fraction(got, state.caches[name], a, rcs)
        return {"engageable_fraction": out}

    def combine(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        """Piece 0 as is; the tiles' sums added per region × threat class."""
        out = dict(parts[0])
        if not self.tiles:
            return out
        n = out["engageable_fraction"].shape[0]
        shape = (n, len(self.study.regions), len(self.study.threats))
        a = len(self.study.architectures)
        sums = {
            "population_defended": np.zeros((*shape, a)),
            "area_defended": np.zeros((*shape, a)),
            "population_threatened": np.zeros(shape),
            "area_threatened": np.zeros(shape),
        }
        for tile, part in zip(self.tiles, parts[1:], strict=True):
            for key, acc in sums.items():
                acc[:, tile.region, tile.threat] += part[key]
        return {**out, **sums}

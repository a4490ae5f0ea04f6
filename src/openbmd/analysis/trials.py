"""The engageability question as a campaign model: what changes per trial, and what does not.

The threats' trajectories do not depend on the defence, so each threat's field × target pairs
are aimed and sampled once per worker (:meth:`EngageabilityTrials.prepare`), and so are the
outcomes of the architectures no parameter touches. Per trial only the touched architectures
are rebuilt (:class:`Knob`) and re-engaged by :func:`openbmd.engagement.engage_architecture`
(a loop over trials × touched architectures × threats, each step batched over the pairs).
Fly-out fans come from the per-process cache of :func:`openbmd.interceptors.flyout_fan` and,
with ``fan_store``, from a folder on disk that every worker shares (a fan is then built once per
campaign, not once per worker); burnout speeds reach here already on their grid
(:attr:`Parameter.quantum`), so fans repeat.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from openbmd.analysis.engageability import aim_pairs
from openbmd.analysis.study import Study
from openbmd.architecture import Architecture
from openbmd.engagement import engage_architecture
from openbmd.errors import InputError, OutOfRangeError
from openbmd.interceptors import flyout_fan

__all__ = ["KNOB_UNITS", "EngageabilityTrials", "Knob"]

#: What a knob may change, and its SI unit.
KNOB_UNITS = {
    "burnout_speed": "m/s",
    "decision_delay": "s",
    "exchange_latency": "s",
    "latency": "s",
    "rcs": "m2",
}


@dataclass(frozen=True)
class Knob:
    """One place in one architecture (by its label) that a parameter sets.

    ``burnout_speed``: battery ``battery`` (index), or every battery firing ``interceptor``;
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
        if self.kind == "burnout_speed":
            if self.interceptor is not None:
                return arch.with_burnout_speed(value, (self.interceptor,))
            bats = list(arch.batteries)
            b = bats[self.battery or 0]
            bats[self.battery or 0] = replace(
                b, interceptor=b.interceptor.with_burnout_speed(value)
            )
            return replace(arch, batteries=tuple(bats))
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


@dataclass
class _State:
    aimed: dict[str, Any]
    fixed: dict[tuple[int, int], float]
    caches: dict[str, dict[Any, Any]]


@dataclass(frozen=True)
class EngageabilityTrials:
    """Engageable fraction of each threat's field → target pairs, per architecture and trial.

    ``knobs[j]``: where parameter ``j`` applies (a parameter may set several places, e.g. the
    GBI's speed in every architecture that fields it). ``dt`` [s]: trajectory sampling step.
    """

    study: Study
    knobs: tuple[tuple[Knob, ...], ...]
    dt: float = 2.0
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: A folder of fly-out fans on disk shared by every worker (None: each builds its own).
    fan_store: str | None = None

    def __post_init__(self) -> None:
        labels = {a.name for a in self.study.architectures}
        for ks in self.knobs:
            for k in ks:
                if k.architecture not in labels:
                    raise InputError(field="uncertain.path", message=f"no {k.architecture!r}")

    @property
    def threats(self) -> tuple[str, ...]:
        """The threat classes with targets (the engageability question's rows)."""
        return tuple(t.name for t in self.study.threats if t.targets)

    @property
    def architectures(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.study.architectures)

    def _touched(self) -> set[str]:
        return {k.architecture for ks in self.knobs for k in ks}

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
                    state.fixed[(i, j)] = self._fraction(state, name, arch, sensors_vary=False)
        return state

    def _fraction(
        self, state: _State, threat: str, arch: Architecture, sensors_vary: bool
    ) -> float:
        got = state.aimed[threat]
        if got is None:
            return float("nan")
        smp, burnout, _ = got
        # A drawn RCS is a new detection-cache key: such trials get a throw-away copy.
        cache = dict(state.caches[threat]) if sensors_vary else state.caches[threat]
        fans = tuple(
            flyout_fan(b.interceptor, b.lat, b.lon, store=self.fan_store) for b in arch.batteries
        )
        res = engage_architecture(smp, arch, fans=fans, burnout_time=burnout, detection_cache=cache)
        return float(np.mean(res.feasible))

    def evaluate(self, state: _State, values: Any) -> dict[str, Any]:
        """``values`` (k, P) → ``engageable_fraction`` (k, threat, architecture)."""
        vals = np.asarray(values, dtype=float)
        archs = self.study.architectures
        out = np.full((vals.shape[0], len(self.threats), len(archs)), np.nan)
        for (i, j), frac in state.fixed.items():
            out[:, i, j] = frac
        rcs = any(k.kind == "rcs" for ks in self.knobs for k in ks)
        names = self._touched()
        touched = [(j, a) for j, a in enumerate(archs) if a.name in names]
        for t, row in enumerate(vals):  # one architecture per trial: not batchable over trials
            for j, arch in touched:
                for p, ks in enumerate(self.knobs):
                    for k in ks:
                        if k.architecture == arch.name:
                            arch = k.apply(arch, float(row[p]))
                for i, name in enumerate(self.threats):
                    out[t, i, j] = self._fraction(state, name, arch, sensors_vary=rcs)
        return {"engageable_fraction": out}

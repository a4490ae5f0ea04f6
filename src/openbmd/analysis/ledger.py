"""The ledger: one table, one column per architecture, the answers a committee reads.

Every row is computed from the Datasets of a :class:`~openbmd.analysis.compare.Comparison` by
a rule that the row carries (``LedgerRow.rule``), so the report shows how each number came
about. Rows, in order:

* per threat class and defended region that the threat reaches: **population defended**
  (millions, of the population of the study's cities in the region that the threat can
  reach), **defended share of the threatened area** (grid cells), **named targets defended**
  (the scenario's targets that are defended, of those threatened) and **interceptors per
  defended million** (the architecture's inventory over the population defended);
* per threat class with targets: the **engageable fraction** of its launch area × target pairs
  at each swept burnout speed, under the architecture's own commit rule;
* per short-range threat class: the architecture's **sites within reach** (batteries and
  radars);
* per threat class with a timeline: **first warning** (first datum at the shooter) and
  **commit** times after launch, and the **time gained from partners' radars** (sensors
  reporting through the exchange).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openbmd.analysis.compare import Comparison

__all__ = ["Ledger", "LedgerRow", "ledger"]


@dataclass(frozen=True)
class LedgerRow:
    """One answer per architecture (``values``: architecture name → number, text or ``None``)."""

    section: str
    label: str
    unit: str
    values: dict[str, Any]
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "label": self.label,
            "unit": self.unit,
            "values": self.values,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Ledger:
    """The rows of :func:`ledger`, with the architectures in column order."""

    architectures: tuple[str, ...]
    rows: tuple[LedgerRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"architectures": list(self.architectures), "rows": [r.to_dict() for r in self.rows]}

    def row(self, section: str, label: str) -> LedgerRow:
        """The row with this section and label (``KeyError`` if there is none)."""
        for r in self.rows:
            if r.section == section and r.label == label:
                return r
        raise KeyError(f"{section}: {label}")


def _num(x: Any) -> float | None:
    v = float(x)
    return None if not np.isfinite(v) else v


def _footprint_rows(c: Comparison) -> list[LedgerRow]:
    rows: list[LedgerRow] = []
    names = [a.name for a in c.study.architectures]
    inventory = {a.name: sum(b.inventory for b in a.batteries) for a in c.study.architectures}
    named = {p.name for p in c.study.aimpoints if p.population == 0} | {
        t[0] for th in c.study.threats for t in th.targets
    }
    for region, ds in c.footprints.items():
        for threat in ds["threat"].values:
            sub = ds.sel(threat=threat)
            if not bool(sub["threatened"].any()):
                continue
            sec = f"{threat} → {region}"
            pop: dict[str, Any] = {}
            share: dict[str, Any] = {}
            tgt: dict[str, Any] = {}
            per_m: dict[str, Any] = {}
            which: dict[str, Any] = {}
            for arch in names:
                a = sub.sel(architecture=arch)
                thr = a["threatened"].values
                share[arch] = float(a["defended"].values[thr].mean()) if thr.any() else None
                if "city" in a.coords:
                    p = a["city_population"].values.astype(float)
                    dfd = a["city_defended"].values
                    # No city with a population in the region: the number is unknown, not 0.
                    known = bool((p[a["city_threatened"].values] > 0).any())
                    pop[arch] = float(p[dfd].sum()) / 1e6 if known else None
                    cities = [str(x) for x in a["city"].values]
                    thr_t = [n for n, t in zip(cities, a["city_threatened"].values, strict=True)
                             if t and n in named]  # fmt: skip
                    dfd_t = [n for n, d in zip(cities, dfd, strict=True) if d and n in named]
                    tgt[arch] = f"{len(dfd_t)} of {len(thr_t)}"
                    which[arch] = ", ".join(dfd_t) or "none"
                    per_m[arch] = inventory[arch] / pop[arch] if pop[arch] else None
            rows.append(
                LedgerRow(
                    sec,
                    "population defended",
                    "million",
                    pop,
                    "sum of the populations of the cities (data/cities.csv) in the region "
                    "where a threat flown to the city from every launch area that reaches "
                    "it can be engaged at least once; '–' where no city of the table lies "
                    "in the threatened part of the region",
                )
            )
            rows.append(
                LedgerRow(
                    sec,
                    "threatened area defended",
                    "fraction",
                    share,
                    "defended grid cells over threatened grid cells (grid_deg of the "
                    "footprint analysis)",
                )
            )
            rows.append(
                LedgerRow(
                    sec,
                    "named targets defended",
                    "of threatened",
                    tgt,
                    "the scenario's named targets that are defended, of those the threat reaches",
                )
            )
            rows.append(
                LedgerRow(
                    sec,
                    "interceptors per defended million",
                    "per million",
                    per_m,
                    "the architecture's interceptor inventory over the population "
                    "defended (millions)",
                )
            )
            rows.append(
                LedgerRow(
                    sec,
                    "which named targets",
                    "names",
                    which,
                    "the named targets counted in the row 'named targets defended'",
                )
            )
    return rows


def _engageability_rows(c: Comparison) -> list[LedgerRow]:
    rows = []
    for threat, ds in c.engageability.items():
        own = {str(a): str(r) for a, r in zip(ds["architecture"].values, ds["own_commit"].values,
                                               strict=True)}  # fmt: skip
        for v in ds["speed"].values:
            label = (
                "engageable, catalogued burnout speeds"
                if not np.isfinite(v)
                else f"engageable at {v / 1e3:g} km/s"
            )
            sel = ds["fraction"].sel(speed=v) if np.isfinite(v) else ds["fraction"].isel(speed=0)
            values = {a: _num(sel.sel(architecture=a, commit=r)) for a, r in own.items()}
            swept = c.study.swept_interceptors
            rows.append(
                LedgerRow(
                    f"{threat} engageability",
                    label,
                    "fraction",
                    values,
                    "launch area × target pairs in reach with at least one feasible intercept, "
                    "under the architecture's own commit rule; the swept speed is given to "
                    + ("every interceptor" if swept is None else ", ".join(swept)),
                )
            )
    return rows


def _reach_rows(c: Comparison) -> list[LedgerRow]:
    rows = []
    for threat, ds in c.reach.items():
        inside = {str(p) for p, i in zip(ds["place"].values, ds["inside"].values, strict=True) if i}
        values = {}
        for arch in c.study.architectures:
            own = [b.site for b in arch.batteries] + [
                s.name for s in arch.sensors if hasattr(s.sensor, "lat")
            ]
            hit = sorted({n for n in own if n in inside})
            values[arch.name] = ", ".join(hit) if hit else "none"
        rows.append(
            LedgerRow(
                f"{threat} reach",
                "sites within reach",
                "sites",
                values,
                f"battery and radar sites within {ds.attrs['range_m'] / 1e3:g} km (the "
                "missile's nominal range) of a launch area",
            )
        )
    return rows


def _timeline_rows(c: Comparison) -> list[LedgerRow]:
    rows = []
    for threat, ds in c.timelines.items():
        sec = f"{threat} timeline ({ds.attrs['launch_area']} → {ds.attrs['target']})"
        arch = [str(a) for a in ds["architecture"].values]
        for var, label, rule in (
            ("warning", "first warning", "first datum of any sensor at the shooter"),
            ("commit", "launch commit", "commit time under the architecture's rules"),
            ("warning_gain", "warning gained from partners' radars",
             "first warning without the sensors reporting via the exchange, minus with them"),
            ("commit_gain", "commit time gained from partners' radars",
             "commit without the sensors reporting via the exchange, minus with them "
             "(inf: only the partners' data allow a commit)"),
        ):  # fmt: skip
            values = {a: _num_or_inf(v) for a, v in zip(arch, ds[var].values, strict=True)}
            rows.append(LedgerRow(sec, label, "s", values, rule))
    return rows


def _num_or_inf(x: Any) -> float | str | None:
    v = float(x)
    if np.isinf(v):
        return "only with partners"
    return _num(v)


def ledger(c: Comparison) -> Ledger:
    """The ledger of a comparison (rows in the order of the module docstring)."""
    rows = _footprint_rows(c) + _engageability_rows(c) + _reach_rows(c) + _timeline_rows(c)
    return Ledger(tuple(a.name for a in c.study.architectures), tuple(rows))

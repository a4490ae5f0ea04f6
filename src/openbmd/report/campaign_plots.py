"""A campaign's distributions on a matplotlib ``Figure`` (never pyplot).

One figure per outcome (the engageable fraction of a threat class; the population defended in
a region against one): left, its 5-95 % and 25-75 % bands and median per architecture; middle,
the same bands versus the parameter it is most sensitive to, for the architecture whose outcome
spreads most; right, a tornado chart of every parameter's first-order Sobol index for that
architecture, signed by its Spearman rank correlation.

For the report module: ``draw_outcome(fig, ds, outcome, **cell)`` with ``ds`` from
:func:`openbmd.scenario.uncertain.campaign`; :func:`campaign_summary` is its JSON-ready summary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from openbmd.analysis.campaign_stats import campaign_summary

__all__ = [
    "LABELS",
    "campaign_summary",
    "draw_campaign",
    "draw_outcome",
    "focus",
    "outcome_cells",
]

#: Axis label and scale of each outcome.
LABELS = {
    "engageable_fraction": ("engageable fraction", 1.0),
    "population_defended": ("population defended (millions)", 1e-6),
    "area_defended": ("area defended (million km²)", 1e-12),
}
BINS = 8
LIGHT, DARK = "#c6dbef", "#6baed6"


def focus(ds: xr.Dataset, outcome: str, cell: dict[str, str]) -> tuple[str, str]:
    """(architecture, parameter) a figure dwells on: the widest 5-95 % spread, and its largest
    first-order Sobol index (the first parameter when nothing varies)."""
    q = ds[f"{outcome}_quantile"].sel(cell)
    spread = (q.sel(quantile=0.95) - q.sel(quantile=0.05)).values
    archs = [str(a) for a in q.architecture.values]
    arch = archs[int(np.nanargmax(np.nan_to_num(spread, nan=-1.0)))]
    s1 = np.nan_to_num(ds[f"{outcome}_sobol_first"].sel({**cell, "architecture": arch}).values)
    return arch, str(ds.parameter.values[int(np.argmax(s1))])


def _bands(ax: Axes, q: xr.DataArray, scale: float) -> None:
    archs = [str(a) for a in q.architecture.values]
    y = np.arange(len(archs))
    for lo, hi, color, label in ((0.05, 0.95, LIGHT, "5-95 %"), (0.25, 0.75, DARK, "25-75 %")):
        a, b = q.sel(quantile=lo).values * scale, q.sel(quantile=hi).values * scale
        ax.barh(y, b - a, left=a, color=color, label=label)
    ax.plot(q.sel(quantile=0.5).values * scale, y, "k|", markersize=14, label="median")
    ax.set_yticks(y, archs, fontsize="small")


def _versus(ax: Axes, x: np.ndarray, y: np.ndarray, scale: float) -> None:
    """Quantile bands of ``y`` over equal-count bins of ``x`` (by value when it has few)."""
    uniq = np.unique(x)
    if uniq.size <= BINS:
        groups = [x == u for u in uniq]
        centre = uniq
    else:
        edges = np.quantile(x, np.linspace(0.0, 1.0, BINS + 1))
        k = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, BINS - 1)
        groups = [k == b for b in range(BINS) if (k == b).any()]
        centre = np.array([np.median(x[g]) for g in groups])
    qs = np.array([np.quantile(y[g], [0.05, 0.25, 0.5, 0.75, 0.95]) for g in groups]) * scale
    ax.fill_between(centre, qs[:, 0], qs[:, 4], color=LIGHT, label="5-95 %", step=None)
    ax.fill_between(centre, qs[:, 1], qs[:, 3], color=DARK, label="25-75 %")
    ax.plot(centre, qs[:, 2], "k-", marker="o", markersize=3, label="median")
    ax.plot(x, y * scale, ".", color="#555", markersize=2, alpha=0.4)


def _tornado(ax: Axes, ds: xr.Dataset, outcome: str, sel: dict[str, str]) -> None:
    s1 = np.nan_to_num(ds[f"{outcome}_sobol_first"].sel(sel).values)
    rho = np.nan_to_num(ds[f"{outcome}_spearman"].sel(sel).values)
    order = np.argsort(s1)
    names = [str(p) for p in ds.parameter.values]
    signed = np.sign(rho) * s1
    ax.barh(
        np.arange(len(names)),
        signed[order],
        color=["#d62728" if v < 0 else "#2ca02c" for v in signed[order]],
    )
    ax.set_yticks(np.arange(len(names)), [names[i] for i in order], fontsize="x-small")
    ax.axvline(0.0, color="k", linewidth=0.8)
    ax.set_xlim(-1.0, 1.0)
    ax.set_xlabel("first-order Sobol index, signed by Spearman ρ", fontsize="small")


def draw_outcome(fig: Figure, ds: xr.Dataset, outcome: str, **cell: str) -> Figure:
    """Bands per architecture, bands versus the leading parameter, tornado (module docstring).

    ``cell``: the outcome's other coordinates, e.g. ``threat=`` for the engageable fraction,
    ``region=`` and ``footprint_threat=`` for the population defended.
    """
    label, scale = LABELS[outcome]
    arch, param = focus(ds, outcome, cell)
    left, mid, right = fig.subplots(1, 3, gridspec_kw={"width_ratios": [3, 3, 2]})
    _bands(left, ds[f"{outcome}_quantile"].sel(cell), scale)
    left.set_xlabel(f"{label}, {ds.sizes['trial']} trials", fontsize="small")
    left.legend(loc="best", fontsize="x-small")
    units = str(ds.parameter_units.sel(parameter=param).item())
    x = ds["used"].sel(parameter=param).values
    _versus(mid, x, ds[outcome].sel({**cell, "architecture": arch}).values, scale)
    mid.set_xlabel(f"{param} [{units}]", fontsize="x-small")
    mid.set_ylabel(label, fontsize="small")
    mid.set_title(arch, fontsize="small")
    _tornado(right, ds, outcome, {**cell, "architecture": arch})
    right.set_title(arch, fontsize="small")
    fig.tight_layout()
    return fig


def draw_campaign(fig: Figure, ds: xr.Dataset, threat: str) -> Figure:
    """:func:`draw_outcome` of the engageable fraction of ``threat``."""
    return draw_outcome(fig, ds, "engageable_fraction", threat=threat)


def outcome_cells(ds: xr.Dataset) -> list[tuple[str, dict[str, Any]]]:
    """Every (outcome, cell) worth a figure: each threat's engageable fraction where some
    architecture engages something, each region × threat's population defended where some
    architecture defends someone (else its area defended, where some architecture defends
    some: a region with no catalogued city)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for th in ds.threat.values:
        if float(ds["engageable_fraction"].sel(threat=th).max()) > 0:
            out.append(("engageable_fraction", {"threat": str(th)}))
    if "population_defended" in ds:
        for r in ds.region.values:
            for th in ds.footprint_threat.values:
                cell = {"region": str(r), "footprint_threat": str(th)}
                for name in ("population_defended", "area_defended"):
                    if float(ds[name].sel(cell).max()) > 0:
                        out.append((name, cell))
                        break
    return out

"""Charts of the report: engageability versus burnout speed, detection-and-track timelines.

Each function returns a bare matplotlib ``Figure`` (Agg canvas, no pyplot) for the report to
embed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["engageability_chart", "timeline_chart"]

#: Marks of the per-architecture events on a timeline: variable → (marker, label).
EVENTS = {
    "warning": ("v", "first warning"),
    "commit": ("s", "commit"),
    "first_launch": ("^", "first launch"),
    "intercept_time": ("X", "first intercept"),
}


def _figure(width: float, height: float) -> Figure:
    from matplotlib import figure

    return figure.Figure(figsize=(width, height), dpi=80, layout="constrained")


def engageability_chart(ds: xr.Dataset, title: str) -> Figure:
    """Engageable fraction versus burnout speed, one panel per commit rule, one line per
    architecture (``ds``: an engageability Dataset of :func:`~openbmd.analysis.compare.compare`).
    Without a speed sweep (speed NaN: catalogued speeds) the fraction is drawn as bars."""
    frac = ds["fraction"]
    rules = [str(r) for r in frac["commit"].values]
    fig = _figure(3.2 * len(rules) + 1.6, 3.0)
    axes = fig.subplots(1, len(rules), sharey=True, squeeze=False)[0]
    speed = frac["speed"].values
    archs = [str(a) for a in frac["architecture"].values]
    for ax, rule in zip(axes, rules, strict=True):
        sub = frac.sel(commit=rule)
        if np.isfinite(speed).any():
            for arch in archs:
                ax.plot(speed / 1e3, sub.sel(architecture=arch).values, "o-", ms=3, label=arch)
            ax.set_xlabel("burnout speed (km/s)")
        else:
            ax.bar(range(len(archs)), sub.isel(speed=0).values, color="#1f77b4")
            ax.set_xticks(range(len(archs)), archs, rotation=30, ha="right", fontsize=7)
        ax.set_title(f"commit: {rule}", fontsize=8)
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("engageable fraction")
    if np.isfinite(speed).any():
        axes[-1].legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.suptitle(title, fontsize=9)
    return fig


def _runs(t: np.ndarray, on: np.ndarray, step: float) -> list[tuple[float, float]]:
    """(start, length) of each run of consecutive True samples; a sample covers one step."""
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [
        (float(t[a]), float(t[b - 1] - t[a]) + step) for a, b in zip(starts, stops, strict=True)
    ]


def timeline_chart(ds: xr.Dataset, title: str) -> Figure:
    """Horizontal bars of when each sensor sees the threat (``visible``) and, below, each
    architecture's warning, commit, first launch and first intercept [s after launch]."""
    t = ds["time"].values
    step = float(t[1] - t[0]) if t.size > 1 else 1.0
    sensors = [str(s) for s in ds["sensor"].values]
    archs = [str(a) for a in ds["architecture"].values]
    rows = sensors + archs
    fig = _figure(7.6, 1.0 + 0.28 * len(rows))
    ax = fig.subplots()
    for k in range(len(sensors)):
        vis = ds["visible"].values[k]
        spans = _runs(t, vis, step)
        ax.broken_barh(spans, (k - 0.35, 0.7), color="#2ca02c", alpha=0.8)
        first = float(ds["first_detection"].values[k])
        if np.isfinite(first):
            ax.plot(first, k, "|", ms=12, color="k")
    for j in range(len(archs)):
        row = len(sensors) + j
        for var, (marker, label) in EVENTS.items():
            v = float(ds[var].values[j])
            if np.isfinite(v):
                ax.plot(v, row, marker, ms=6, label=label if j == 0 else None, color="#333333"
                        if var != "intercept_time" else "#1f77b4")  # fmt: skip
    ax.axvline(float(ds.attrs["burnout_time_s"]), color="#d62728", lw=0.8, ls="--")
    ax.axvline(float(ds.attrs["impact_time_s"]), color="#d62728", lw=0.8)
    ax.set_yticks(range(len(rows)), [f"sensor {s}" for s in sensors] + archs, fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, float(ds.attrs["impact_time_s"]) * 1.02)
    ax.set_xlabel("time after launch (s); dashed: burnout, solid: impact; bars: sensor sees it")
    ax.grid(axis="x", alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=6.5, loc="lower right", ncols=2)
    ax.set_title(title, fontsize=9)
    return fig

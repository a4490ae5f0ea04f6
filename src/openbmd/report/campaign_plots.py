"""A campaign's distributions on a matplotlib ``Figure`` (never pyplot): quantile bands per
architecture and a tornado chart of first-order Sobol indices and rank correlations.

For the report module: ``draw_campaign(fig, ds, threat)`` with ``ds`` from
:func:`openbmd.scenario.uncertain.campaign`; :func:`campaign_summary` is its JSON-ready summary.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from openbmd.analysis.campaign_stats import campaign_summary

__all__ = ["campaign_summary", "draw_campaign"]


def draw_campaign(
    fig: Figure, ds: xr.Dataset, threat: str, architecture: str | None = None
) -> Figure:
    """Left: 5-95 % and 25-75 % bands and the median of the engageable fraction of ``threat``
    per architecture; right: tornado of each parameter's first-order Sobol index (bars) for
    ``architecture`` (default: the one with the widest spread), signed by its rank correlation."""
    cell = ds.sel(threat=threat)
    q = cell["fraction_quantile"]
    archs = [str(a) for a in cell.architecture.values]
    y = np.arange(len(archs))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    left.barh(
        y,
        q.sel(quantile=0.95) - q.sel(quantile=0.05),
        left=q.sel(quantile=0.05),
        color="#c6dbef",
        label="5-95 %",
    )
    left.barh(
        y,
        q.sel(quantile=0.75) - q.sel(quantile=0.25),
        left=q.sel(quantile=0.25),
        color="#6baed6",
        label="25-75 %",
    )
    left.plot(q.sel(quantile=0.5), y, "k|", markersize=14, label="median")
    left.set_yticks(y, archs)
    left.set_xlim(-0.02, 1.02)
    left.set_xlabel(f"engageable fraction of {threat} ({ds.sizes['trial']} trials)")
    left.legend(loc="lower right", fontsize="small")
    spread = (q.sel(quantile=0.95) - q.sel(quantile=0.05)).values
    pick = architecture or archs[int(np.nanargmax(np.nan_to_num(spread, nan=-1.0)))]
    s1 = cell["sobol_first"].sel(architecture=pick).values
    rho = cell["spearman"].sel(architecture=pick).values
    order = np.argsort(np.nan_to_num(s1, nan=0.0))
    names = [str(p) for p in ds.parameter.values]
    signed = np.sign(np.nan_to_num(rho)) * np.nan_to_num(s1)
    right.barh(
        np.arange(len(names)),
        signed[order],
        color=["#d62728" if v < 0 else "#2ca02c" for v in signed[order]],
    )
    right.set_yticks(np.arange(len(names)), [names[i] for i in order], fontsize="small")
    right.axvline(0.0, color="k", linewidth=0.8)
    right.set_xlim(-1.0, 1.0)
    right.set_xlabel("first-order Sobol index, signed by Spearman ρ")
    right.set_title(pick, fontsize="small")
    fig.tight_layout()
    return fig

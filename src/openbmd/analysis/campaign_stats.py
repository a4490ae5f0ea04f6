"""A campaign's trials as an ``xarray.Dataset``, its confidence intervals and sensitivities.

* Confidence intervals: percentile bootstrap of the mean over trials (``BOOTSTRAP`` resamples,
  drawn as multinomial trial weights from a stream of the campaign's own seed, so the interval
  is reproducible).
* Sensitivity: Spearman rank correlation (ranks by :func:`scipy.stats.rankdata`, then Pearson)
  and first-order Sobol indices estimated on the given sample by the correlation ratio
  ``Var(E[Y | X_i]) / Var(Y)``, ``E[Y | X_i]`` taken over equal-count bins of ``X_i``
  (:data:`SOBOL_BINS`; a parameter with fewer distinct values is binned by value). The binned
  estimator is biased upward by about ``(bins − 1) / n``; that bias is subtracted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy import stats

from openbmd.analysis.campaign import Parameter, generator

__all__ = [
    "BOOTSTRAP",
    "SOBOL_BINS",
    "bootstrap_ci",
    "campaign_dataset",
    "campaign_summary",
    "sobol_first",
    "spearman",
]

FloatArray = NDArray[np.float64]
BOOTSTRAP = 1000
SOBOL_BINS = 16
CI_LEVEL = 0.95


def spearman(x: FloatArray, y: FloatArray) -> FloatArray:
    """Rank correlation of each column of ``x`` (n, P) with each of ``y`` (n, C): (P, C).

    NaN where either column is constant (or ``y`` holds NaN): no correlation is defined.
    """
    rx = stats.rankdata(x, axis=0) - (x.shape[0] + 1) / 2.0
    ry = stats.rankdata(y, axis=0) - (y.shape[0] + 1) / 2.0
    num = rx.T @ ry
    den = np.sqrt((rx**2).sum(0))[:, None] * np.sqrt((ry**2).sum(0))[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    return np.where(den > 0, r, np.nan)


def _bins(col: FloatArray, bins: int) -> NDArray[np.intp]:
    uniq, inv = np.unique(col, return_inverse=True)
    if uniq.size <= bins:
        return inv.astype(np.intp)
    ranks = stats.rankdata(col, method="ordinal") - 1
    return (ranks * bins // col.size).astype(np.intp)


def sobol_first(x: FloatArray, y: FloatArray, bins: int = SOBOL_BINS) -> FloatArray:
    """First-order Sobol index of each parameter (x: n, P) for each outcome (y: n, C): (P, C).

    Correlation ratio over bins of ``x`` (see the module docstring), bias-corrected and clipped
    to [0, 1]; NaN where ``y`` has no variance.
    """
    n = x.shape[0]
    var = y.var(axis=0)
    out = np.full((x.shape[1], y.shape[1]), np.nan)
    for p in range(x.shape[1]):  # loop over parameters; outcomes and trials are batched
        b = _bins(x[:, p], bins)
        k = int(b.max()) + 1
        count = np.bincount(b, minlength=k).astype(float)
        sums = np.zeros((k, y.shape[1]))
        np.add.at(sums, b, y)
        mean_b = sums / count[:, None]
        between = (count[:, None] * (mean_b - y.mean(axis=0)) ** 2).sum(0) / n
        with np.errstate(invalid="ignore", divide="ignore"):
            s = between / var - (k - 1) / n
        out[p] = np.where(var > 0, np.clip(s, 0.0, 1.0), np.nan)
    return out


def bootstrap_ci(y: FloatArray, seed: int, level: float = CI_LEVEL) -> FloatArray:
    """Percentile bootstrap interval of the mean of each column of ``y`` (n, C): (C, 2)."""
    n = y.shape[0]
    rng = generator(seed, 0xB007)  # a stream of its own, derived from the campaign's seed
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=BOOTSTRAP) / n  # (B, n)
    means = weights @ np.nan_to_num(y)  # (B, C)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2], axis=0)
    bad = ~np.asarray(np.isfinite(y).all(axis=0))
    return np.where(bad[:, None], np.nan, np.stack([lo, hi], axis=1))


def campaign_dataset(
    parameters: Sequence[Parameter],
    drawn: FloatArray,
    used: FloatArray,
    fraction: FloatArray,
    threats: Sequence[str],
    architectures: Sequence[str],
    seed: int,
) -> xr.Dataset:
    """Trials (drawn and used parameters, outcomes) plus summary and sensitivity variables."""
    n = drawn.shape[0]
    cells = fraction.reshape(n, -1)
    ci = bootstrap_ci(cells, seed).reshape(len(threats), len(architectures), 2)
    sp = spearman(used, cells).reshape(len(parameters), len(threats), len(architectures))
    sb = sobol_first(used, cells).reshape(sp.shape)
    q = np.quantile(fraction, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    ds = xr.Dataset(
        {
            "drawn": (("trial", "parameter"), drawn),
            "used": (("trial", "parameter"), used),
            "engageable_fraction": (("trial", "threat", "architecture"), fraction),
            "mean": (("threat", "architecture"), fraction.mean(axis=0)),
            "ci": (("threat", "architecture", "bound"), ci),
            "fraction_quantile": (("quantile", "threat", "architecture"), q),
            "spearman": (("parameter", "threat", "architecture"), sp),
            "sobol_first": (("parameter", "threat", "architecture"), sb),
        },
        coords={
            "trial": np.arange(n),
            "parameter": [p.name for p in parameters],
            "threat": list(threats),
            "architecture": list(architectures),
            "bound": ["low", "high"],
            "quantile": [0.05, 0.25, 0.5, 0.75, 0.95],
            "parameter_units": ("parameter", [p.units for p in parameters]),
            "distribution": ("parameter", [p.distribution.describe() for p in parameters]),
            "source": ("parameter", [p.source for p in parameters]),
            "quantum": (
                "parameter",
                [np.nan if p.quantum is None else p.quantum for p in parameters],
            ),
        },
        attrs={
            "seed": seed,
            "trials": n,
            "streams": "numpy.random.SeedSequence(seed).spawn(trials)",
            "ci_method": f"percentile bootstrap of the mean, {BOOTSTRAP} resamples, {CI_LEVEL:.0%}",
            "sensitivity_method": "Spearman rank correlation; first-order Sobol index by the "
            f"binned correlation ratio ({SOBOL_BINS} equal-count bins, bias-corrected)",
            "quantisation": "'used' is 'drawn' rounded to 'quantum' (fly-out fans are built "
            "per grid value); outcomes and sensitivities are of 'used'",
            "footprint": "not computed per trial: the footprint lattice is not shared "
            "across trials yet",
        },
    )
    units = {
        "drawn": "SI (see parameter_units)",
        "used": "SI (see parameter_units)",
        "engageable_fraction": "1",
        "mean": "1",
        "ci": "1",
        "fraction_quantile": "1",
        "spearman": "1",
        "sobol_first": "1",
        "quantum": "SI (see parameter_units)",
        "trial": "1",
        "quantile": "1",
    }
    for name, unit in units.items():
        ds[name].attrs["units"] = unit
    return ds


def campaign_summary(ds: xr.Dataset) -> dict[str, Any]:
    """JSON-ready summary of :func:`campaign_dataset`'s result (for the report and ``--json``)."""

    def num(v: Any) -> float | None:
        f = float(v)
        return f if np.isfinite(f) else None

    outcomes = []
    for th in ds.threat.values:
        for ar in ds.architecture.values:
            cell = ds.sel(threat=th, architecture=ar)
            outcomes.append(
                {
                    "threat": str(th),
                    "architecture": str(ar),
                    "mean": num(cell["mean"]),
                    "ci95": [num(cell["ci"][0]), num(cell["ci"][1])],
                    "quantiles": {
                        f"q{round(q * 100):02d}": num(cell["fraction_quantile"].sel(quantile=q))
                        for q in ds["quantile"].values
                    },
                    "spearman": {
                        str(p): num(cell["spearman"].sel(parameter=p)) for p in ds.parameter.values
                    },
                    "sobol_first": {
                        str(p): num(cell["sobol_first"].sel(parameter=p))
                        for p in ds.parameter.values
                    },
                }
            )
    params = [
        {
            "path": str(p),
            "units": str(ds.parameter_units.sel(parameter=p).item()),
            "distribution": str(ds.distribution.sel(parameter=p).item()),
            "source": str(ds.source.sel(parameter=p).item()),
            "quantum": num(ds.quantum.sel(parameter=p)),
        }
        for p in ds.parameter.values
    ]
    keys = (
        "seed",
        "trials",
        "streams",
        "ci_method",
        "sensitivity_method",
        "quantisation",
        "footprint",
    )
    return {**{k: ds.attrs[k] for k in keys}, "parameters": params, "outcomes": outcomes}

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

import itertools
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


def _cells(y: FloatArray) -> FloatArray:
    return y.reshape(y.shape[0], -1)


def _stats(
    name: str, y: FloatArray, used: FloatArray, seed: int, dims: tuple[str, ...]
) -> dict[str, Any]:
    """Mean, bootstrap interval, quantiles, Spearman ρ and Sobol S1 of outcome ``y`` (n, ...)."""
    cells = _cells(y)
    shape = y.shape[1:]
    p = used.shape[1]
    return {
        f"{name}_mean": (dims, y.mean(axis=0)),
        f"{name}_ci": ((*dims, "bound"), bootstrap_ci(cells, seed).reshape(*shape, 2)),
        f"{name}_quantile": (("quantile", *dims), np.quantile(y, QUANTILES, axis=0)),
        f"{name}_spearman": (("parameter", *dims), spearman(used, cells).reshape(p, *shape)),
        f"{name}_sobol_first": (("parameter", *dims), sobol_first(used, cells).reshape(p, *shape)),
    }


#: Quantiles of every outcome over the trials.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: The outcomes of a campaign, their dims after ``trial`` and units.
OUTCOMES = {
    "engageable_fraction": (("threat", "architecture"), "1"),
    "population_defended": (("region", "footprint_threat", "architecture"), "persons"),
    "area_defended": (("region", "footprint_threat", "architecture"), "m2"),
}


def campaign_dataset(
    parameters: Sequence[Parameter],
    drawn: FloatArray,
    used: FloatArray,
    outcomes: dict[str, FloatArray],
    threats: Sequence[str],
    architectures: Sequence[str],
    seed: int,
    *,
    regions: Sequence[str] = (),
    all_threats: Sequence[str] = (),
    grid_deg: float | None = None,
) -> xr.Dataset:
    """Trials (drawn and used parameters, outcomes) plus summary and sensitivity variables.

    ``outcomes``: ``engageable_fraction`` (n, threat, architecture) and, with the footprint
    question, ``population_defended`` and ``area_defended`` (n, region, footprint_threat,
    architecture), ``population_threatened`` and ``area_threatened`` (n, region,
    footprint_threat; the same in every trial). For each outcome X: ``X_mean``, ``X_ci``
    (bootstrap), ``X_quantile``, ``X_spearman`` and ``X_sobol_first`` (parameter, …).
    """
    n = drawn.shape[0]
    data: dict[str, Any] = {
        "drawn": (("trial", "parameter"), drawn),
        "used": (("trial", "parameter"), used),
    }
    units: dict[str, str] = {
        "drawn": "SI (see parameter_units)",
        "used": "SI (see parameter_units)",
    }
    for name, (dims, unit) in OUTCOMES.items():
        if name not in outcomes:
            continue
        y = np.asarray(outcomes[name], dtype=float)
        data[name] = (("trial", *dims), y)
        stats_ = _stats(name, y, used, seed, dims)
        data.update(stats_)
        units[name] = unit
        for k in stats_:
            units[k] = "1" if k.endswith(("spearman", "sobol_first")) else unit
    for name in ("population_threatened", "area_threatened"):
        if name in outcomes:
            data[name] = (("region", "footprint_threat"), np.asarray(outcomes[name])[0])
            units[name] = OUTCOMES[name.replace("threatened", "defended")][1]
    coords: dict[str, Any] = {
        "trial": np.arange(n),
        "parameter": [p.name for p in parameters],
        "threat": list(threats),
        "architecture": list(architectures),
        "bound": ["low", "high"],
        "quantile": list(QUANTILES),
        "parameter_units": ("parameter", [p.units for p in parameters]),
        "distribution": ("parameter", [p.distribution.describe() for p in parameters]),
        "source": ("parameter", [p.source for p in parameters]),
        "quantum": (
            "parameter",
            [np.nan if p.quantum is None else p.quantum for p in parameters],
        ),
    }
    if "population_defended" in outcomes:
        coords["region"] = list(regions)
        coords["footprint_threat"] = list(all_threats)
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        {
            "seed": seed,
            "trials": n,
            "streams": "numpy.random.SeedSequence(seed).spawn(trials)",
            "ci_method": f"percentile bootstrap of the mean, {BOOTSTRAP} resamples, {CI_LEVEL:.0%}",
            "sensitivity_method": "Spearman rank correlation; first-order Sobol index by the "
            f"binned correlation ratio ({SOBOL_BINS} equal-count bins, bias-corrected)",
            "quantisation": "'used' is 'drawn' rounded to 'quantum' (fly-out fans are built "
            "per grid value); outcomes and sensitivities are of 'used'",
            "footprint": "not asked (no footprint analysis, region or campaign grid)"
            if grid_deg is None
            else f"per trial on a {grid_deg:g} deg grid of cell centres and the region's "
            "cities, each aimed from every launch area (openbmd.analysis.campaign_footprint); "
            "coarser than the report's footprint maps",
        }
    )
    units.update({"quantum": "SI (see parameter_units)", "trial": "1", "quantile": "1"})
    for name, unit in units.items():
        ds[name].attrs["units"] = unit
    return ds


def campaign_summary(ds: xr.Dataset) -> dict[str, Any]:
    """JSON-ready summary of :func:`campaign_dataset`'s result (for the report and ``--json``)."""

    def num(v: Any) -> float | None:
        f = float(v)
        return f if np.isfinite(f) else None

    outcomes = []
    for name, (dims, unit) in OUTCOMES.items():
        if name not in ds:
            continue
        for combo in itertools.product(*(ds[d].values for d in dims)):
            sel = {d: str(v) for d, v in zip(dims, combo, strict=True)}
            mean = num(ds[f"{name}_mean"].sel(sel))
            if name != "engageable_fraction" and not mean:
                continue  # nothing defended in any trial: not worth a line
            ci = ds[f"{name}_ci"].sel(sel)
            outcomes.append(
                {
                    "outcome": name,
                    "units": unit,
                    **{("threat" if d == "footprint_threat" else d): v for d, v in sel.items()},
                    "mean": mean,
                    "ci95": [num(ci[0]), num(ci[1])],
                    "quantiles": {
                        f"q{round(q * 100):02d}": num(
                            ds[f"{name}_quantile"].sel({**sel, "quantile": q})
                        )
                        for q in ds["quantile"].values
                    },
                    "spearman": {
                        str(p): num(ds[f"{name}_spearman"].sel({**sel, "parameter": p}))
                        for p in ds.parameter.values
                    },
                    "sobol_first": {
                        str(p): num(ds[f"{name}_sobol_first"].sel({**sel, "parameter": p}))
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

"""``openbmd.analyze`` and ``openbmd.campaign``: a scenario (file, bundled name or model) to its
:class:`Comparison`, or to its campaign over the ``uncertain:`` block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xarray as xr

from openbmd.analysis.compare import Comparison, Progress, compare
from openbmd.scenario.build import to_study
from openbmd.scenario.load import load_scenario
from openbmd.scenario.schema import Scenario

__all__ = ["analyze", "campaign", "resolve_scenario"]


def resolve_scenario(scenario: Scenario | str | Path) -> Scenario:
    """A model as is; a bundled scenario's name; else a path to a scenario file."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def analyze(scenario: Scenario | str | Path, progress: Progress | None = None) -> Comparison:
    """Run every analysis of ``scenario``; results are xarray Datasets (see ``Comparison``)."""
    return compare(to_study(resolve_scenario(scenario)), progress)


def campaign(
    scenario: Scenario | str | Path,
    trials: int | None = None,
    seed: int | None = None,
    executor: str = "serial",
    **options: Any,
) -> xr.Dataset:
    """Monte Carlo over the scenario's ``uncertain:`` block: one Dataset with a ``trial`` dim.

    Parameters
    ----------
    scenario : Scenario, str or Path
        A loaded scenario, a bundled scenario's name or a scenario file; it must have an
        ``uncertain:`` block.
    trials : int, optional
        Number of trials (default: the scenario's ``campaign.trials``, 100).
    seed : int, optional
        Root of ``numpy.random.SeedSequence(seed).spawn(trials)`` (default:
        ``campaign.seed``, 0). The same seed gives the same Dataset on any executor.
    executor : {"serial", "processes", "dask"}
        Where the trials run (``scheduler="tcp://HOST:PORT"`` for an existing Dask cluster).
    **options
        Passed to :func:`openbmd.scenario.uncertain.campaign`: ``scheduler``, ``workers``,
        ``chunk_trials``, ``progress``, ``fan_store`` (a folder of fly-out fans kept between
        runs), ``footprint``.

    Returns
    -------
    xarray.Dataset
        ``drawn`` and ``used`` (trial, parameter) with each parameter's ``distribution``,
        ``source`` and ``parameter_units``; ``engageable_fraction`` (trial, threat,
        architecture) [1]; with the footprint question ``population_defended`` [persons] and
        ``area_defended`` [m²] (trial, region, footprint_threat, architecture); per outcome X
        ``X_mean``, ``X_ci`` (bootstrap 95 %), ``X_quantile``, ``X_spearman`` and
        ``X_sobol_first`` (parameter, …). (The timings are returned by
        :func:`openbmd.scenario.uncertain.campaign`; they are not in the Dataset, which is
        the same for every executor.)

    Raises
    ------
    openbmd.errors.InputError
        No ``uncertain:`` block, fewer than one trial, an unknown executor.

    Examples
    --------
    >>> import openbmd
    >>> ds = openbmd.campaign("europe-2009", trials=20, seed=1)  # doctest: +SKIP
    >>> ds["engageable_fraction_sobol_first"].sel(threat="iran-irbm")  # doctest: +SKIP
    """
    from openbmd.scenario.uncertain import campaign as run

    return run(resolve_scenario(scenario), trials, seed, executor, **options)[0]

"""``openbmd.analyze``: a scenario (file, bundled name or model) to its :class:`Comparison`."""

from __future__ import annotations

from pathlib import Path

from openbmd.analysis.compare import Comparison, Progress, compare
from openbmd.scenario.build import to_study
from openbmd.scenario.load import load_scenario
from openbmd.scenario.schema import Scenario

__all__ = ["analyze", "resolve_scenario"]


def resolve_scenario(scenario: Scenario | str | Path) -> Scenario:
    """A model as is; a bundled scenario's name; else a path to a scenario file."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def analyze(scenario: Scenario | str | Path, progress: Progress | None = None) -> Comparison:
    """Run every analysis of ``scenario``; results are xarray Datasets (see ``Comparison``)."""
    return compare(to_study(resolve_scenario(scenario)), progress)

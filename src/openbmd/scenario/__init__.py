"""Scenario files: a pydantic schema and a YAML loader whose errors name ``FILE:LINE:COL``.

A job folder above the catalogue (it checks names against it) and beside the analysis layer.
"""

from __future__ import annotations

from openbmd.scenario.load import bundled_scenarios, load_scenario, parse_scenario
from openbmd.scenario.schema import Scenario

__all__ = ["Scenario", "bundled_scenarios", "load_scenario", "parse_scenario"]

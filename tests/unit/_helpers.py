"""Shared builders of the unit tests (cached per process, so fans and flights are made once).

Imported as ``from _helpers import ...`` (pytest puts this folder on ``sys.path``).
"""

from __future__ import annotations

import functools

import numpy as np

from openbmd import catalog
from openbmd.architecture import Architecture, CommandRules, SensorRole, single_battery
from openbmd.catalog.interceptors import interceptor
from openbmd.catalog.sensors import rcs_for, sensors_by_names
from openbmd.constants import DEG
from openbmd.targeting import aim

SITE = (54.48 * DEG, 17.10 * DEG)  # Redzikowo
RULE_KEYS = {
    "commit",
    "fire_control_needs_cue",
    "decision_delay_s",
    "track_delay_s",
    "cue_delay_s",
    "kill_assessment_s",
}


@functools.cache
def threats():
    """Three IRBM-class threats from Tabriz toward central Europe, sampled every 2 s."""
    t = [catalog.site(n) for n in ("Berlin", "Prague", "Vienna")]
    tab = catalog.site("Tabriz")
    sol = aim(
        catalog.missile("IRBM"),
        tab.lat_deg * DEG,
        tab.lon_deg * DEG,
        [x.lat_deg * DEG for x in t],
        [x.lon_deg * DEG for x in t],
    )
    tr = sol.trajectory
    return tr.sample(np.arange(0.0, np.nanmax(tr.events.impact_time) + 2, 2.0)), tr


@functools.cache
def legacy_architecture(speed: float = 6300.0, mode: str = "early-warning") -> Architecture:
    """The former single-battery ``Defence``: GBI-2 at Redzikowo, EMR + TPY-2 + space IR,
    X-band = fire control, others early warning, no cue needed; ``mode`` early-warning or
    own-radar (= commit on the fire-control track only)."""
    sens = sensors_by_names("EMR,TPY-2,SpaceIR")
    roles = tuple(
        SensorRole(
            s.model, "fire-control" if s.band == "X" else "early-warning", rcs=rcs_for(s, None)
        )
        for s in sens
    )
    commit = "early-warning" if mode == "early-warning" else "fire-control-track"
    icp = interceptor("GBI-2").model.with_burnout_speed(speed)
    return single_battery(
        "Redzikowo", *SITE, icp, roles, CommandRules(commit=commit, fire_control_needs_cue=False)
    )

"""The missile catalogue reaches each class's published nominal range within ±10 %.

Sources of the nominal ranges are in ``data/missiles.yaml`` (REFERENCES §3: DoD/State report
2007 via the Washington Times; EastWest Institute 2009; APS Boost-Phase Intercept study 2003;
RIA Novosti 2008). Nominal ranges are quoted without Earth rotation, so the test uses a
non-rotating WGS-84 Earth with J2 and the atmosphere, on a maximum-range trajectory.
Also checks the public context numbers of REFERENCES §2: boost ≈ 170-250 s for ICBMs.
"""

from __future__ import annotations

import numpy as np
import pytest

from openbmd.catalog import load_missiles, missile
from openbmd.constants import DEG
from openbmd.targeting import max_range
from openbmd.trajectory import EarthModel


@pytest.fixture(scope="module")
def ranges() -> dict[str, float]:
    ms = list(load_missiles())
    mr = max_range(ms, 35 * DEG, 50 * DEG, 90 * DEG, model=EarthModel(rotation=False))
    return {m.name: float(r) for m, r in zip(ms, mr.range, strict=True)}


@pytest.mark.parametrize("name", [m.name for m in load_missiles()])
def test_reaches_nominal_range(name: str, ranges: dict[str, float]) -> None:
    m = missile(name)
    assert ranges[name] == pytest.approx(m.nominal_range, rel=0.10)


def test_every_entry_cites_a_source() -> None:
    for m in load_missiles():
        assert len(m.source) > 20, m.name


@pytest.mark.parametrize(
    ("name", "lo", "hi"),
    [("ICBM-liquid", 230, 250), ("ICBM-solid", 170, 190), ("Topol-M", 170, 190)],
)
def test_icbm_boost_durations(name: str, lo: float, hi: float) -> None:
    assert lo <= missile(name).burn_time <= hi


def test_eastward_launch_gains_range() -> None:
    """Earth rotation: eastward launches gain range, westward lose it (REFERENCES §2)."""
    m = missile("IRBM")
    mr = max_range([m, m], 30 * DEG, 50 * DEG, np.array([90.0, 270.0]) * DEG)
    assert mr.range[0] > mr.range[1] * 1.02

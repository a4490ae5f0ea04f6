"""Randomness is explicit (issue 11, item 8): no hidden seed, generators are passed in."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import openbmd
from openbmd.sensors import Radar, SpaceIR

SRC = Path(openbmd.__file__).parent
#: The places a generator is made from a seed: the CLI's --seed handling, and the campaign's
#: per-trial streams (``SeedSequence(seed).spawn``) and bootstrap stream, all from its seed.
SEED_HANDLING = {"cli/_common.py", "analysis/campaign.py"}
HIDDEN = re.compile(r"default_rng\(|np\.random\.seed\(|numpy\.random\.seed\(|RandomState\(")


def _offenders() -> set[str]:
    return {
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if HIDDEN.search(p.read_text(encoding="utf-8"))
    }


def test_no_default_rng_outside_the_cli_seed_handling() -> None:
    assert _offenders() - SEED_HANDLING == set()


def test_seed_handling_is_where_the_cli_makes_generators() -> None:
    # Keeps the exemption honest: the exempt file really is the one that seeds.
    assert SEED_HANDLING <= _offenders()


def _radar(pd_model: str = "threshold") -> Radar:
    return Radar(
        name="r", lat=0.0, lon=0.0, boresight_az=0.0, az_span=2 * np.pi, el_min=0.0,
        el_max=np.pi / 2, min_elevation=0.0, max_range=5e6, frequency=1e9, peak_power=1e6,
        pulse_width=1e-3, gain_db=40.0, noise_temp=290.0, snr_threshold_db=13.0, revisit=1.0,
        sigma_range=10.0, sigma_az=1e-3, sigma_el=1e-3, pd_model=pd_model,
    )  # fmt: skip


def _targets() -> tuple[np.ndarray, np.ndarray]:
    from openbmd import earth

    t = np.arange(0.0, 5.0)
    r = earth.aer2ecef(0.3, 0.5, 8e5, 0.0, 0.0, 0.0)
    return t, np.broadcast_to(r, (1, t.size, 3)).copy()


def test_radar_without_generator_is_deterministic_and_noise_free() -> None:
    t, r = _targets()
    a = _radar().detect(t, r, rng=None)
    b = _radar().detect(t, r, rng=None)
    assert len(a.measurements) > 0
    assert np.array_equal(a.measurements.z, b.measurements.z)
    noisy = _radar().detect(t, r, rng=np.random.default_rng(1))
    assert not np.array_equal(a.measurements.z, noisy.measurements.z)


def test_swerling_needs_a_generator() -> None:
    t, r = _targets()
    with pytest.raises(openbmd.errors.InputError) as info:
        _radar("swerling1").detect(t, r, rng=None)
    assert info.value.field == "rng"


def test_space_ir_without_generator_draws_nothing() -> None:
    t, r = _targets()
    layer = SpaceIR(name="ir", sat_lons=(0.0,), cloud_top=0.0)
    a = layer.detect(t, r, np.ones(r.shape[:-1], bool), rng=None)
    b = layer.detect(t, r, np.ones(r.shape[:-1], bool), rng=None)
    assert np.array_equal(a.measurements.z, b.measurements.z)

"""The public API of the ``openbmd.tracking`` sub-package: every name in ``__all__`` imports."""

from __future__ import annotations

import importlib

import pytest

import openbmd.tracking as tracking

# The API as it was when ``tracking`` was a single module, plus association, track management
# and fusion (formerly ``openbmd.fusion``); the sub-package must keep all of it.
PUBLIC = {
    "Association", "StackedModel", "Tracker", "covariance_intersection", "fuse_measurements",
    "gate_pairs", "gnn_associate", "initiate_two_point", "solve_sparse_assignment",
    "BallisticModel", "ImpactPrediction", "InfraredLOSModel", "MeasurementModel", "MerweParams",
    "RadarModel", "TrackBatch", "eci2ecef_matrix", "ekf_predict", "ekf_update",
    "fire_control_quality", "gravity_jacobian", "nees", "nis", "position_sigma", "predict",
    "predict_impact", "process_noise", "propagate", "propagate_stm", "sigma_points",
    "state_ecef2eci", "state_eci2ecef", "ukf_predict", "ukf_update", "update", "wrap_angle",
}  # fmt: skip


def test_all_is_the_public_api() -> None:
    assert set(tracking.__all__) == PUBLIC
    assert len(tracking.__all__) == len(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_name_importable(name: str) -> None:
    obj = getattr(tracking, name)
    assert obj is not None
    assert obj.__module__.startswith("openbmd.tracking.")
    # ``from openbmd.tracking import name`` works too
    assert getattr(importlib.import_module("openbmd.tracking"), name) is obj


def test_star_import() -> None:
    ns: dict[str, object] = {}
    exec("from openbmd.tracking import *", ns)
    assert PUBLIC <= ns.keys()


def test_type_aliases_still_exported() -> None:
    for name in ("Array", "FilterKind", "Backend"):
        assert hasattr(tracking, name)

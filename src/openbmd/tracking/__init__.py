"""Batch tracking of ballistic objects: EKF/UKF, gating, GNN association, tracks and fusion.

Every kernel is batch-first: a batch of N tracks is a state array ``(..., 6)`` and a covariance
array ``(..., 6, 6)``; leading dimensions broadcast and no Python loop runs over tracks.

Frame and state
---------------
The state is ``[x, y, z, vx, vy, vz]`` in the Earth-centred inertial frame (ECI) of
:mod:`openbmd.earth`, which coincides with ECEF at the scenario epoch ``t = 0`` (ECEF is ECI rotated
about z by ω⊕·t). Working in ECI keeps the motion model free of Coriolis and centrifugal terms; the
measurement models rotate the state into ECEF at the measurement time. Use :func:`state_eci2ecef` to
report states in ECEF.

Motion model
------------
Ballistic (vacuum) flight under point-mass + J2 gravity (:func:`openbmd.earth.gravity`) plus
continuous white acceleration noise of power spectral density ``q`` [m²/s³] per axis. The state is
propagated by fixed-step RK4; the EKF transition matrix is the state transition matrix integrated
with the same RK4 stages from the variational equation ``Φ̇ = A Φ``, ``A = [[0, I], [G, 0]]``
with ``G`` the analytic gravity gradient (:func:`gravity_jacobian`). The discrete process noise is
the discretised continuous white-noise acceleration model (Bar-Shalom, Li & Kirubarajan 2001,
*Estimation with Applications to Tracking and Navigation*, §6.2.2)::

    Q = q [[dt³/3 I, dt²/2 I], [dt²/2 I, dt I]].

Drag is not modelled: the filters are for midcourse (exo-atmospheric) tracking.

Filters
-------
EKF (Bar-Shalom et al. 2001, §10.3) with the Joseph-form covariance update; UKF with scaled
sigma points (van der Merwe 2004, *Sigma-Point Kalman Filters*, α, β, κ). Consistency is measured by
NEES and NIS (Bar-Shalom et al. 2001, §5.4): :func:`nees`, :func:`nis`.


Sub-modules (this package re-exports their public names)
---------------------------------------------------------
- :mod:`~openbmd.tracking.frames` — array helpers, ECI ⇄ ECEF state rotation;
- :mod:`~openbmd.tracking.motion` — ballistic model, RK4 propagation, transition matrix, ``Q``;
- :mod:`~openbmd.tracking.measurements` — radar and IR measurement models, Jacobians;
- :mod:`~openbmd.tracking.filters` — EKF/UKF predict and update kernels;
- :mod:`~openbmd.tracking._kernels` — the numba-compiled EKF kernels;
- :mod:`~openbmd.tracking.batch` — :class:`TrackBatch`, scan-level :func:`predict`/:func:`update`;
- :mod:`~openbmd.tracking.quality` — NEES/NIS, fire-control quality;
- :mod:`~openbmd.tracking.association` — χ² gating, GNN association;
- :mod:`~openbmd.tracking.tracker` — two-point initiation, M-of-N confirmation, deletion;
- :mod:`~openbmd.tracking.fusion` — measurement fusion, covariance intersection;
- :mod:`~openbmd.tracking.impact` — impact point and error ellipse.
"""

from openbmd.tracking.association import (
    Association,
    gate_pairs,
    gnn_associate,
    solve_sparse_assignment,
)
from openbmd.tracking.batch import FilterKind as FilterKind
from openbmd.tracking.batch import TrackBatch, predict, update
from openbmd.tracking.filters import Backend as Backend
from openbmd.tracking.filters import (
    MerweParams,
    ekf_predict,
    ekf_update,
    sigma_points,
    ukf_predict,
    ukf_update,
)
from openbmd.tracking.frames import Array as Array
from openbmd.tracking.frames import eci2ecef_matrix, state_ecef2eci, state_eci2ecef, wrap_angle
from openbmd.tracking.fusion import StackedModel, covariance_intersection, fuse_measurements
from openbmd.tracking.impact import ImpactPrediction, predict_impact
from openbmd.tracking.measurements import InfraredLOSModel, MeasurementModel, RadarModel
from openbmd.tracking.motion import (
    BallisticModel,
    gravity_jacobian,
    process_noise,
    propagate,
    propagate_stm,
)
from openbmd.tracking.quality import fire_control_quality, nees, nis, position_sigma
from openbmd.tracking.tracker import Tracker, initiate_two_point

__all__ = [
    "Association",
    "BallisticModel",
    "ImpactPrediction",
    "InfraredLOSModel",
    "MeasurementModel",
    "MerweParams",
    "RadarModel",
    "StackedModel",
    "TrackBatch",
    "Tracker",
    "covariance_intersection",
    "eci2ecef_matrix",
    "ekf_predict",
    "ekf_update",
    "fire_control_quality",
    "fuse_measurements",
    "gate_pairs",
    "gnn_associate",
    "gravity_jacobian",
    "initiate_two_point",
    "nees",
    "nis",
    "position_sigma",
    "predict",
    "predict_impact",
    "process_noise",
    "propagate",
    "propagate_stm",
    "sigma_points",
    "solve_sparse_assignment",
    "state_ecef2eci",
    "state_eci2ecef",
    "ukf_predict",
    "ukf_update",
    "update",
    "wrap_angle",
]

"""Track management for one radar: two-point initiation, M-of-N confirmation, deletion.

Bar-Shalom, Li & Kirubarajan (2001), *Estimation with Applications to Tracking and Navigation*.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from openbmd import earth
from openbmd.errors import InputError
from openbmd.tracking.association import Association, gnn_associate, solve_sparse_assignment
from openbmd.tracking.batch import FilterKind, TrackBatch, predict, update
from openbmd.tracking.filters import MerweParams
from openbmd.tracking.frames import Array, _f
from openbmd.tracking.measurements import RadarModel
from openbmd.tracking.motion import BallisticModel


def initiate_two_point(
    sensor: RadarModel,
    z1: ArrayLike,
    t1: float,
    z2: ArrayLike,
    t2: float,
    v_max: float = 8000.0,
    model: BallisticModel | None = None,
) -> tuple[TrackBatch, NDArray[np.int64], NDArray[np.int64]]:
    """Two-point initiation from radar measurements of two scans (Bar-Shalom et al. 2001).

    Each measurement is converted to an ECI position ``p`` with covariance ``Rc = J R Jᵀ``. Pairs
    with ``|p2 − p1| <= v_max (t2 − t1) + 3 sqrt(tr Rc1 + tr Rc2)`` are paired by minimum total
    distance (:func:`solve_sparse_assignment`). A new track at ``t2`` has position ``p2``, velocity
    ``(p2 − p1)/dt + g(p2) dt/2`` and covariance ``[[Rc2, Rc2/dt], [Rc2/dt, (Rc1 + Rc2)/dt² + Qv]]``
    with ``Qv = q dt/3 I``. Returns the tentative tracks (``hits = age = 2``) and the paired indices
    ``(i1, i2)``.
    """
    model = model or BallisticModel()
    z1, z2 = _f(z1).reshape(-1, 3), _f(z2).reshape(-1, 3)
    dt = float(t2 - t1)
    if not dt > 0:
        raise InputError(f"initiate_two_point needs t2 > t1, got t1={t1}, t2={t2}")
    p1, c1 = sensor.to_eci(z1, t1)
    p2, c2 = sensor.to_eci(z2, t2)
    if p1.shape[0] == 0 or p2.shape[0] == 0:
        e = np.zeros(0, np.int64)
        return TrackBatch.empty(), e, e
    sig1 = np.sqrt(np.trace(c1, axis1=-2, axis2=-1))
    sig2 = np.sqrt(np.trace(c2, axis1=-2, axis2=-1))
    reach = v_max * dt + 3.0 * (sig1.max() + sig2.max())
    tree = cKDTree(p1)
    cand = tree.query_ball_point(p2, reach, return_sorted=False)
    lengths = np.fromiter((len(c) for c in cand), np.int64, count=p2.shape[0])
    if lengths.sum() == 0:
        e = np.zeros(0, np.int64)
        return TrackBatch.empty(), e, e
    j2 = np.repeat(np.arange(p2.shape[0]), lengths)
    j1 = np.concatenate([np.asarray(c, np.int64) for c in cand if c])
    dist = np.linalg.norm(p2[j2] - p1[j1], axis=-1)
    a2, a1 = solve_sparse_assignment(p2.shape[0], p1.shape[0], j2, j1, dist, 2.0 * reach)
    q1, q2, pa, pb = c1[a1], c2[a2], p1[a1], p2[a2]
    vel = (pb - pa) / dt + 0.5 * dt * earth.gravity(pb, j2=model.j2)
    k = a2.size
    P = np.zeros((k, 6, 6))
    P[:, :3, :3] = q2
    P[:, :3, 3:] = q2 / dt
    P[:, 3:, :3] = q2 / dt
    P[:, 3:, 3:] = (q1 + q2) / dt**2 + (model.q * dt / 3.0) * np.eye(3)
    two = np.full(k, 2, np.int64)
    batch = TrackBatch(
        x=np.concatenate([pb, vel], axis=-1), P=P, t=np.full(k, float(t2)),
        track_id=np.zeros(k, np.int64), hits=two, misses=np.zeros(k, np.int64), age=two.copy(),
        confirmed=np.zeros(k, bool),
    )  # fmt: skip
    return batch, a1, a2


class Tracker:
    """Multi-target tracker for one radar: predict, gate, GNN-associate, update, initiate, delete.

    Track life cycle (documented choices):

    - **Initiation**: two-point (:func:`initiate_two_point`) from measurements left unassigned in
      two consecutive scans; a new track is tentative with ``hits = age = 2``.
    - **Confirmation**: M-of-N — a tentative track is confirmed once it has ``m_confirm`` hits
      within its first ``n_confirm`` scans; it is deleted as soon as that has become impossible.
    - **Deletion**: a confirmed track is deleted after ``k_delete`` consecutive misses.
    """

    def __init__(
        self,
        model: BallisticModel | None = None,
        kind: FilterKind = "ekf",
        gate_probability: float = 0.9997,
        m_confirm: int = 3,
        n_confirm: int = 4,
        k_delete: int = 3,
        v_max: float = 8000.0,
        params: MerweParams | None = None,
    ) -> None:
        if not 2 <= m_confirm <= n_confirm:
            raise InputError(f"need 2 <= m_confirm <= n_confirm, got {m_confirm}, {n_confirm}")
        self.model = model or BallisticModel()
        self.kind: FilterKind = kind
        self.gate_probability = gate_probability
        self.m_confirm, self.n_confirm, self.k_delete = m_confirm, n_confirm, k_delete
        self.v_max = v_max
        self.params = params
        self.tracks = TrackBatch.empty()
        self._pending: tuple[Array, float] | None = None
        self._next_id = 0

    def step(self, t: float, sensor: RadarModel, z: ArrayLike) -> Association:
        """Process one scan at time ``t`` [s]: measurements ``z (M, 3)`` (range, az, el)."""
        z = _f(z).reshape(-1, 3)
        b = predict(self.tracks, t, self.model, self.kind, self.params)
        assoc = gnn_associate(b, sensor, z, self.gate_probability)
        if assoc.track.size:
            b, _, _ = update(b, sensor, z[assoc.meas], assoc.track, self.kind, self.params)
        misses = b.misses.copy()
        misses[assoc.unassigned_tracks] += 1
        age = b.age + 1
        confirmed = b.confirmed | (b.hits >= self.m_confirm)
        b = replace(b, misses=misses, age=age, confirmed=confirmed)
        hopeless = ~b.confirmed & (b.age - b.hits > self.n_confirm - self.m_confirm)
        dead = (b.confirmed & (b.misses >= self.k_delete)) | hopeless
        b = b.take(~dead)
        free = z[assoc.unassigned_meas]
        if self._pending is not None and free.shape[0]:
            zp, tp = self._pending
            new, _, used2 = initiate_two_point(sensor, zp, tp, free, t, self.v_max, self.model)
            if len(new):
                ids = np.arange(self._next_id, self._next_id + len(new), dtype=np.int64)
                self._next_id += len(new)
                b = b.concat(replace(new, track_id=ids))
                free = np.delete(free, used2, axis=0)
        self._pending = (free, float(t))
        self.tracks = b
        return assoc

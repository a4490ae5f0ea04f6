"""Data fusion for tracking: gating, GNN association, initiation, track management, sensor fusion.

Builds on the estimation kernels of :mod:`openbmd.tracking` (state: ECI position and velocity).

- Association: χ² gating on the innovation (``scipy.stats.chi2``), global nearest neighbour by
  ``scipy.optimize.linear_sum_assignment`` on independent clusters of gated pairs (pre-selected by a
  k-d tree), cost ``d² + ln det S`` and a missed-detection cost ``γ + ln det S``, so a pair beats a
  miss only inside the gate.
- Track management (:class:`Tracker`): two-point initiation, M-of-N confirmation, deletion after K
  consecutive misses.
- Centralised measurement fusion (:func:`fuse_measurements`): sequential EKF/UKF updates with the
  reports of several sensors at one time (equivalent to one stacked update for independent sensor
  noise, and it relinearises after each sensor).
- Track-to-track fusion by covariance intersection (:func:`covariance_intersection`, Julier &
  Uhlmann 1997), ω minimising the trace or the determinant of the fused covariance.

Bar-Shalom, Li & Kirubarajan (2001), *Estimation with Applications to Tracking and Navigation*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.stats import chi2

from openbmd import earth
from openbmd.errors import InputError
from openbmd.tracking import (
    BallisticModel,
    MeasurementModel,
    MerweParams,
    RadarModel,
    TrackBatch,
    predict,
    update,
)
from openbmd.tracking.batch import FilterKind
from openbmd.tracking.filters import _sym, innovation_covariance
from openbmd.tracking.frames import Array, _f
from openbmd.tracking.kernels import _nb_mahalanobis
from openbmd.tracking.measurements import _residual

__all__ = [
    "Association",
    "StackedModel",
    "Tracker",
    "covariance_intersection",
    "fuse_measurements",
    "gate_pairs",
    "gnn_associate",
    "initiate_two_point",
    "solve_sparse_assignment",
]

_TWO_PI = 2.0 * math.pi

# --------------------------------------------------------------------------------------------------
# Gating and global-nearest-neighbour association
# --------------------------------------------------------------------------------------------------


def gate_pairs(
    zhat: ArrayLike,
    S: ArrayLike,
    z: ArrayLike,
    gamma: float,
    wrap_index: tuple[int, ...] = (),
) -> tuple[NDArray[np.int64], NDArray[np.int64], Array]:
    """Track–measurement pairs with ``d² = νᵀ S⁻¹ ν <= gamma``: ``(track, meas, d²)``, sorted.

    Candidates come from a k-d tree on measurement space scaled per component: ``d² <= γ`` implies
    ``|ν_k| <= sqrt(γ S_kk)`` for every component, so a Chebyshev ball of radius
    ``sqrt(γ) max_k sqrt(S_kk)/scale_k`` around each prediction cannot miss a gated pair. Angles in
    ``wrap_index`` are handled by adding copies of the measurements shifted by ±2π.
    """
    zhat, S, z = _f(zhat), _f(S), _f(z)
    n, m = zhat.shape[0], z.shape[0]
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if n == 0 or m == 0:
        return none
    sd = np.sqrt(np.diagonal(S, axis1=-2, axis2=-1))
    scale = np.median(sd, axis=0)
    radius = math.sqrt(gamma) * np.max(sd / scale, axis=1) * (1.0 + 1e-9)
    rmax = float(radius.max())
    pts, owner = z / scale, np.arange(m)
    for i in wrap_index:  # copies shifted by ±2π of the measurements near the cut
        period = _TWO_PI / scale[i]
        for sign in (-1.0, 1.0):
            near = np.flatnonzero(np.abs(pts[:m, i] - (period if sign < 0 else 0.0)) <= rmax)
            extra = pts[near].copy()
            extra[:, i] += sign * period
            pts, owner = np.concatenate([pts, extra]), np.concatenate([owner, near])
    tree = cKDTree(pts)
    q = zhat / scale
    k = min(8, pts.shape[0])
    dist, nb = tree.query(q, k=k, p=np.inf, distance_upper_bound=rmax)
    dist, nb = dist.reshape(n, k), nb.reshape(n, k)
    ok = dist <= radius[:, None]
    ti_l, mj_l = [np.nonzero(ok)[0]], [owner[nb[ok]]]
    full = np.flatnonzero(ok[:, -1])  # k neighbours all inside: there may be more
    if full.size:
        more = tree.query_ball_point(q[full], radius[full], p=np.inf, return_sorted=False)
        lengths = np.fromiter((len(h) for h in more), np.int64, count=full.size)
        ti_l.append(np.repeat(full, lengths))
        mj_l.append(owner[np.concatenate([np.asarray(h, np.int64) for h in more])])
    ti, mj = np.concatenate(ti_l), np.concatenate(mj_l)
    if ti.size == 0:
        return none
    key = np.sort(ti * m + mj)
    key = key[np.r_[True, key[1:] != key[:-1]]]  # unique, sorted
    ti, mj = key // m, key % m
    nu = np.ascontiguousarray(_residual(z[mj], zhat[ti], wrap_index))
    d2 = np.empty(ti.size)
    _nb_mahalanobis(nu, np.ascontiguousarray(S), ti, d2)  # νᵀ S⁻¹ ν by Cholesky
    keep = d2 <= gamma
    return ti[keep], mj[keep], d2[keep]


def solve_sparse_assignment(
    n_rows: int,
    n_cols: int,
    rows: ArrayLike,
    cols: ArrayLike,
    cost: ArrayLike,
    miss_cost: ArrayLike,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Minimum-cost partial assignment of rows to columns over the allowed pairs only.

    Leaving row ``i`` unassigned costs ``miss_cost[i]``; leaving a column unassigned costs nothing.
    The bipartite graph of allowed pairs is split into connected components; one-to-one components
    are assigned directly (vectorised) and each larger one is solved with
    ``scipy.optimize.linear_sum_assignment`` on its augmented (rows + cols)² matrix.
    Returns the assigned ``(rows, cols)``.
    """
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    cost, miss = _f(cost), np.broadcast_to(_f(miss_cost), (n_rows,))
    if rows.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    adj = coo_matrix(
        (np.ones(rows.size), (rows, n_rows + cols)), shape=(n_rows + n_cols, n_rows + n_cols)
    )
    _, label = connected_components(adj, directed=False)
    comp = label[rows]
    order = np.argsort(comp, kind="stable")
    rows, cols, cost, comp = rows[order], cols[order], cost[order], comp[order]
    starts = np.flatnonzero(np.r_[True, comp[1:] != comp[:-1]])
    sizes = np.diff(np.r_[starts, comp.size])
    out_r: list[NDArray[np.int64]] = []
    out_c: list[NDArray[np.int64]] = []
    single = starts[sizes == 1]
    ok = cost[single] < miss[rows[single]]
    out_r.append(rows[single][ok])
    out_c.append(cols[single][ok])
    multi = np.flatnonzero(np.repeat(sizes > 1, sizes))  # edges of components with > 1 edge
    if multi.size:
        # local row/column numbers within each component, for all components at once
        mr, mc, mw, mcomp = rows[multi], cols[multi], cost[multi], comp[multi]
        ur, ri = np.unique(mcomp * (n_rows + 1) + mr, return_inverse=True)
        uc, ci = np.unique(mcomp * (n_cols + 1) + mc, return_inverse=True)
        r_first = np.searchsorted(ur // (n_rows + 1), mcomp)  # first unique row of the component
        c_first = np.searchsorted(uc // (n_cols + 1), mcomp)
        ri_loc, ci_loc = ri - r_first, ci - c_first
        row_ids, col_ids = ur % (n_rows + 1), uc % (n_cols + 1)
        ustart = np.flatnonzero(np.r_[True, mcomp[1:] != mcomp[:-1]])
        uend = np.r_[ustart[1:], mcomp.size]
        for s0, s1 in zip(ustart.tolist(), uend.tolist(), strict=True):
            r0, c0 = int(r_first[s0]), int(c_first[s0])
            a = int(ri_loc[s0:s1].max()) + 1
            b = int(ci_loc[s0:s1].max()) + 1
            big = np.full((a + b, b + a), np.inf)
            big[ri_loc[s0:s1], ci_loc[s0:s1]] = mw[s0:s1]
            big[np.arange(a), b + np.arange(a)] = miss[row_ids[r0 : r0 + a]]
            big[a + np.arange(b), np.arange(b)] = 0.0
            big[a:, b:] = 0.0
            rr, cc = linear_sum_assignment(big)
            sel = (rr < a) & (cc < b)
            out_r.append(row_ids[r0 + rr[sel]])
            out_c.append(col_ids[c0 + cc[sel]])
    return np.concatenate(out_r), np.concatenate(out_c)


@dataclass(frozen=True)
class Association:
    """GNN result: ``track`` and ``meas`` index arrays of assigned pairs, their ``d2``; and the
    unassigned tracks and measurements."""

    track: NDArray[np.int64]
    meas: NDArray[np.int64]
    d2: Array
    unassigned_tracks: NDArray[np.int64]
    unassigned_meas: NDArray[np.int64]


def gnn_associate(
    batch: TrackBatch, sensor: MeasurementModel, z: ArrayLike, gate_probability: float = 0.9997
) -> Association:
    """Global nearest neighbour association of measurements ``z (M, m)`` to the (predicted) batch.

    Gate ``γ = χ²_m⁻¹(gate_probability)``; cost ``d² + ln det S`` per gated pair, ``γ + ln det S``
    for a missed track (innovation covariance from the EKF linearisation at the track time).
    """
    z = _f(z).reshape(-1, sensor.dim)
    n, m = len(batch), z.shape[0]
    gamma = float(chi2.ppf(gate_probability, sensor.dim))
    if n == 0 or m == 0:
        return Association(
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
            np.arange(n, dtype=np.int64), np.arange(m, dtype=np.int64),
        )  # fmt: skip
    zhat, S, logdet = innovation_covariance(batch.x, batch.P, sensor, batch.t)
    ti, mj, d2 = gate_pairs(zhat, S, z, gamma, sensor.wrap_index)
    r, c = solve_sparse_assignment(n, m, ti, mj, d2 + logdet[ti], gamma + logdet)
    d2_sel = d2[np.searchsorted(ti * m + mj, r * m + c)]  # gate_pairs returns sorted pairs
    order = np.argsort(r)
    r, c, d2_sel = r[order], c[order], d2_sel[order]
    free_t, free_m = np.ones(n, bool), np.ones(m, bool)
    free_t[r], free_m[c] = False, False
    return Association(r, c, d2_sel, np.flatnonzero(free_t), np.flatnonzero(free_m))


# --------------------------------------------------------------------------------------------------
# Track initiation and management
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Multi-sensor fusion
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackedModel:
    """Several measurement models observed together: ``h`` stacked, ``R`` block-diagonal.

    Assumes independent sensor noise. Used by :func:`fuse_measurements` (``mode="stacked"``).
    """

    models: tuple[MeasurementModel, ...]

    @property
    def dim(self) -> int:
        return sum(m.dim for m in self.models)

    @property
    def wrap_index(self) -> tuple[int, ...]:
        out: list[int] = []
        off = 0
        for m in self.models:
            out.extend(off + i for i in m.wrap_index)
            off += m.dim
        return tuple(out)

    @property
    def R(self) -> Array:
        r = np.zeros((self.dim, self.dim))
        off = 0
        for m in self.models:
            r[off : off + m.dim, off : off + m.dim] = m.R
            off += m.dim
        return r

    def h(self, x: ArrayLike, t: ArrayLike) -> Array:
        return np.concatenate([m.h(x, t) for m in self.models], axis=-1)

    def jacobian(self, x: ArrayLike, t: ArrayLike) -> Array:
        return np.concatenate([m.jacobian(x, t) for m in self.models], axis=-2)


def fuse_measurements(
    batch: TrackBatch,
    reports: Sequence[tuple[MeasurementModel, ArrayLike]],
    kind: FilterKind = "ekf",
    mode: Literal["sequential", "stacked"] = "sequential",
    params: MerweParams | None = None,
) -> TrackBatch:
    """Centralised measurement fusion: update every track with each sensor's report at one time.

    ``reports`` is a sequence of ``(sensor, z)`` with ``z (N, m_sensor)`` for the N tracks (already
    associated, at the tracks' common time). ``mode="sequential"`` applies the updates one sensor
    after another (relinearising each time); ``mode="stacked"`` does a single update with the
    stacked measurement and block-diagonal noise. Both are the optimal centralised fusion for
    independent sensor noise in the linear case (Bar-Shalom et al. 2001). ``hits`` increases by one
    per call.
    """
    if not reports:
        return batch
    if mode == "stacked":
        stacked = StackedModel(tuple(m for m, _ in reports))
        z = np.concatenate([_f(zz).reshape(len(batch), -1) for _, zz in reports], axis=-1)
        out, _, _ = update(batch, stacked, z, None, kind, params)
        return out
    out = batch
    for sensor, zs in reports:
        out, _, _ = update(out, sensor, zs, None, kind, params)
    return replace(out, hits=batch.hits + 1)


def covariance_intersection(
    x1: ArrayLike,
    P1: ArrayLike,
    x2: ArrayLike,
    P2: ArrayLike,
    criterion: Literal["trace", "det"] = "trace",
    iterations: int = 60,
) -> tuple[Array, Array, Array]:
    """Track-to-track fusion by covariance intersection (Julier & Uhlmann 1997), batched.

    ``P⁻¹ = ω P1⁻¹ + (1 − ω) P2⁻¹``, ``x = P (ω P1⁻¹ x1 + (1 − ω) P2⁻¹ x2)``, with ω ∈ [0, 1]
    minimising ``tr P`` or ``det P`` (both convex in ω) by a vectorised golden-section search.
    Consistent whatever the unknown cross-correlation of the two estimates. Returns ``(x, P, ω)``.
    """
    x1, x2 = _f(x1), _f(x2)
    i1, i2 = np.linalg.inv(_f(P1)), np.linalg.inv(_f(P2))
    shape = np.broadcast_shapes(x1.shape[:-1], x2.shape[:-1], i1.shape[:-2], i2.shape[:-2])

    def objective(w: Array) -> Array:
        info = w[..., None, None] * i1 + (1.0 - w[..., None, None]) * i2
        if criterion == "trace":
            return np.trace(np.linalg.inv(info), axis1=-2, axis2=-1)
        return -np.linalg.slogdet(info)[1]

    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = np.zeros(shape), np.ones(shape)
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = objective(c), objective(d)
    for _ in range(iterations):
        left = fc < fd  # minimum in [a, d]: drop (d, b]; else drop [a, c)
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = np.where(left, b - g * (b - a), d)
        d_new = np.where(left, c, a + g * (b - a))
        fp = objective(np.where(left, c_new, d_new))
        fc, fd = np.where(left, fp, fd), np.where(left, fc, fp)
        c, d = c_new, d_new
    w = 0.5 * (a + b)
    ends = np.stack([np.zeros(shape), np.ones(shape), w])
    w = np.take_along_axis(ends, np.argmin(objective(ends), axis=0)[None], axis=0)[0]
    info = w[..., None, None] * i1 + (1.0 - w[..., None, None]) * i2
    P = _sym(np.linalg.inv(info))
    y = w[..., None] * np.einsum("...ij,...j->...i", i1, x1) + (1.0 - w[..., None]) * np.einsum(
        "...ij,...j->...i", i2, x2
    )
    return np.einsum("...ij,...j->...i", P, y), P, w

"""Gating and global-nearest-neighbour association of measurements to tracks.

χ² gating on the innovation (``scipy.stats.chi2``; candidates from a grid of measurement space,
``_gating``), global nearest neighbour by ``scipy.optimize.linear_sum_assignment`` on independent
clusters of gated pairs, cost ``d² + ln det S`` and a missed-detection cost ``γ + ln det S``, so a
pair beats a miss only inside the gate (Bar-Shalom, Li & Kirubarajan 2001, *Estimation with
Applications to Tracking and Navigation*).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import chi2

from openbmd.tracking._gating import grid_gate
from openbmd.tracking.batch import TrackBatch
from openbmd.tracking.filters import innovation_covariance
from openbmd.tracking.frames import Array, _f
from openbmd.tracking.measurements import MeasurementModel


def gate_pairs(
    zhat: ArrayLike,
    S: ArrayLike,
    z: ArrayLike,
    gamma: float,
    wrap_index: tuple[int, ...] = (),
) -> tuple[NDArray[np.int64], NDArray[np.int64], Array]:
    """Track–measurement pairs with ``d² = νᵀ S⁻¹ ν <= gamma``: ``(track, meas, d²)``, sorted.

    ``zhat (N, m)`` predicted measurements, ``S (N, m, m)`` innovation covariances, ``z (M, m)``
    measurements; sorted by track, then measurement. Candidates come from a uniform grid over two
    measurement components: ``d² <= γ`` implies ``|ν_k| <= sqrt(γ S_kk)`` for every component, so
    the box of those half-widths around each prediction cannot miss a gated pair, and each
    candidate in it gets the exact ``d²``. Angles in ``wrap_index`` are handled by adding copies of
    the measurements shifted by ±2π.
    """
    zhat, S, z = _f(zhat), _f(S), _f(z)
    if zhat.shape[0] == 0 or z.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return grid_gate(zhat, S, z, float(gamma), tuple(wrap_index))


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

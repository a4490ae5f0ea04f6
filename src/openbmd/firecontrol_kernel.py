"""Compiled kernels of the fire-control track information (:mod:`openbmd.firecontrol`).

Four compiled loops over threats with a loop over the sample times inside (serial: they are
small next to detection, and a parallel region's barrier costs more than it saves when the
2-core machine is shared): the transition matrices of the linearised ballistic motion along
each threat's path (:func:`stm_rows`), the information a sensor's looks add
(:func:`add_information`), its running sum over time (:func:`cumulate`) and the
predicted-intercept-point (PIP) miss radius of many queries (:func:`pip_radii`); written as
plain loops over preallocated scratch (a small matrix product allocates in compiled code, and
these loops run once per threat and sample). The information form is the EKF of
:mod:`openbmd.tracking` without process noise and without a prior, linearised about the
true path (Bar-Shalom, Li & Kirubarajan 2001, §7.4 "information filter"): its covariance at
time ``t`` from the looks up to ``τ`` is ``P(t) = Φ(t) I(τ)⁻¹ Φ(t)ᵀ`` with
``I(τ) = Σ Φ(tₖ)ᵀ Hₖᵀ R⁻¹ Hₖ Φ(tₖ)`` over the looks.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["K95", "Z95", "add_information", "cumulate", "pip_radii", "stm_rows"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

K95 = math.sqrt(-2.0 * math.log(0.05))  # 95 % radius of a circular 2-D Gaussian, in σ
Z95 = 1.959963984540054  # 95 % two-sided quantile of a 1-D Gaussian, in σ


@numba.njit(cache=True, nogil=True)
def stm_rows(grad: FloatArray, dt: FloatArray, out: FloatArray) -> None:  # pragma: no cover
    """Position rows of ``Φ(t_j, t_0)`` (N, T, 3, 6) into ``out``.

    ``grad`` (N, T, 3, 3): ECI gravity gradient at each sample [1/s²]; ``dt`` (T−1,): sample
    spacing [s]. Each step is ``exp(A h)`` of ``A = [[0, I], [Ḡ, 0]]`` (Ḡ the mean of the
    gradients at the two ends) to third order in ``h``, dropping ``Ḡ² h³`` (≈ 1e-12 at
    h = 5 s): ``[[I + Ḡh²/2, Ih + Ḡh³/6], [Ḡh, I + Ḡh²/2]]``.
    """
    n, nt = grad.shape[0], grad.shape[1]
    phi = np.empty((6, 6))
    nxt = np.empty((6, 6))
    step = np.empty((6, 6))
    for i in range(n):
        for a in range(6):
            for b in range(6):
                phi[a, b] = 1.0 if a == b else 0.0
        for a in range(3):
            for b in range(6):
                out[i, 0, a, b] = phi[a, b]
        for j in range(nt - 1):
            h = dt[j]
            for a in range(3):
                for b in range(3):
                    g = 0.5 * (grad[i, j, a, b] + grad[i, j + 1, a, b])
                    e = 1.0 if a == b else 0.0
                    step[a, b] = e + g * h * h / 2.0
                    step[a, b + 3] = e * h + g * h * h * h / 6.0
                    step[a + 3, b] = g * h
                    step[a + 3, b + 3] = e + g * h * h / 2.0
            for a in range(6):
                for b in range(6):
                    acc = 0.0
                    for k in range(6):
                        acc += step[a, k] * phi[k, b]
                    nxt[a, b] = acc
            for a in range(6):
                for b in range(6):
                    phi[a, b] = nxt[a, b]
            for a in range(3):
                for b in range(6):
                    out[i, j + 1, a, b] = phi[a, b]


@numba.njit(cache=True, nogil=True)
def add_information(
    phi: FloatArray, info: FloatArray, col: IntArray, out: FloatArray
) -> None:  # pragma: no cover
    """Add each sample's information ``Φᵀ J Φ`` (J = ``info`` (N, T, 3, 3), position
    information in ECI [1/m²], 0 where no look) to ``out[:, col[j]]`` (N, T, 6, 6) — the
    column at which that look reached the shooter (``col ≥ T``: never). Not cumulative.
    The product is symmetric: the upper triangle is formed and mirrored."""
    n, nt = phi.shape[0], phi.shape[1]
    ja = np.empty((3, 6))
    for i in range(n):
        for j in range(nt):
            c = col[j]
            if c >= nt or not info[i, j, 0, 0] + info[i, j, 1, 1] + info[i, j, 2, 2] > 0.0:
                continue
            for k in range(3):
                for q in range(6):
                    acc = 0.0
                    for m in range(3):
                        acc += info[i, j, k, m] * phi[i, j, m, q]
                    ja[k, q] = acc
            for p in range(6):
                for q in range(p, 6):
                    acc = 0.0
                    for k in range(3):
                        acc += phi[i, j, k, p] * ja[k, q]
                    out[i, c, p, q] += acc
                    if q != p:
                        out[i, c, q, p] += acc


@numba.njit(cache=True, nogil=True)
def cumulate(info: FloatArray) -> None:  # pragma: no cover
    """Cumulative sum of ``info`` (N, T, 6, 6) along the sample axis, in place.

    The same sums in the same order as ``np.cumsum(info, axis=1)``, in one pass through
    memory (NumPy's strided inner loop along axis 1 was the largest single cost of the
    chain for ICBM flight times).
    """
    n, nt = info.shape[0], info.shape[1]
    for i in range(n):
        for j in range(1, nt):
            for p in range(6):
                for q in range(6):
                    info[i, j, p, q] += info[i, j - 1, p, q]


@numba.njit(cache=True, nogil=True, inline="always")
def _position_cov(
    info: FloatArray, a: FloatArray, p: FloatArray, d: FloatArray, lo: FloatArray, z: FloatArray
) -> bool:  # pragma: no cover
    """``p = a info⁻¹ aᵀ`` (3, 3) by a Jacobi-scaled Cholesky solve; False if ``info`` is
    singular (fewer looks than the six state components need). ``d`` (6,), ``lo`` (6, 6),
    ``z`` (6, 3): scratch."""
    for k in range(6):
        if not info[k, k] > 0.0:
            return False
        d[k] = math.sqrt(info[k, k])
    for r in range(6):
        for c in range(r + 1):
            s = info[r, c] / (d[r] * d[c])
            for k in range(c):
                s -= lo[r, k] * lo[c, k]
            if r == c:
                if not s > 1e-13:
                    return False
                lo[r, r] = math.sqrt(s)
            else:
                lo[r, c] = s / lo[c, c]
    for m in range(3):
        for r in range(6):
            s = a[m, r] / d[r]
            for k in range(r):
                s -= lo[r, k] * z[k, m]
            z[r, m] = s / lo[r, r]
    for u in range(3):
        for v in range(3):
            s = 0.0
            for k in range(6):
                s += z[k, u] * z[k, v]
            p[u, v] = s
    return True


@numba.njit(cache=True, nogil=True)
def pip_radii(
    phi: FloatArray,
    info_a: FloatArray,
    info_b: FloatArray,
    rows: IntArray,
    i0: IntArray,
    w: FloatArray,
    ja: IntArray,
    jb: IntArray,
    u: FloatArray,
    out: FloatArray,
    cov: FloatArray,
) -> None:  # pragma: no cover
    """95 % PIP miss radius [m] of ``K`` queries into ``out`` (K,), their ECI position
    covariance [m²] into ``cov`` (K, 3, 3).

    Query ``k``: threat ``rows[k]``; the intercept between samples ``i0[k]`` and ``i0[k] + 1``
    at weight ``w[k]`` (Φ interpolated linearly); information ``info_a[row, ja[k]] +
    info_b[row, jb[k]]`` (an index < 0 adds nothing); ``u[k]`` the unit relative velocity
    (ECI), normal to the miss plane. The radius is ``max(K95 √(tr/2), Z95 √λmax)`` of the 2×2
    miss-plane covariance: exact for a circular and for a degenerate miss, at most 4 % below
    the exact 95 % quantile between (``inf``: no fire solution).
    """
    k_n = rows.shape[0]
    nt = phi.shape[1]
    a = np.empty((3, 6))
    inf6 = np.empty((6, 6))
    p = np.empty((3, 3))
    d, lo, z = np.empty(6), np.zeros((6, 6)), np.empty((6, 3))
    e1, e2 = np.empty(3), np.empty(3)
    for k in range(k_n):
        r = rows[k]
        j0 = i0[k]
        j1 = min(j0 + 1, nt - 1)
        wk = w[k]
        for m in range(3):
            for c in range(6):
                a[m, c] = (1.0 - wk) * phi[r, j0, m, c] + wk * phi[r, j1, m, c]
        for m in range(6):
            for c in range(6):
                x = 0.0
                if ja[k] >= 0:
                    x += info_a[r, ja[k], m, c]
                if jb[k] >= 0:
                    x += info_b[r, jb[k], m, c]
                inf6[m, c] = x
        if not _position_cov(inf6, a, p, d, lo, z):
            out[k] = np.inf
            for m in range(3):
                for c in range(3):
                    cov[k, m, c] = np.inf
            continue
        for m in range(3):
            for c in range(3):
                cov[k, m, c] = p[m, c]
        ux, uy, uz = u[k, 0], u[k, 1], u[k, 2]
        # a unit vector normal to u: u × (the axis u is least along)
        if abs(ux) <= abs(uy) and abs(ux) <= abs(uz):
            e1[0], e1[1], e1[2] = 0.0, uz, -uy
        elif abs(uy) <= abs(uz):
            e1[0], e1[1], e1[2] = -uz, 0.0, ux
        else:
            e1[0], e1[1], e1[2] = uy, -ux, 0.0
        norm = math.sqrt(e1[0] ** 2 + e1[1] ** 2 + e1[2] ** 2)
        for m in range(3):
            e1[m] /= norm
        e2[0] = uy * e1[2] - uz * e1[1]
        e2[1] = uz * e1[0] - ux * e1[2]
        e2[2] = ux * e1[1] - uy * e1[0]
        c11 = c22 = c12 = 0.0
        for m in range(3):
            for c in range(3):
                c11 += e1[m] * p[m, c] * e1[c]
                c22 += e2[m] * p[m, c] * e2[c]
                c12 += e1[m] * p[m, c] * e2[c]
        tr = max(c11 + c22, 0.0)
        lmax = 0.5 * tr + math.sqrt(0.25 * (c11 - c22) ** 2 + c12 * c12)
        out[k] = max(K95 * math.sqrt(0.5 * tr), Z95 * math.sqrt(max(lmax, 0.0)))

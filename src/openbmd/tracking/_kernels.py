"""Compiled EKF kernels (numba): the same arithmetic as the NumPy path, fused per track."""

from __future__ import annotations

import math

import numba
import numpy as np

from openbmd.constants import GM_EARTH, J2_EARTH, WGS84_A
from openbmd.earth_jit import gravity
from openbmd.tracking.frames import Array

# The NumPy kernels allocate a temporary per operation on (N, 6, 6) stacks; these loops keep one
# track in registers/L1, and every scratch array is allocated once per call, not once per track
# (a numba allocation costs about as much as the arithmetic of a 6×6 product). They run serially:
# on the 2-core CI box, numba's parallel=True was slower (thread start-up and barrier cost under
# load) and tripled compile time; ``cache=True`` keeps the compiled code on disk.
# ``tests/unit/test_tracking.py`` checks them against the NumPy path;
# ``benchmarks/bench_tracking.py`` measures the gain.

_MU, _J2K = GM_EARTH, 1.5 * J2_EARTH * WGS84_A**2


@numba.njit(cache=True)
def _nb_abat(a: Array, b: Array, ab: Array, out: Array) -> None:  # pragma: no cover - compiled
    """``out = a @ b @ a.T`` for 6×6 matrices (explicit loops: no BLAS call per track).

    ``ab`` is scratch; the sums run in the same order as a plain triple loop.
    """
    for i in range(6):
        for j in range(6):
            ab[i, j] = 0.0
        for k in range(6):
            aik = a[i, k]
            if aik != 0.0:
                for j in range(6):
                    ab[i, j] += aik * b[k, j]
    for i in range(6):
        for j in range(6):
            acc = 0.0
            for k in range(6):
                acc += ab[i, k] * a[j, k]
            out[i, j] = acc


@numba.njit(cache=True)
def _nb_inv_spd(s: Array, a: Array, inv: Array) -> None:  # pragma: no cover - compiled
    """``inv = s⁻¹`` of a small symmetric positive-definite matrix by Gauss–Jordan (no pivoting).

    ``a`` is scratch of the same shape.
    """
    m = s.shape[0]
    for i in range(m):
        for j in range(m):
            a[i, j] = s[i, j]
            inv[i, j] = 1.0 if i == j else 0.0
    for c in range(m):
        d = a[c, c]
        for j in range(m):
            a[c, j] /= d
            inv[c, j] /= d
        for r in range(m):
            if r != c:
                f = a[r, c]
                for j in range(m):
                    a[r, j] -= f * a[c, j]
                    inv[r, j] -= f * inv[c, j]


@numba.njit(cache=True)
def _nb_acc(x: Array, j2: bool, out: Array) -> None:  # pragma: no cover - compiled
    out[0], out[1], out[2] = gravity(x[0], x[1], x[2], j2)


@numba.njit(cache=True)
def _nb_gjac(x: Array, j2: bool, g: Array) -> None:  # pragma: no cover - compiled
    r2 = x[0] * x[0] + x[1] * x[1] + x[2] * x[2]
    rn = math.sqrt(r2)
    a = -_MU / (r2 * rn)
    for i in range(3):
        for j in range(3):
            g[i, j] = a * ((1.0 if i == j else 0.0) - 3.0 * x[i] * x[j] / r2)
    if j2:
        s = x[2] * x[2] / r2
        k = -_J2K * _MU / (r2 * r2 * rn)
        c0 = 1.0 - 5.0 * s
        for i in range(3):
            ci = c0 + (2.0 if i == 2 else 0.0)
            for j in range(3):
                ds = -2.0 * s / r2 * x[j] + (2.0 * x[2] / r2 if j == 2 else 0.0)
                v = (ci if i == j else 0.0) - 5.0 / r2 * ci * x[i] * x[j] - 5.0 * x[i] * ds
                g[i, j] += k * v


@numba.njit(cache=True)
def _nb_stage(
    x: Array, phi: Array, j2: bool, kx: Array, kp: Array, g: Array, acc: Array
) -> None:  # pragma: no cover - compiled
    _nb_acc(x, j2, acc)
    _nb_gjac(x, j2, g)
    for i in range(3):
        kx[i] = x[3 + i]
        kx[3 + i] = acc[i]
        for j in range(6):
            kp[i, j] = phi[3 + i, j]
            kp[3 + i, j] = g[i, 0] * phi[0, j] + g[i, 1] * phi[1, j] + g[i, 2] * phi[2, j]


@numba.njit(cache=True)
def _nb_ekf_predict(
    x: Array, P: Array, dt: Array, n: int, q: float, j2: bool, xo: Array, po: Array
) -> None:  # pragma: no cover - compiled
    k1, k2, k3, k4 = np.empty(6), np.empty(6), np.empty(6), np.empty(6)
    m1, m2, m3, m4 = np.empty((6, 6)), np.empty((6, 6)), np.empty((6, 6)), np.empty((6, 6))
    g, acc = np.empty((3, 3)), np.empty(3)
    xs, xt = np.empty(6), np.empty(6)
    phi, pt = np.empty((6, 6)), np.empty((6, 6))
    ab, pn = np.empty((6, 6)), np.empty((6, 6))
    for t in range(x.shape[0]):
        h = dt[t] / n
        for i in range(6):
            xs[i] = x[t, i]
            for j in range(6):
                phi[i, j] = 1.0 if i == j else 0.0
        for _ in range(n):
            _nb_stage(xs, phi, j2, k1, m1, g, acc)
            for i in range(6):
                xt[i] = xs[i] + 0.5 * h * k1[i]
                for j in range(6):
                    pt[i, j] = phi[i, j] + 0.5 * h * m1[i, j]
            _nb_stage(xt, pt, j2, k2, m2, g, acc)
            for i in range(6):
                xt[i] = xs[i] + 0.5 * h * k2[i]
                for j in range(6):
                    pt[i, j] = phi[i, j] + 0.5 * h * m2[i, j]
            _nb_stage(xt, pt, j2, k3, m3, g, acc)
            for i in range(6):
                xt[i] = xs[i] + h * k3[i]
                for j in range(6):
                    pt[i, j] = phi[i, j] + h * m3[i, j]
            _nb_stage(xt, pt, j2, k4, m4, g, acc)
            for i in range(6):
                xs[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
                for j in range(6):
                    phi[i, j] += h / 6.0 * (m1[i, j] + 2.0 * m2[i, j] + 2.0 * m3[i, j] + m4[i, j])
        for i in range(6):
            xo[t, i] = xs[i]
        _nb_abat(phi, P[t], ab, pn)
        ad = abs(dt[t])
        qa, qb, qc = q * ad**3 / 3.0, q * ad**2 / 2.0, q * ad
        for i in range(3):
            pn[i, i] += qa
            pn[i, 3 + i] += qb
            pn[3 + i, i] += qb
            pn[3 + i, 3 + i] += qc
        for i in range(6):
            for j in range(6):
                po[t, i, j] = 0.5 * (pn[i, j] + pn[j, i])


@numba.njit(cache=True)
def _nb_measure(
    xt: Array,
    ct: Array,
    axes: Array,
    origin: Array,
    first: int,
    mt: Array,
    full: Array,
    hp: Array,
) -> None:  # pragma: no cover - compiled
    """Predicted ``(range, az, el)`` ``full`` of one ECI state and rows ``first:`` of ``∂h/∂x``.

    ``ct`` is ``C(t)`` (ECI→ECEF); ``mt`` receives ``axes @ C(t)``; ``hp`` ``(m, 6)`` gets its
    position columns written (the velocity columns must be zero already).
    """
    for i in range(3):
        for j in range(3):
            acc = 0.0
            for r in range(3):
                acc += axes[i, r] * ct[r, j]
            mt[i, j] = acc
    a = 0.0
    b = 0.0
    w = 0.0
    for i in range(3):
        acc = 0.0
        for j in range(3):
            acc += mt[i, j] * xt[j] - axes[i, j] * origin[j]
        if i == 0:
            a = acc
        elif i == 1:
            b = acc
        else:
            w = acc
    h2 = a * a + b * b
    hor = math.sqrt(h2)
    r2 = h2 + w * w
    rn = math.sqrt(r2)
    full[0] = rn
    full[1] = math.atan2(a, b) % (2.0 * math.pi)
    full[2] = math.atan2(w, hor)
    kk = 1.0 / (hor * r2)
    for i in range(hp.shape[0]):
        row = first + i
        if row == 0:
            j0, j1, j2 = a / rn, b / rn, w / rn
        elif row == 1:
            j0, j1, j2 = b / h2, -a / h2, 0.0
        else:
            j0, j1, j2 = -a * w * kk, -b * w * kk, hor / r2
        for j in range(3):
            hp[i, j] = j0 * mt[0, j] + j1 * mt[1, j] + j2 * mt[2, j]


@numba.njit(cache=True)
def _nb_innovation_cov(
    x: Array,
    P: Array,
    c: Array,
    axes: Array,
    origin: Array,
    sig: Array,
    first: int,
    zo: Array,
    so: Array,
    logdet: Array,
) -> None:  # pragma: no cover - compiled
    """Per track: predicted measurement ``zo``, ``S = H P Hᵀ + R`` (symmetrised), ``ln det S``."""
    m = 3 - first
    mt, full = np.empty((3, 3)), np.empty(3)
    hp = np.zeros((m, 6))
    pht, s, ch = np.empty((3, m)), np.empty((m, m)), np.empty((m, m))
    for t in range(x.shape[0]):
        _nb_measure(x[t], c[t], axes, origin, first, mt, full, hp)
        for i in range(m):
            zo[t, i] = full[first + i]
        pt = P[t]
        for i in range(3):
            for r in range(m):
                acc = 0.0
                for j in range(3):
                    acc += pt[i, j] * hp[r, j]
                pht[i, r] = acc
        for i in range(m):
            for r in range(m):
                acc = 0.0
                for j in range(3):
                    acc += hp[i, j] * pht[j, r]
                s[i, r] = acc
            s[i, i] += sig[i] ** 2
        for i in range(m):
            for r in range(m):
                so[t, i, r] = 0.5 * (s[i, r] + s[r, i])
        # ln det S from the Cholesky factor (S is SPD)
        ld = 0.0
        for j in range(m):
            d = so[t, j, j]
            for k in range(j):
                d -= ch[j, k] * ch[j, k]
            d = math.sqrt(d)
            ch[j, j] = d
            ld += 2.0 * math.log(d)
            for i in range(j + 1, m):
                e = so[t, i, j]
                for k in range(j):
                    e -= ch[i, k] * ch[j, k]
                ch[i, j] = e / d
        logdet[t] = ld


@numba.njit(cache=True)
def _nb_ekf_update(
    x: Array,
    P: Array,
    z: Array,
    c: Array,
    axes: Array,
    origin: Array,
    sig: Array,
    first: int,
    wrap: int,
    rows: np.ndarray,
    xo: Array,
    po: Array,
    nuo: Array,
    so: Array,
) -> None:  # pragma: no cover - compiled
    """EKF update of tracks ``rows`` with measurements ``z`` (row ``k`` for track ``rows[k]``).

    Reads ``x[rows[k]], P[rows[k]]``, writes ``xo[rows[k]], po[rows[k]]`` (``xo``/``po`` may be
    copies of ``x``/``P`` so that the other tracks are left as they were) and ``nuo[k], so[k]``.
    """
    m = 3 - first
    mt, full = np.empty((3, 3)), np.empty(3)
    hp = np.zeros((m, 6))  # velocity columns stay zero
    nu = np.empty(m)
    pht, s, s2 = np.empty((6, m)), np.empty((m, m)), np.empty((m, m))
    si, scr = np.empty((m, m)), np.empty((m, m))
    k = np.empty((6, m))
    xn = np.empty(6)
    ikh, ab, pn = np.empty((6, 6)), np.empty((6, 6)), np.empty((6, 6))
    for t in range(rows.shape[0]):
        row = rows[t]
        pt = P[row]
        _nb_measure(x[row], c[t], axes, origin, first, mt, full, hp)
        for i in range(m):
            nu[i] = z[t, i] - full[first + i]
        if wrap >= 0:
            nu[wrap] = (nu[wrap] + math.pi) % (2.0 * math.pi) - math.pi
        for i in range(6):
            for r in range(m):
                acc = 0.0
                for j in range(3):
                    acc += pt[i, j] * hp[r, j]
                pht[i, r] = acc
        for i in range(m):
            for r in range(m):
                acc = 0.0
                for j in range(3):
                    acc += hp[i, j] * pht[j, r]
                s[i, r] = acc
        for i in range(m):
            s[i, i] += sig[i] ** 2
        for i in range(m):
            for r in range(m):
                s2[i, r] = 0.5 * (s[i, r] + s[r, i])
        _nb_inv_spd(s2, scr, si)
        for i in range(6):
            for r in range(m):
                acc = 0.0
                for j in range(m):
                    acc += pht[i, j] * si[j, r]
                k[i, r] = acc
        for i in range(6):
            xn[i] = x[row, i]
            for r in range(m):
                xn[i] += k[i, r] * nu[r]
        for i in range(6):
            xo[row, i] = xn[i]
            for j in range(6):
                ikh[i, j] = 1.0 if i == j else 0.0
            for j in range(3):
                for r in range(m):
                    ikh[i, j] -= k[i, r] * hp[r, j]
        _nb_abat(ikh, pt, ab, pn)
        for i in range(6):
            for j in range(6):
                acc = 0.0
                for r in range(m):
                    acc += k[i, r] * k[j, r] * sig[r] ** 2
                pn[i, j] += acc
        for i in range(6):
            for j in range(6):
                po[row, i, j] = 0.5 * (pn[i, j] + pn[j, i])
        for i in range(m):
            nuo[t, i] = nu[i]
            for j in range(m):
                so[t, i, j] = s2[i, j]

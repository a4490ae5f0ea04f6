"""EKF and UKF predict/update kernels on batches of ECI states and covariances.

EKF (Bar-Shalom et al. 2001, §10.3) with the Joseph-form covariance update; UKF with scaled
sigma points (van der Merwe 2004, *Sigma-Point Kalman Filters*, α, β, κ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.errors import InputError
from openbmd.tracking._kernels import _nb_ekf_predict, _nb_ekf_update, _nb_innovation_cov
from openbmd.tracking.frames import Array, _f, eci2ecef_matrix
from openbmd.tracking.measurements import InfraredLOSModel, MeasurementModel, RadarModel, _residual
from openbmd.tracking.motion import (
    BallisticModel,
    _n_steps,
    process_noise,
    propagate,
    propagate_stm,
)

Backend = Literal["numba", "numpy"]


# --------------------------------------------------------------------------------------------------
# EKF and UKF kernels
# --------------------------------------------------------------------------------------------------


def _ro(a: ArrayLike) -> Array:
    """A kernel input as a C-contiguous read-only view (a copy only when the layout or dtype
    differs). numba compiles read-only and writable arrays as different types, and which one a
    caller's array is depends on how it was made (``np.broadcast_to`` views are read-only), so
    marking every float input read-only keeps each kernel to one compiled specialisation."""
    out: Array = np.ascontiguousarray(a, dtype=np.float64).view()
    out.flags.writeable = False
    return out


def _sym(p: Array) -> Array:
    return 0.5 * (p + np.swapaxes(p, -1, -2))


def ekf_predict(
    x: ArrayLike,
    P: ArrayLike,
    dt: ArrayLike,
    model: BallisticModel | None = None,
    backend: Backend = "numba",
) -> tuple[Array, Array]:
    """EKF prediction of ECI states ``(..., 6)`` and covariances ``(..., 6, 6)`` over ``dt`` [s].

    ``backend="numba"`` runs the fused compiled kernel (parallel over tracks), ``"numpy"`` the
    vectorised NumPy reference; they agree to rounding.
    """
    model = model or BallisticModel()
    x, P = _f(x), _f(P)
    shape = np.broadcast_shapes(x.shape[:-1], P.shape[:-2], np.shape(dt))
    dtb = np.broadcast_to(_f(dt), shape)
    if backend == "numba":
        xf = np.ascontiguousarray(np.broadcast_to(x, (*shape, 6))).reshape(-1, 6)
        pf = np.ascontiguousarray(np.broadcast_to(P, (*shape, 6, 6))).reshape(-1, 6, 6)
        xo, po = np.empty_like(xf), np.empty_like(pf)
        n = _n_steps(dtb, model.max_step)
        dtf = np.ascontiguousarray(dtb).reshape(-1)
        _nb_ekf_predict(_ro(xf), _ro(pf), _ro(dtf), n, float(model.q), bool(model.j2), xo, po)
        return xo.reshape(*shape, 6), po.reshape(*shape, 6, 6)
    x1, phi = propagate_stm(x, dtb, model)
    p1 = phi @ P @ np.swapaxes(phi, -1, -2) + process_noise(dtb, model.q)
    return x1, _sym(p1)


def _kalman(x: Array, P: Array, nu: Array, S: Array, pxz: Array) -> tuple[Array, Array, Array]:
    """Gain ``K = Pxz S⁻¹`` (by a batched solve) and the mean update."""
    k = np.swapaxes(np.linalg.solve(S, np.swapaxes(pxz, -1, -2)), -1, -2)
    return x + np.einsum("...ij,...j->...i", k, nu), k, S


def ekf_update(
    x: ArrayLike,
    P: ArrayLike,
    z: ArrayLike,
    sensor: MeasurementModel,
    t: ArrayLike,
    backend: Backend = "numba",
) -> tuple[Array, Array, Array, Array]:
    """EKF update with Joseph-form covariance; returns ``(x, P, innovation, S)``.

    Innovation angles listed in ``sensor.wrap_index`` are wrapped to [-π, π). With
    ``backend="numba"`` a :class:`RadarModel` or :class:`InfraredLOSModel` runs the fused compiled
    kernel; any other sensor (e.g. a stacked model) uses the NumPy path.
    """
    x, P, z = _f(x), _f(P), _f(z)
    if backend == "numba" and isinstance(sensor, RadarModel | InfraredLOSModel):
        shape = np.broadcast_shapes(x.shape[:-1], P.shape[:-2], z.shape[:-1], np.shape(t))
        xf = np.ascontiguousarray(np.broadcast_to(x, (*shape, 6))).reshape(-1, 6)
        pf = np.ascontiguousarray(np.broadcast_to(P, (*shape, 6, 6))).reshape(-1, 6, 6)
        tf = np.broadcast_to(_f(t), shape).reshape(-1)
        xo, po = np.empty_like(xf), np.empty_like(pf)
        rows = np.arange(xf.shape[0], dtype=np.int64)
        zf = np.broadcast_to(z, (*shape, sensor.dim)).reshape(-1, sensor.dim)
        nuo, so = _ekf_update_rows(xf, pf, zf, sensor, tf, rows, xo, po)
        m = sensor.dim
        return (
            xo.reshape(*shape, 6),
            po.reshape(*shape, 6, 6),
            nuo.reshape(*shape, m),
            so.reshape(*shape, m, m),
        )
    hm = sensor.jacobian(x, t)
    nu = _residual(z, sensor.h(x, t), sensor.wrap_index)
    ht = np.swapaxes(hm, -1, -2)
    pht = P @ ht
    S = _sym(hm @ pht + sensor.R)
    x1, k, _ = _kalman(x, P, nu, S, pht)
    ikh = np.eye(6) - k @ hm
    p1 = ikh @ P @ np.swapaxes(ikh, -1, -2) + k @ sensor.R @ np.swapaxes(k, -1, -2)
    return x1, _sym(p1), nu, S


def _rotations(t: Array, k: int) -> Array:
    """``C(t)`` for ``k`` rows, ``(k, 3, 3)`` contiguous; computed once when all times are equal."""
    t = _f(t)
    if t.ndim == 0 or (t.size and np.all(t == t.flat[0])):
        c1 = eci2ecef_matrix(t.flat[0] if t.size else 0.0)
        return np.ascontiguousarray(np.broadcast_to(c1, (k, 3, 3)))
    return np.ascontiguousarray(np.broadcast_to(eci2ecef_matrix(t), (k, 3, 3)))


def _ekf_update_rows(
    x: Array,
    P: Array,
    z: ArrayLike,
    sensor: RadarModel | InfraredLOSModel,
    t: ArrayLike,
    rows: NDArray[np.int64],
    xo: Array,
    po: Array,
) -> tuple[Array, Array]:
    """Compiled EKF update of the tracks ``rows`` of ``x (N, 6), P (N, 6, 6)`` (C-contiguous).

    Measurement ``k`` (row ``k`` of ``z``, time ``t[k]``) updates track ``rows[k]``; the result is
    written to ``xo[rows], po[rows]`` in place (``xo``/``po`` may be copies of ``x``/``P``: no
    gather or scatter of the batch). Returns the innovations ``(k, m)`` and their covariances
    ``(k, m, m)``.
    """
    m, k = sensor.dim, rows.shape[0]
    zf = np.ascontiguousarray(np.broadcast_to(_f(z), (k, m)))
    c = _rotations(np.broadcast_to(_f(t), (k,)), k)
    nuo, so = np.empty((k, m)), np.empty((k, m, m))
    origin, axes = sensor.frame()
    _nb_ekf_update(
        _ro(x), _ro(P), _ro(zf), _ro(c), _ro(axes), _ro(origin), _ro(sensor.sigma), 3 - m,
        sensor.wrap_index[0], rows, xo, po, nuo, so,
    )  # fmt: skip
    return nuo, so


def innovation_covariance(
    x: Array, P: Array, sensor: MeasurementModel, t: ArrayLike
) -> tuple[Array, Array, Array]:
    """Predicted measurements ``(N, m)``, EKF innovation covariances ``S = H P Hᵀ + R``
    ``(N, m, m)`` and ``ln det S`` ``(N,)`` of tracks ``x (N, 6), P (N, 6, 6)`` at times ``t``.

    A :class:`RadarModel` or :class:`InfraredLOSModel` runs a fused compiled kernel (no
    ``(N, m, 6)`` Jacobian stack); any other sensor the NumPy path.
    """
    n = x.shape[0]
    if isinstance(sensor, RadarModel | InfraredLOSModel):
        m = sensor.dim
        zo, so, logdet = np.empty((n, m)), np.empty((n, m, m)), np.empty(n)
        origin, axes = sensor.frame()
        _nb_innovation_cov(
            _ro(x), _ro(P), _ro(_rotations(np.broadcast_to(_f(t), (n,)), n)),
            _ro(axes), _ro(origin), _ro(sensor.sigma), 3 - m, zo, so, logdet,
        )  # fmt: skip
        return zo, so, logdet
    hm = sensor.jacobian(x, t)
    S = _sym(hm @ P @ np.swapaxes(hm, -1, -2) + sensor.R)
    return sensor.h(x, t), S, _f(np.linalg.slogdet(S)[1])


@dataclass(frozen=True)
class MerweParams:
    """Scaled unscented transform parameters (van der Merwe 2004): spread α, prior β, κ."""

    alpha: float = 0.5
    beta: float = 2.0
    kappa: float = 0.0

    def weights(self, n: int) -> tuple[float, Array, Array]:
        """``(γ, Wm, Wc)``: sigma-point scale ``sqrt(n + λ)``, mean/covariance weights (2n+1,)."""
        lam = self.alpha**2 * (n + self.kappa) - n
        if not n + lam > 0:
            raise InputError(f"MerweParams give n + λ = {n + lam} <= 0; raise alpha or kappa")
        wm = np.full(2 * n + 1, 0.5 / (n + lam))
        wc = wm.copy()
        wm[0] = lam / (n + lam)
        wc[0] = wm[0] + 1.0 - self.alpha**2 + self.beta
        return math.sqrt(n + lam), wm.astype(np.float64), wc.astype(np.float64)


def _chol(P: Array) -> Array:
    try:
        return _f(np.linalg.cholesky(P))
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(P)
        return _f(v * np.sqrt(np.clip(w, 0.0, None))[..., None, :])


def sigma_points(x: ArrayLike, P: ArrayLike, params: MerweParams | None = None) -> Array:
    """Scaled sigma points ``(..., 2n+1, n)``: ``x``, ``x ± γ Lᵢ`` with ``P = L Lᵀ`` (Cholesky)."""
    params = params or MerweParams()
    x, P = _f(x), _f(P)
    n = x.shape[-1]
    gam, _, _ = params.weights(n)
    lt = gam * np.swapaxes(_chol(P), -1, -2)  # rows are the scaled columns of L
    return np.concatenate([x[..., None, :], x[..., None, :] + lt, x[..., None, :] - lt], axis=-2)


def _ut_stats(
    pts: Array, wm: Array, wc: Array, wrap_index: tuple[int, ...] = ()
) -> tuple[Array, Array]:
    """Weighted mean and deviations of transformed sigma points (angles averaged about point 0)."""
    d0 = _residual(pts, pts[..., :1, :], wrap_index)
    mean = pts[..., 0, :] + np.einsum("k,...ki->...i", wm, d0)
    dev = _residual(pts, mean[..., None, :], wrap_index)
    return mean, dev


def ukf_predict(
    x: ArrayLike,
    P: ArrayLike,
    dt: ArrayLike,
    model: BallisticModel | None = None,
    params: MerweParams | None = None,
) -> tuple[Array, Array]:
    """UKF prediction: sigma points through the RK4 ballistic map, plus ``Q(dt)``."""
    model, params = model or BallisticModel(), params or MerweParams()
    x, P = _f(x), _f(P)
    _, wm, wc = params.weights(6)
    pts = sigma_points(x, P, params)
    dtb = np.broadcast_to(_f(dt), x.shape[:-1])
    pts1 = propagate(pts, dtb[..., None], model)
    mean, dev = _ut_stats(pts1, wm, wc)
    p1 = np.einsum("k,...ki,...kj->...ij", wc, dev, dev) + process_noise(dtb, model.q)
    return mean, _sym(p1)


def ukf_update(
    x: ArrayLike,
    P: ArrayLike,
    z: ArrayLike,
    sensor: MeasurementModel,
    t: ArrayLike,
    params: MerweParams | None = None,
) -> tuple[Array, Array, Array, Array]:
    """UKF update; returns ``(x, P, innovation, S)``. Angles are averaged/differenced wrapped."""
    params = params or MerweParams()
    x, P, z = _f(x), _f(P), _f(z)
    _, wm, wc = params.weights(6)
    pts = sigma_points(x, P, params)
    tt = _f(t)
    zp = sensor.h(pts, tt[..., None] if tt.ndim else tt)
    zhat, dz = _ut_stats(zp, wm, wc, sensor.wrap_index)
    dx = pts - x[..., None, :]
    S = _sym(np.einsum("k,...ki,...kj->...ij", wc, dz, dz) + sensor.R)
    pxz = np.einsum("k,...ki,...kj->...ij", wc, dx, dz)
    nu = _residual(z, zhat, sensor.wrap_index)
    x1, k, _ = _kalman(x, P, nu, S, pxz)
    p1 = P - k @ S @ np.swapaxes(k, -1, -2)
    return x1, _sym(p1), nu, S

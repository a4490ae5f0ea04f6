"""Ballistic motion model: J2 gravity gradient, RK4 propagation with the transition
matrix, and the discretised white-acceleration process noise (see :mod:`openbmd.tracking`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from openbmd import earth
from openbmd.constants import GM_EARTH, J2_EARTH, WGS84_A
from openbmd.errors import InputError
from openbmd.tracking.frames import Array, _f

# --------------------------------------------------------------------------------------------------
# Motion model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BallisticModel:
    """Ballistic motion: gravity (point mass + J2), white-acceleration noise, RK4 propagation.

    Attributes
    ----------
    q : float
        Power spectral density of the continuous white acceleration noise, per axis [m²/s³].
    j2 : bool
        Include the J2 term of gravity.
    max_step : float
        Largest RK4 step [s]; an interval ``dt`` is cut into ``ceil(|dt| / max_step)`` equal steps.
    """

    q: float = 1.0e-2
    j2: bool = True
    max_step: float = 10.0

    def __post_init__(self) -> None:
        if not self.q >= 0.0:
            raise InputError(f"BallisticModel.q must be >= 0 m²/s³, got {self.q}")
        if not self.max_step > 0.0:
            raise InputError(f"BallisticModel.max_step must be > 0 s, got {self.max_step}")


def gravity_jacobian(r: ArrayLike, j2: bool = True) -> Array:
    """Analytic gradient ``∂g/∂r`` of :func:`openbmd.earth.gravity`, shape ``(..., 3, 3)`` [1/s²].

    With ``g = k r⁻⁵ c ∘ r`` for the J2 part (``c = (1 − 5s, 1 − 5s, 3 − 5s)``, ``s = z²/r²``,
    ``k = −1.5 J2 μ a²``) and ``−μ r⁻³ r`` for the point mass::

        G = −μ/r³ (I − 3 r̂ r̂ᵀ) + k r⁻⁵ [diag(c) − 5/r² (c∘r) rᵀ − 5 r (∂s/∂r)ᵀ],
        ∂s/∂r = (2z/r²) e_z − (2s/r²) r.
    """
    r = _f(r)
    r2 = np.einsum("...i,...i->...", r, r)
    rn = np.sqrt(r2)
    eye = np.eye(3)
    outer_rr = r[..., :, None] * r[..., None, :]
    g = (-GM_EARTH / (r2 * rn))[..., None, None] * (eye - 3.0 * outer_rr / r2[..., None, None])
    if not j2:
        return g
    z = r[..., 2]
    s = z * z / r2
    c = np.stack([1.0 - 5.0 * s, 1.0 - 5.0 * s, 3.0 - 5.0 * s], axis=-1)
    ds = (-2.0 * s / r2)[..., None] * r
    ds[..., 2] += 2.0 * z / r2
    k = (-1.5 * J2_EARTH * GM_EARTH * WGS84_A**2) / (r2 * r2 * rn)
    cr = c * r
    term = (
        c[..., :, None] * eye
        - (5.0 / r2)[..., None, None] * cr[..., :, None] * r[..., None, :]
        - 5.0 * r[..., :, None] * ds[..., None, :]
    )
    return g + k[..., None, None] * term


def _deriv(x: Array, j2: bool) -> Array:
    return np.concatenate([x[..., 3:], earth.gravity(x[..., :3], j2=j2)], axis=-1)


def _n_steps(dt: Array, max_step: float) -> int:
    m = float(np.max(np.abs(dt))) if dt.size else 0.0
    return max(1, math.ceil(m / max_step - 1e-12))


def propagate(x: ArrayLike, dt: ArrayLike, model: BallisticModel | None = None) -> Array:
    """Propagate ECI states ``(..., 6)`` by ``dt`` [s] (shape ``(...)`` or scalar) with RK4."""
    model = model or BallisticModel()
    x = _f(x)
    dt = np.broadcast_to(_f(dt), x.shape[:-1])
    n = _n_steps(dt, model.max_step)
    h = (dt / n)[..., None]
    for _ in range(n):
        k1 = _deriv(x, model.j2)
        k2 = _deriv(x + 0.5 * h * k1, model.j2)
        k3 = _deriv(x + 0.5 * h * k2, model.j2)
        k4 = _deriv(x + h * k3, model.j2)
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return x


def _stm_deriv(x: Array, phi: Array, j2: bool) -> tuple[Array, Array]:
    r = x[..., :3]
    dx = np.concatenate([x[..., 3:], earth.gravity(r, j2=j2)], axis=-1)
    g = gravity_jacobian(r, j2=j2)
    dphi = np.concatenate([phi[..., 3:, :], g @ phi[..., :3, :]], axis=-2)
    return dx, dphi


def propagate_stm(
    x: ArrayLike, dt: ArrayLike, model: BallisticModel | None = None
) -> tuple[Array, Array]:
    """RK4 propagation of ECI states ``(..., 6)`` with their transition matrices ``(..., 6, 6)``.

    The variational equation ``Φ̇ = [[0, I], [G(r), 0]] Φ`` is integrated with the same RK4 stages as
    the state, so ``Φ`` is the exact Jacobian of the discrete RK4 map up to O(h⁴).
    """
    model = model or BallisticModel()
    x = _f(x)
    dt = np.broadcast_to(_f(dt), x.shape[:-1])
    n = _n_steps(dt, model.max_step)
    h = (dt / n)[..., None]
    hh = h[..., None]
    phi = np.broadcast_to(np.eye(6), (*x.shape[:-1], 6, 6)).copy()
    j2 = model.j2
    for _ in range(n):
        k1, m1 = _stm_deriv(x, phi, j2)
        k2, m2 = _stm_deriv(x + 0.5 * h * k1, phi + 0.5 * hh * m1, j2)
        k3, m3 = _stm_deriv(x + 0.5 * h * k2, phi + 0.5 * hh * m2, j2)
        k4, m4 = _stm_deriv(x + h * k3, phi + hh * m3, j2)
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        phi = phi + hh / 6.0 * (m1 + 2.0 * m2 + 2.0 * m3 + m4)
    return x, phi


def process_noise(dt: ArrayLike, q: float) -> Array:
    """Discretised continuous white-acceleration noise ``(..., 6, 6)`` (Bar-Shalom §6.2.2)."""
    dt = np.abs(_f(dt))
    eye = np.eye(3)
    a = (q * dt**3 / 3.0)[..., None, None] * eye
    b = (q * dt**2 / 2.0)[..., None, None] * eye
    c = (q * dt)[..., None, None] * eye
    return np.concatenate([np.concatenate([a, b], -1), np.concatenate([b, c], -1)], -2)

"""Measurement models: monostatic radar (range, az, el) and space IR line of sight,
with analytic Jacobians; innovation residuals with angle wrapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from openbmd import earth
from openbmd.errors import InputError
from openbmd.tracking.frames import _TWO_PI, Array, _f, eci2ecef_matrix, wrap_angle

# --------------------------------------------------------------------------------------------------
# Measurement models
# --------------------------------------------------------------------------------------------------


class MeasurementModel(Protocol):
    """What the filters need from a sensor: ``h``, its Jacobian, the noise and which angles wrap."""

    @property
    def dim(self) -> int: ...

    @property
    def wrap_index(self) -> tuple[int, ...]: ...

    @property
    def R(self) -> Array: ...

    def h(self, x: ArrayLike, t: ArrayLike) -> Array: ...

    def jacobian(self, x: ArrayLike, t: ArrayLike) -> Array: ...


def _local(x: ArrayLike, t: ArrayLike, origin: Array, axes: Array) -> tuple[Array, Array]:
    """Position of ECI states in a sensor frame (rows of ``axes`` in ECEF) and ``axes @ C(t)``."""
    x = _f(x)
    m = axes @ eci2ecef_matrix(t)  # (..., 3, 3): ECI -> sensor frame
    rho = np.einsum("...ij,...j->...i", m, x[..., :3]) - axes @ origin
    return rho, m


def _aer(rho: Array) -> Array:
    """(range, az, el) of vectors given as (a, b, c) with ``az = atan2(a, b)``, ``el`` towards c."""
    a, b, c = rho[..., 0], rho[..., 1], rho[..., 2]
    hor = np.hypot(a, b)
    return np.stack([np.hypot(hor, c), np.mod(np.arctan2(a, b), _TWO_PI), np.arctan2(c, hor)], -1)


def _aer_jacobian(rho: Array) -> Array:
    """Jacobian ``∂(range, az, el)/∂rho``, shape ``(..., 3, 3)``."""
    a, b, c = rho[..., 0], rho[..., 1], rho[..., 2]
    h2 = a * a + b * b
    hor = np.sqrt(h2)
    r2 = h2 + c * c
    rn = np.sqrt(r2)
    z = np.zeros_like(a)
    d_r = np.stack([a / rn, b / rn, c / rn], -1)
    d_az = np.stack([b / h2, -a / h2, z], -1)
    k = 1.0 / (hor * r2)
    d_el = np.stack([-a * c * k, -b * c * k, hor / r2], -1)
    return np.stack([d_r, d_az, d_el], -2)


def _pad_velocity(hp: Array) -> Array:
    return np.concatenate([hp, np.zeros_like(hp)], axis=-1)


@dataclass(frozen=True)
class RadarModel:
    """Monostatic radar at a fixed ECEF site: ``z = (range [m], azimuth [rad], elevation [rad])``.

    Azimuth is from local north towards east in [0, 2π), elevation above the ellipsoid tangent plane
    (the conventions of :func:`openbmd.earth.ecef2aer`). The state is ECI at time ``t``.

    Attributes
    ----------
    site_ecef : ndarray (3,)
        Antenna position, ECEF [m].
    enu : ndarray (3, 3)
        Rows east, north, up at the site (ECEF components).
    sigma : ndarray (3,)
        Measurement noise standard deviations (range [m], azimuth [rad], elevation [rad]).
    """

    site_ecef: Array
    enu: Array
    sigma: Array

    dim = 3
    wrap_index = (1,)

    @classmethod
    def from_geodetic(
        cls,
        lat: float,
        lon: float,
        alt: float,
        sigma_range: float,
        sigma_az: float,
        sigma_el: float,
    ) -> RadarModel:
        """Radar at geodetic ``lat, lon`` [rad], ``alt`` [m] with the given noise (m, rad, rad)."""
        sig = _f([sigma_range, sigma_az, sigma_el])
        if not np.all(sig > 0):
            raise InputError(f"radar measurement sigmas must be > 0, got {sig.tolist()}")
        return cls(
            site_ecef=_f(earth.geodetic2ecef(lat, lon, alt)),
            enu=_f(earth.enu_basis(lat, lon)),
            sigma=sig,
        )

    def frame(self) -> tuple[Array, Array]:
        """Sensor origin (ECEF) and axes (rows east, north, up in ECEF)."""
        return self.site_ecef, self.enu

    @property
    def R(self) -> Array:
        """Measurement noise covariance (3, 3)."""
        return np.diag(self.sigma**2)

    def h(self, x: ArrayLike, t: ArrayLike) -> Array:
        """Predicted ``(range, az, el)`` of ECI states ``(..., 6)`` at time ``t`` → ``(..., 3)``."""
        rho, _ = _local(x, t, self.site_ecef, self.enu)
        return _aer(rho)

    def jacobian(self, x: ArrayLike, t: ArrayLike) -> Array:
        """Analytic ``∂h/∂x``, shape ``(..., 3, 6)`` (velocity columns are zero)."""
        rho, m = _local(x, t, self.site_ecef, self.enu)
        return _pad_velocity(_aer_jacobian(rho) @ m)

    def to_eci(self, z: ArrayLike, t: ArrayLike) -> tuple[Array, Array]:
        """Converted measurement: ECI position ``(..., 3)``, its covariance ``(..., 3, 3)``."""
        z = _f(z)
        rng, az, el = z[..., 0], z[..., 1], z[..., 2]
        ce, se, ca, sa = np.cos(el), np.sin(el), np.cos(az), np.sin(az)
        rho = np.stack([rng * ce * sa, rng * ce * ca, rng * se], -1)
        jac = np.stack(
            [
                np.stack([ce * sa, rng * ce * ca, -rng * se * sa], -1),
                np.stack([ce * ca, -rng * ce * sa, -rng * se * ca], -1),
                np.stack([se, np.zeros_like(se), rng * ce], -1),
            ],
            -2,
        )
        m = self.enu @ eci2ecef_matrix(t)
        mt = np.swapaxes(m, -1, -2)
        pos = np.einsum("...ij,...j->...i", mt, rho + self.enu @ self.site_ecef)
        a = mt @ jac
        return pos, a @ self.R @ np.swapaxes(a, -1, -2)


@dataclass(frozen=True)
class InfraredLOSModel:
    """Space-based infrared line of sight: ``z = (azimuth, elevation)`` [rad] in a sensor frame.

    The sensor frame has rows ``(right, boresight, up)`` in ECEF; azimuth is measured from the
    boresight towards ``right`` and elevation towards ``up`` — singular only 90° off boresight, so a
    nadir-looking satellite is well conditioned. The satellite position is ECEF at the measurement
    time (build one model per measurement epoch for a moving satellite).
    """

    sat_ecef: Array
    axes: Array
    sigma: Array

    dim = 2
    wrap_index = (0,)

    @classmethod
    def nadir(cls, sat_ecef: ArrayLike, sigma_angle: float) -> InfraredLOSModel:
        """Nadir-pointing sensor at ``sat_ecef`` [m] with angular noise ``sigma_angle`` [rad]."""
        if not sigma_angle > 0:
            raise InputError(f"IR sigma_angle must be > 0 rad, got {sigma_angle}")
        s = _f(sat_ecef)
        b = -s / np.linalg.norm(s)
        right = np.cross(b, [0.0, 0.0, 1.0])
        if np.linalg.norm(right) < 1e-6:  # over a pole
            right = np.cross(b, [1.0, 0.0, 0.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, b)
        return cls(sat_ecef=s, axes=np.stack([right, b, up]), sigma=_f([sigma_angle, sigma_angle]))

    def frame(self) -> tuple[Array, Array]:
        """Sensor origin (ECEF) and axes (rows right, boresight, up in ECEF)."""
        return self.sat_ecef, self.axes

    @property
    def R(self) -> Array:
        """Measurement noise covariance (2, 2)."""
        return np.diag(self.sigma**2)

    def from_unit_vector(self, u_ecef: ArrayLike) -> Array:
        """Measurement ``(az, el)`` ``(..., 2)`` from a unit line of sight in ECEF ``(..., 3)``.

        Converts the ``"los"`` measurements of :mod:`openbmd.sensors` to this model's angles.
        """
        return _aer(np.einsum("ij,...j->...i", self.axes, _f(u_ecef)))[..., 1:]

    def h(self, x: ArrayLike, t: ArrayLike) -> Array:
        """Line-of-sight angles of ECI states ``(..., 6)`` → ``(..., 2)``."""
        rho, _ = _local(x, t, self.sat_ecef, self.axes)
        return _aer(rho)[..., 1:]

    def jacobian(self, x: ArrayLike, t: ArrayLike) -> Array:
        """Analytic ``∂h/∂x``, shape ``(..., 2, 6)``."""
        rho, m = _local(x, t, self.sat_ecef, self.axes)
        return _pad_velocity(_aer_jacobian(rho)[..., 1:, :] @ m)


def _residual(z: Array, zhat: Array, wrap_index: tuple[int, ...]) -> Array:
    nu = z - zhat
    for i in wrap_index:
        nu[..., i] = wrap_angle(nu[..., i])
    return nu

"""Array helpers and the ECI ⇄ ECEF frame rotations used by the tracking filters."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd import earth
from openbmd.constants import OMEGA_EARTH

Array = NDArray[np.float64]

_TWO_PI = 2.0 * math.pi


def _f(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def wrap_angle(a: ArrayLike) -> Array:
    """Wrap angles to [-π, π) [rad]."""
    return np.mod(_f(a) + math.pi, _TWO_PI) - math.pi


# --------------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------------


def eci2ecef_matrix(t: ArrayLike) -> Array:
    """Rotation ``C(t)``, ``r_ecef = C(t) @ r_eci`` (as :func:`openbmd.earth.eci2ecef`).

    Returns shape ``(..., 3, 3)`` for ``t`` of shape ``(...)``.
    """
    th = OMEGA_EARTH * _f(t)
    c, s = np.cos(th), np.sin(th)
    o, z = np.ones_like(c), np.zeros_like(c)
    return np.stack(
        [np.stack([c, s, z], -1), np.stack([-s, c, z], -1), np.stack([z, z, o], -1)], -2
    )


def state_eci2ecef(x_eci: ArrayLike, t: ArrayLike) -> Array:
    """ECI state ``(..., 6)`` to ECEF position and Earth-relative velocity ``(..., 6)``."""
    x = _f(x_eci)
    r, v = earth.eci2ecef_state(x[..., :3], x[..., 3:], t)
    return np.concatenate([r, v], axis=-1)


def state_ecef2eci(x_ecef: ArrayLike, t: ArrayLike) -> Array:
    """ECEF position and Earth-relative velocity ``(..., 6)`` to an ECI state ``(..., 6)``."""
    x = _f(x_ecef)
    r, v = earth.ecef2eci_state(x[..., :3], x[..., 3:], t)
    return np.concatenate([r, v], axis=-1)

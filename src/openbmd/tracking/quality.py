"""Filter consistency (NEES, NIS; Bar-Shalom et al. 2001, §5.4) and fire-control quality."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.tracking.batch import TrackBatch
from openbmd.tracking.frames import Array, _f


def nees(x_true: ArrayLike, x: ArrayLike, P: ArrayLike) -> Array:
    """Normalised estimation error squared ``eᵀ P⁻¹ e`` (Bar-Shalom et al. 2001, §5.4.2)."""
    e = _f(x_true) - _f(x)
    return np.einsum("...i,...i->...", e, np.linalg.solve(_f(P), e[..., None])[..., 0])


def nis(nu: ArrayLike, S: ArrayLike) -> Array:
    """Normalised innovation squared ``νᵀ S⁻¹ ν`` (Bar-Shalom et al. 2001, §5.4.2), ``(...)``."""
    nu = _f(nu)
    return np.einsum("...i,...i->...", nu, np.linalg.solve(_f(S), nu[..., None])[..., 0])


def position_sigma(batch: TrackBatch) -> Array:
    """Largest position standard deviation of each track (worst direction) [m], ``(N,)``."""
    w = np.linalg.eigvalsh(batch.P[:, :3, :3])
    return np.sqrt(np.clip(w[:, -1], 0.0, None))


def fire_control_quality(batch: TrackBatch, sigma_pos_m: float) -> NDArray[np.bool_]:
    """True where the track's position 1-σ in its worst direction is below ``sigma_pos_m`` [m]."""
    return position_sigma(batch) < sigma_pos_m

"""Impact point prediction of tracks by the unscented transform, with the error ellipse."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from openbmd import earth
from openbmd.errors import InputError
from openbmd.tracking.batch import TrackBatch
from openbmd.tracking.filters import MerweParams, sigma_points
from openbmd.tracking.frames import Array, _f
from openbmd.tracking.motion import BallisticModel, propagate
from openbmd.tracking.quality import nis


@dataclass(frozen=True)
class ImpactPrediction:
    """Predicted impact of N tracks.

    ``lat, lon`` [rad] and ``time`` [s since epoch] of the mean impact; ``cov_en (N, 2, 2)`` the
    east/north impact covariance [m²] in the tangent plane at the mean; the error ellipse with
    containment ``probability`` has semi-axes ``semi_major, semi_minor`` [m] and its major axis at
    ``orientation`` [rad from north towards east]. NaN where no sigma point reached the ground.
    """

    lat: Array
    lon: Array
    time: Array
    cov_en: Array
    semi_major: Array
    semi_minor: Array
    orientation: Array
    probability: float

    def contains(self, lat: ArrayLike, lon: ArrayLike, alt: float = 0.0) -> NDArray[np.bool_]:
        """Whether points ``(lat, lon)`` [rad] lie inside the ellipses (tangent-plane test)."""
        d = earth.geodetic2ecef(lat, lon, alt) - earth.geodetic2ecef(self.lat, self.lon, alt)
        en = np.einsum("...ij,...j->...i", earth.enu_basis(self.lat, self.lon)[..., :2, :], d)
        k2 = float(chi2.ppf(self.probability, 2))
        return nis(en, self.cov_en) <= k2


def _altitude(r: Array) -> Array:
    # geodetic altitude is invariant under rotation about z, so ECI positions can be used directly
    return _f(earth.ecef2geodetic(r)[2])


def _impact_points(
    x: Array, t0: Array, alt: float, model: BallisticModel, step: float, max_time: float
) -> tuple[Array, Array]:
    """ECI impact states and times of states ``(K, 6)`` at ``t0 (K,)`` crossing altitude ``alt``."""
    k = x.shape[0]
    hit_x = np.full((k, 6), np.nan)
    hit_t = np.full(k, np.nan)
    active = _altitude(x[:, :3]) > alt
    cur, tc = x.copy(), t0.copy()
    mdl = replace(model, max_step=step)
    elapsed = 0.0
    while active.any() and elapsed < max_time:
        idx = np.flatnonzero(active)
        nxt = propagate(cur[idx], step, mdl)
        down = _altitude(nxt[:, :3]) <= alt
        if down.any():
            j = idx[down]
            # regula falsi (Illinois) on f(τ) = alt(RK4(x, τ·step)) − alt, τ ∈ [0, 1]
            xa = cur[j]
            lo, hi = np.zeros(j.size), np.ones(j.size)
            flo = _altitude(xa[:, :3]) - alt
            fhi = _altitude(nxt[down, :3]) - alt
            for _ in range(30):
                tau = np.clip(hi - fhi * (hi - lo) / (fhi - flo), lo, hi)
                ftau = _altitude(propagate(xa, tau * step, mdl)[:, :3]) - alt
                left = ftau > 0
                lo = np.where(left, tau, lo)
                flo = np.where(left, ftau, flo * np.where(left, 1.0, 0.5))
                hi = np.where(left, hi, tau)
                fhi = np.where(left, fhi * 0.5, ftau)
                if np.max(np.abs(ftau)) < 1e-3:
                    break
            hit_x[j] = propagate(xa, tau * step, mdl)
            hit_t[j] = tc[j] + tau * step
            active[j] = False
        keep = ~down
        cur[idx[keep]] = nxt[keep]
        tc[idx[keep]] += step
        elapsed += step
    return hit_x, hit_t


def predict_impact(
    batch: TrackBatch,
    alt: float = 0.0,
    probability: float = 0.9,
    model: BallisticModel | None = None,
    params: MerweParams | None = None,
    step: float = 5.0,
    max_time: float = 7200.0,
) -> ImpactPrediction:
    """Impact point (geodetic altitude ``alt`` [m]) and error ellipse, by the unscented transform.

    Method: the 13 sigma points of each track (default α = 1, β = 2, κ = 0: all weights ≥ 0, so the
    covariance is positive semi-definite) are propagated ballistically (vacuum, gravity with J2, RK4
    with ``step`` [s]) to their own crossing of the altitude, found by regula falsi on the RK4 step.
    The impact points (ECEF at each point's own impact time) are expressed in east/north metres in
    the tangent plane at the weighted mean; their weighted covariance gives the ellipse whose
    containment is ``probability`` (scale ``sqrt(χ²₂⁻¹(p))``). Reentry drag is not modelled.
    """
    model = model or BallisticModel()
    params = params or MerweParams(alpha=1.0, beta=2.0, kappa=0.0)
    if not 0.0 < probability < 1.0:
        raise InputError(f"probability must be in (0, 1), got {probability}")
    n = len(batch)
    _, wm, wc = params.weights(6)
    pts = sigma_points(batch.x, batch.P, params)  # (N, 13, 6)
    t0 = np.repeat(batch.t, 13)
    hx, ht = _impact_points(pts.reshape(-1, 6), t0, alt, model, step, max_time)
    with np.errstate(invalid="ignore"):  # NaN rows: sigma points that never came down
        return _impact_ellipse(hx, ht, n, wm, wc, probability)


def _impact_ellipse(
    hx: Array, ht: Array, n: int, wm: Array, wc: Array, probability: float
) -> ImpactPrediction:
    r_ecef = earth.eci2ecef(hx[:, :3], ht).reshape(n, 13, 3)
    ht = ht.reshape(n, 13)
    mean0 = r_ecef[:, 0, :] + np.einsum("k,nki->ni", wm, r_ecef - r_ecef[:, :1, :])
    lat, lon, _ = earth.ecef2geodetic(mean0)
    basis = earth.enu_basis(lat, lon)[:, :2, :]  # (N, 2, 3)
    d = np.einsum("nij,nkj->nki", basis, r_ecef - mean0[:, None, :])
    dm = np.einsum("k,nki->ni", wm, d)
    dev = d - dm[:, None, :]
    cov = np.einsum("k,nki,nkj->nij", wc, dev, dev)
    # re-centre on the weighted mean in the tangent plane (exact to second order)
    r_mean = mean0 + np.einsum("nij,ni->nj", basis, dm)
    lat, lon, _ = earth.ecef2geodetic(r_mean)
    w, v = np.linalg.eigh(cov)
    scale = math.sqrt(float(chi2.ppf(probability, 2)))
    semi = scale * np.sqrt(np.clip(w, 0.0, None))
    major = v[:, :, 1]
    return ImpactPrediction(
        lat=_f(lat), lon=_f(lon), time=ht @ wm, cov_en=cov,
        semi_major=semi[:, 1], semi_minor=semi[:, 0],
        orientation=np.mod(np.arctan2(major[:, 0], major[:, 1]), math.pi),
        probability=probability,
    )  # fmt: skip

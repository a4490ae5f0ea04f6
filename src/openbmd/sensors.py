"""Sensors: ground radars and a space-based infrared layer, run over batches of trajectories.

Both sensors take a batch sampled at common times — ``t (T,)``, ``r_ecef (..., T, 3)`` (NaN
outside flight, as :meth:`openbmd.trajectory.Trajectory.sample` gives it) — and return
:class:`Detections`. Work is vectorised over targets and times; only sensors are looped over.

Radar model
-----------
* **Line of sight** from true geometry: the geometric elevation is that of the WGS-84 ECEF
  line of sight above the site's local (ellipsoid-normal) horizon; the apparent elevation adds
  the refraction bending, by target altitude:

  - targets **inside the troposphere** (geodetic altitude ≤ ``REFRACTION_SWITCH_ALTITUDE`` =
    11 km, the US-76 tropopause): the effective-Earth model — the bending the effective sphere
    ``Re = R/(1 + R dN/dh)`` (≈ 4/3 R) implies, and the straight ray over that sphere must
    clear the surface;
  - targets **above it** (the ray leaves the atmosphere): the standard astronomical
    refraction, Saemundsson's formula on the geometric elevation
    (:func:`astronomical_refraction`; Saemundsson 1986, the inverse of Bennett 1982 to 0.1′,
    standard atmosphere 1010 hPa, 10 °C): ≈ 34′ at the horizon, ≈ 14′ at 3°. The ray is
    blocked when its apparent elevation is below the grazing ray's (``−acos(Re/(Re + h_s))``).

  The 4/3-Earth bending grows with path length without bound and so over-bends rays to
  targets in space (2–3° instead of ≤ 0.6°); the switch altitude keeps it where it holds. The
  target is in view above the minimum elevation (apparent).
* **Field of regard**: azimuth within ``boresight_az ± az_span/2``, apparent elevation in
  ``[el_min, el_max]``; slant range up to the instrumented range.
* **SNR** from the radar equation (:func:`openbmd.radar.radar_snr_db`) with ``pulses``
  pulses coherently integrated per look (``+10 log10 n``).
* **Probability of detection**: ``pd_model="threshold"`` (default) detects on every look with
  SNR ≥ ``snr_threshold_db``. ``pd_model="swerling1"`` draws each look with the Swerling I
  square-law-detector probability ``Pd = Pfa ** (1 / (1 + SNR))`` (exact for one coherently
  integrated pulse of a Rayleigh target; Richards, *Fundamentals of Radar Signal Processing*,
  §6.3), random numbers from the caller's ``numpy.random.Generator``.
* **Randomness** is explicit: ``detect`` takes ``rng``, a ``numpy.random.Generator``, or
  ``None`` for a deterministic run that draws nothing (noise-free measurements; the
  ``swerling1`` model then needs a generator). There is no hidden default seed.
* **Looks** fall on the first sample of each revisit slot ``floor((t - t0)/revisit)``; sample
  the trajectory at least as finely as the revisit interval.
* **Measurements**: geometric slant range, azimuth and elevation with Gaussian noise of
  constant standard deviations (refraction is assumed corrected by the radar's processing).

The ``visible`` mask (and so the visibility intervals) means "in view with SNR ≥ threshold".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd import earth
from openbmd.constants import R_EARTH_MEAN
from openbmd.detections import (
    Detections,
    Measurements,
    assemble,
    check_batch,
    looks,
    measurements,
    perturb_direction,
)
from openbmd.errors import InputError
from openbmd.radar import REFRACTIVITY_GRADIENT, frequency_to_wavelength, radar_range, radar_snr_db
from openbmd.sensors_kernel import best_satellite, radar_view, refraction_many

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

__all__ = [
    "PD_MODELS",
    "REFRACTION_SWITCH_ALTITUDE",
    "Detections",
    "Measurements",
    "Radar",
    "SpaceIR",
    "astronomical_refraction",
]

PD_MODELS = ("threshold", "swerling1")
GEO_ALTITUDE = 35_786_000.0  # [m] above the equator
REFRACTION_SWITCH_ALTITUDE = 11_000.0  # [m] US-76 tropopause: 4/3-Earth below, astronomical above


def _positive(name: str, value: float, allow_zero: bool = False) -> None:
    ok = value >= 0.0 if allow_zero else value > 0.0
    if np.isnan(value) or not ok:
        bound = "≥ 0" if allow_zero else "> 0"
        raise InputError(f"{name}: {value!r} is invalid; it must be {bound}")


@dataclass(frozen=True)
class Radar:
    """A ground radar. Angles [rad], lengths [m], times [s], powers [W]; gains/losses in dB."""

    name: str
    lat: float
    lon: float
    alt: float = 0.0
    boresight_az: float = 0.0
    az_span: float = 2.0 * np.pi
    el_min: float = 0.0
    el_max: float = np.pi / 2
    min_elevation: float = 0.0
    max_range: float = np.inf
    frequency: float = 1.0e9
    peak_power: float = 1.0e6
    pulse_width: float = 1.0e-3
    pulses: int = 1
    gain_db: float = 40.0
    noise_temp: float = 290.0
    loss_db: float = 0.0
    snr_threshold_db: float = 13.0
    revisit: float = 10.0
    sigma_range: float = 10.0
    sigma_az: float = 1.0e-3
    sigma_el: float = 1.0e-3
    refractivity_gradient: float = REFRACTIVITY_GRADIENT
    pd_model: str = "threshold"
    pfa: float = 1.0e-6

    def __post_init__(self) -> None:
        w = f"radar {self.name}"
        for attr in (
            "peak_power",
            "pulse_width",
            "frequency",
            "noise_temp",
            "revisit",
            "max_range",
            "az_span",
        ):
            _positive(f"{w}: {attr}", float(getattr(self, attr)))
        for attr in ("sigma_range", "sigma_az", "sigma_el"):
            _positive(f"{w}: {attr}", float(getattr(self, attr)), allow_zero=True)
        if self.pulses < 1:
            raise InputError(f"{w}: pulses {self.pulses} must be ≥ 1")
        if not self.el_min < self.el_max:
            raise InputError(
                f"{w}: the elevation window [{np.degrees(self.el_min):g}, "
                f"{np.degrees(self.el_max):g}] deg is empty; el_min must be below el_max"
            )
        if self.pd_model not in PD_MODELS:
            raise InputError(f"{w}: pd_model {self.pd_model!r} is not one of {PD_MODELS}")
        if not 0.0 < self.pfa < 1.0:
            raise InputError(f"{w}: pfa {self.pfa!r} must lie in (0, 1)")

    @property
    def wavelength(self) -> float:
        return float(frequency_to_wavelength(self.frequency))

    def snr_db(self, range_m: ArrayLike, rcs: ArrayLike = 1.0) -> Array:
        """SNR per look [dB] (``pulses`` pulses coherently integrated) at slant range [m]."""
        single = radar_snr_db(
            self.wavelength,
            range_m,
            self.peak_power,
            self.pulse_width,
            self.gain_db,
            rcs,
            self.noise_temp,
            self.loss_db,
        )
        return single + 10.0 * np.log10(self.pulses)

    def detection_range(self, rcs: ArrayLike = 1.0) -> Array:
        """Slant range [m] where the SNR per look falls to the threshold (before the horizon)."""
        snr_single = self.snr_threshold_db - 10.0 * np.log10(self.pulses)
        return radar_range(
            self.wavelength,
            snr_single,
            self.peak_power,
            self.pulse_width,
            self.gain_db,
            rcs,
            self.noise_temp,
            self.loss_db,
        )

    def geometry(self, r_ecef: ArrayLike) -> tuple[Array, Array, Array, Array, BoolArray]:
        """Azimuth, geometric and apparent (refracted) elevation, slant range, in-view mask."""
        r = np.asarray(r_ecef, dtype=np.float64)
        shape = r.shape[:-1]
        flat = np.ascontiguousarray(r.reshape(-1, 3))
        with np.errstate(invalid="ignore"):
            h_t = np.ascontiguousarray(earth.ecef2geodetic(flat)[2])
        a = R_EARTH_MEAN / (1.0 + R_EARTH_MEAN * self.refractivity_gradient)
        site = earth.geodetic2ecef(self.lat, self.lon, self.alt)
        limits = np.array(
            [self.boresight_az, self.az_span, max(self.min_elevation, self.el_min),
             self.el_max, self.max_range]
        )  # fmt: skip
        refr = np.array(
            [R_EARTH_MEAN, a, REFRACTION_SWITCH_ALTITUDE, -np.arccos(a / (a + max(self.alt, 0.0)))]
        )
        az, el, el_app, rng = (np.empty(flat.shape[0]) for _ in range(4))
        view = np.empty(flat.shape[0], dtype=bool)
        radar_view(
            flat, h_t, np.ascontiguousarray(site, dtype=np.float64),
            np.array([self.lat, self.lon, self.alt], dtype=np.float64), limits, refr,
            az, el, el_app, rng, view,
        )  # fmt: skip
        return (
            az.reshape(shape), el.reshape(shape), el_app.reshape(shape), rng.reshape(shape),
            view.reshape(shape),
        )  # fmt: skip

    def detect(
        self,
        t: ArrayLike,
        r_ecef: ArrayLike,
        *,
        rng: np.random.Generator | None,
        rcs: ArrayLike = 1.0,
        launch_lat: ArrayLike | None = None,
        launch_lon: ArrayLike | None = None,
    ) -> Detections:
        """Run the radar over ``r_ecef (..., T, 3)`` sampled at ``t (T,)``.

        ``rcs`` [m²] is a scalar or has the batch shape ``(...)``. ``launch_lat/lon`` [rad]
        (batch shape) anchor the downrange of the first detection; by default the first
        finite sample of each trajectory is taken as the launch point. ``rng`` draws the
        measurement noise (and the Swerling looks); ``None`` draws nothing (noise-free).
        """
        tt, r = check_batch(t, r_ecef)
        rcs_a = np.asarray(rcs, dtype=np.float64)
        if np.any(~(rcs_a > 0.0)):
            raise InputError(f"rcs: {rcs!r} is invalid; the radar cross-section must be > 0 m²")
        az, el_geo, _, srange, view = self.geometry(r)
        rcs_b = rcs_a[..., None] if rcs_a.ndim else rcs_a
        with np.errstate(invalid="ignore", divide="ignore"):
            snr = np.where(view, self.snr_db(srange, rcs_b), -np.inf)
        visible = view & (snr >= self.snr_threshold_db)
        look = looks(tt, self.revisit)
        if self.pd_model == "threshold":
            detected = visible & look
        else:
            if rng is None:
                raise InputError(
                    field="rng",
                    message=f"radar {self.name}: pd_model 'swerling1' draws each look; "
                    "pass a numpy.random.Generator",
                )
            pd = np.where(view, self.pfa ** (1.0 / (1.0 + 10.0 ** (snr / 10.0))), 0.0)
            detected = view & look & (rng.random(view.shape) < pd)
        sel = np.nonzero(detected)
        truth = np.stack([srange[sel], az[sel], el_geo[sel]], axis=-1)
        sigma = np.array([self.sigma_range, self.sigma_az, self.sigma_el])
        z = truth + (0.0 if rng is None else rng.standard_normal(truth.shape) * sigma)
        z[:, 1] = np.mod(z[:, 1], 2.0 * np.pi)
        site = earth.geodetic2ecef(self.lat, self.lon, self.alt)
        meas = measurements(
            "rae", sel, view.shape[:-1], tt, z, sigma, np.broadcast_to(site, z.shape), r[sel]
        )
        return assemble(
            self.name, tt, r, view, visible, detected, 0.0, meas, launch_lat, launch_lon, snr
        )


@dataclass(frozen=True)
class SpaceIR:
    """A layer of geostationary infrared satellites that see burning motors above the clouds.

    A target is seen while its motor burns, above ``cloud_top`` [m], and with a clear line of
    sight from at least one satellite (the Earth sphere does not block it); the one nearest
    the target's zenith reports. Each look gives a noisy unit line of sight (ECEF, angular
    noise ``sigma_los`` [rad] per axis), reported ``processing_delay`` [s] after it was taken.
    """

    name: str
    sat_lons: tuple[float, ...]
    sat_alt: float = GEO_ALTITUDE
    cloud_top: float = 10_000.0
    processing_delay: float = 30.0
    revisit: float = 10.0
    sigma_los: float = 50e-6

    def __post_init__(self) -> None:
        if not self.sat_lons:
            raise InputError(f"space IR {self.name}: sat_lons is empty; give ≥ 1 longitude")
        _positive(f"space IR {self.name}: revisit", self.revisit)
        _positive(f"space IR {self.name}: processing_delay", self.processing_delay, True)
        _positive(f"space IR {self.name}: sigma_los", self.sigma_los, True)

    def satellites_ecef(self) -> Array:
        """ECEF positions of the satellites, (S, 3)."""
        lons = np.asarray(self.sat_lons, dtype=np.float64)
        return earth.geodetic2ecef(np.zeros_like(lons), lons, self.sat_alt)

    def detect(
        self,
        t: ArrayLike,
        r_ecef: ArrayLike,
        thrusting: ArrayLike,
        *,
        rng: np.random.Generator | None,
        launch_lat: ArrayLike | None = None,
        launch_lon: ArrayLike | None = None,
    ) -> Detections:
        """Run the layer over ``r_ecef (..., T, 3)`` with ``thrusting (..., T)``.

        ``rng`` draws the line-of-sight noise; ``None`` draws nothing (noise-free).
        """
        tt, r = check_batch(t, r_ecef)
        burn = np.asarray(thrusting, dtype=bool)
        sats = self.satellites_ecef()
        flat = np.ascontiguousarray(r.reshape(-1, 3))
        score, sat = np.empty(flat.shape[0]), np.empty(flat.shape[0], dtype=np.int64)
        best_satellite(flat, np.ascontiguousarray(sats), R_EARTH_MEAN, score, sat)
        which = sat.reshape(r.shape[:-1])
        with np.errstate(invalid="ignore"):
            alt = earth.ecef2geodetic(r)[2]
            view = np.isfinite(score.reshape(r.shape[:-1])) & (alt >= self.cloud_top)
        visible = view & burn
        detected = visible & looks(tt, self.revisit)
        sel = np.nonzero(detected)
        obs, tgt = sats[which[sel]], r[sel]
        los = tgt - obs
        los /= np.linalg.norm(los, axis=-1, keepdims=True)
        z = los if rng is None else perturb_direction(los, self.sigma_los, rng)
        sigma = np.array([self.sigma_los, self.sigma_los])
        meas = measurements("los", sel, view.shape[:-1], tt, z, sigma, obs, tgt)
        return assemble(
            self.name,
            tt,
            r,
            view,
            visible,
            detected,
            self.processing_delay,
            meas,
            launch_lat,
            launch_lon,
            None,
        )


# ------------------------------------------------------------------------------------ helpers


def astronomical_refraction(el_geo: ArrayLike) -> Array:
    """Total bending [rad] of a ray that leaves the atmosphere, from the geometric elevation.

    Saemundsson's formula (*Sky & Telescope* 72, 1986, p. 70), the inverse of Bennett's
    (*Journal of Navigation* 35, 1982, p. 255) to about 0.1′, for the standard atmosphere
    (1010 hPa, 10 °C)::

        R [arcmin] = 1.02 / tan(h + 10.3 / (h + 5.11)),   h = geometric elevation [deg]

    so that apparent elevation = geometric + R: ≈ 34.5′ at the apparent horizon, 14.4′ at 3°,
    5.3′ at 10°, 1.0′ at 45°. The elevation is clipped to [−1°, 90°] (the formula's domain;
    the grazing ray from sea level has a geometric elevation of −0.58°) and the bending to ≥ 0.

    Parameters
    ----------
    el_geo : array_like
        Geometric (true) elevation above the local horizon [rad].

    Returns
    -------
    ndarray
        Refraction bending [rad], same shape; add it to ``el_geo`` for the apparent elevation.
    """
    el = np.asarray(el_geo, dtype=np.float64)
    flat = np.ascontiguousarray(el.ravel())
    out = np.empty_like(flat)
    refraction_many(flat, out)
    return out.reshape(el.shape)

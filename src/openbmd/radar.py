"""Radar equations, effective Earth radius and horizon geometry (pure NumPy, SI, batch-first).

The functions follow the conventions of MATLAB's Radar Toolbox so results can be cross-checked
against it: the signal-to-noise ratio, the antenna gain and the losses are given in decibels
(``snr_db``, ``gain_db``, ``loss_db``), everything else in SI units, and the defaults are those
of ``radareqrng``/``radareqpow``: gain 20 dB, system noise temperature 290 K, radar
cross-section 1 m², loss 0 dB.

Monostatic radar equation (single pulse; Skolnik, *Introduction to Radar Systems*, 3rd ed.,
eq. 2.61; Richards, *Fundamentals of Radar Signal Processing*, eq. 2.34)::

    SNR = Pt τ G² λ² σ / ((4π)³ k Ts L R⁴)

Search (power–aperture) form (Skolnik §2.13; MATLAB ``radareqsearchpap``)::

    Pav Ae = 4π k Ts L SNR R⁴ Ω / (σ ts)

with Ω the solid angle searched in the scan time ``ts``. Every argument broadcasts; extra
leading dimensions pass through.

Refraction is the standard effective-Earth model (Bean & Dutton, *Radio Meteorology*, 1966):
a ray in an atmosphere whose refractivity falls linearly with height travels straight above a
sphere of radius ``Re = R / (1 + R dN/dh)``; with dN/dh = -39e-9 /m, Re ≈ 4/3 R.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.constants import BOLTZMANN, R_EARTH_MEAN, SPEED_OF_LIGHT

Array = NDArray[np.float64]

__all__ = [
    "REFRACTIVITY_GRADIENT",
    "db2pow",
    "effective_earth_radius",
    "frequency_to_wavelength",
    "gain_to_aperture",
    "horizon_ground_range",
    "horizon_range",
    "min_visible_altitude",
    "pow2db",
    "radar_peak_power",
    "radar_range",
    "radar_snr_db",
    "search_power_aperture",
    "search_range",
    "search_snr_db",
    "solid_angle",
]

# Standard-atmosphere refractivity gradient near the surface [1/m] (ITU-R P.453 median, the
# value behind the "4/3 Earth"; also MATLAB's ``effearthradius`` default).
REFRACTIVITY_GRADIENT: float = -39e-9

_FOUR_PI_CUBED = (4.0 * np.pi) ** 3


def _f(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=np.float64)


def db2pow(db: ArrayLike) -> Array:
    """Decibels to a power ratio: ``10 ** (db / 10)``."""
    return np.power(10.0, _f(db) / 10.0)


def pow2db(p: ArrayLike) -> Array:
    """Power ratio to decibels: ``10 log10(p)`` (-inf for 0)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(_f(p))


def frequency_to_wavelength(frequency: ArrayLike) -> Array:
    """Free-space wavelength [m] of a carrier frequency [Hz]."""
    return SPEED_OF_LIGHT / _f(frequency)


def gain_to_aperture(gain_db: ArrayLike, wavelength: ArrayLike) -> Array:
    """Effective aperture [m²] of an antenna with gain ``gain_db``: ``Ae = G λ² / (4π)``."""
    return db2pow(gain_db) * _f(wavelength) ** 2 / (4.0 * np.pi)


def _single_pulse_factor(
    wavelength: ArrayLike,
    pulse_width: ArrayLike,
    gain_db: ArrayLike,
    rcs: ArrayLike,
    noise_temp: ArrayLike,
    loss_db: ArrayLike,
) -> Array:
    """τ G² λ² σ / ((4π)³ k Ts L): multiply by Pt / R⁴ to get the SNR (power ratio)."""
    g = db2pow(gain_db)
    return (
        _f(pulse_width)
        * g**2
        * _f(wavelength) ** 2
        * _f(rcs)
        / (_FOUR_PI_CUBED * BOLTZMANN * _f(noise_temp) * db2pow(loss_db))
    )


def radar_snr_db(
    wavelength: ArrayLike,
    range_m: ArrayLike,
    peak_power: ArrayLike,
    pulse_width: ArrayLike,
    gain_db: ArrayLike = 20.0,
    rcs: ArrayLike = 1.0,
    noise_temp: ArrayLike = 290.0,
    loss_db: ArrayLike = 0.0,
) -> Array:
    """Single-pulse SNR [dB] of a target at ``range_m`` (MATLAB ``radareqsnr``)."""
    k = _single_pulse_factor(wavelength, pulse_width, gain_db, rcs, noise_temp, loss_db)
    return pow2db(_f(peak_power) * k / _f(range_m) ** 4)


def radar_range(
    wavelength: ArrayLike,
    snr_db: ArrayLike,
    peak_power: ArrayLike,
    pulse_width: ArrayLike,
    gain_db: ArrayLike = 20.0,
    rcs: ArrayLike = 1.0,
    noise_temp: ArrayLike = 290.0,
    loss_db: ArrayLike = 0.0,
) -> Array:
    """Maximum range [m] at which a single pulse reaches ``snr_db`` (MATLAB ``radareqrng``)."""
    k = _single_pulse_factor(wavelength, pulse_width, gain_db, rcs, noise_temp, loss_db)
    return np.power(_f(peak_power) * k / db2pow(snr_db), 0.25)


def radar_peak_power(
    wavelength: ArrayLike,
    range_m: ArrayLike,
    snr_db: ArrayLike,
    pulse_width: ArrayLike,
    gain_db: ArrayLike = 20.0,
    rcs: ArrayLike = 1.0,
    noise_temp: ArrayLike = 290.0,
    loss_db: ArrayLike = 0.0,
) -> Array:
    """Peak power [W] needed for ``snr_db`` at ``range_m`` (MATLAB ``radareqpow``)."""
    k = _single_pulse_factor(wavelength, pulse_width, gain_db, rcs, noise_temp, loss_db)
    return db2pow(snr_db) * _f(range_m) ** 4 / k


def solid_angle(az_span: ArrayLike, el_min: ArrayLike, el_max: ArrayLike) -> Array:
    """Solid angle [sr] of the sector ``az_span`` wide between two elevations [rad].

    ``Ω = Δaz (sin el_max − sin el_min)``, as MATLAB's ``solidangle(az, el)`` computes it for
    ``az = [az1; az2]`` with ``Δaz = az2 − az1``.
    """
    return _f(az_span) * (np.sin(_f(el_max)) - np.sin(_f(el_min)))


def _search_factor(rcs: ArrayLike, noise_temp: ArrayLike, loss_db: ArrayLike) -> Array:
    """σ / (4π k Ts L): the search equation's constant part."""
    return _f(rcs) / (4.0 * np.pi * BOLTZMANN * _f(noise_temp) * db2pow(loss_db))


def search_power_aperture(
    range_m: ArrayLike,
    snr_db: ArrayLike,
    solid_angle_sr: ArrayLike,
    scan_time: ArrayLike,
    rcs: ArrayLike = 1.0,
    noise_temp: ArrayLike = 290.0,
    loss_db: ArrayLike = 0.0,
) -> Array:
    """Power–aperture product Pav·Ae [W m²] to search Ω in ``scan_time`` (``radareqsearchpap``)."""
    c = _search_factor(rcs, noise_temp, loss_db)
    return db2pow(snr_db) * _f(range_m) ** 4 * _f(solid_angle_sr) / (c * _f(scan_time))


def search_range(
    snr_db: ArrayLike,
    power_aperture: ArrayLike,
    solid_angle_sr: ArrayLike,
    scan_time: ArrayLike,
    rcs: ArrayLike = 1.0,
    noise_temp: ArrayLike = 290.0,
    loss_db: ArrayLike = 0.0,
) -> Array:
    """Maximum range [m] of a search radar (MATLAB ``radareqsearchrng``)."""
    c = _search_factor(rcs, noise_temp, loss_db)
    x = _f(power_aperture) * c * _f(scan_time) / (_f(solid_angle_sr) * db2pow(snr_db))
    return np.power(x, 0.25)


def search_snr_db(
    range_m: ArrayLike,
    power_aperture: ArrayLike,
    solid_angle_sr: ArrayLike,
    scan_time: ArrayLike,
    rcs: ArrayLike = 1.0,
    noise_temp: ArrayLike = 290.0,
    loss_db: ArrayLike = 0.0,
) -> Array:
    """SNR [dB] of a search radar at ``range_m`` (MATLAB ``radareqsearchsnr``)."""
    c = _search_factor(rcs, noise_temp, loss_db)
    snr = _f(power_aperture) * c * _f(scan_time) / (_f(solid_angle_sr) * _f(range_m) ** 4)
    return pow2db(snr)


def effective_earth_radius(
    gradient: ArrayLike = REFRACTIVITY_GRADIENT, radius: ArrayLike = R_EARTH_MEAN
) -> Array:
    """Effective Earth radius [m]: ``Re = R / (1 + R dN/dh)`` (MATLAB ``effearthradius``).

    ``gradient`` is the refractivity gradient dN/dh [1/m] (non-positive for a standard
    atmosphere); the default gives Re ≈ 4/3 R. MATLAB uses R = 6371 km; the IUGG mean radius
    used here differs from it by 1.4 ppm.
    """
    r = _f(radius)
    return r / (1.0 + r * _f(gradient))


def horizon_range(height: ArrayLike, effective_radius: ArrayLike | None = None) -> Array:
    """Slant range [m] from a height [m] to the (effective) horizon, ``√(2 Re H + H²)``.

    MATLAB ``horizonrange``; ``effective_radius`` defaults to :func:`effective_earth_radius`.
    """
    re = effective_earth_radius() if effective_radius is None else _f(effective_radius)
    h = _f(height)
    return np.sqrt(2.0 * re * h + h * h)


def _kr(k: ArrayLike | None, radius: ArrayLike) -> Array:
    return effective_earth_radius(radius=radius) if k is None else _f(k) * _f(radius)


def horizon_ground_range(
    antenna_height: ArrayLike,
    target_height: ArrayLike,
    elevation: ArrayLike | None = None,
    k: ArrayLike | None = 4.0 / 3.0,
    radius: ArrayLike = R_EARTH_MEAN,
) -> Array:
    """Greatest ground range [m] at which a target at ``target_height`` is in view.

    On a sphere of radius ``a = k R`` rays are straight. Without ``elevation`` the ray grazes
    the surface (the radio horizon): ``θ = acos(a/(a+ha)) + acos(a/(a+ht))``. With a minimum
    elevation ``e`` [rad] at the antenna the ray leaves at ``e`` (or at the grazing angle if
    that is higher): ``θ = acos((a+ha) cos e / (a+ht)) − e``. The ground range is ``a θ`` —
    distances along the surface are the same on the true and the effective sphere. ``k=None``
    takes ``k`` from the standard refractivity gradient. A target the ray can never reach (lower
    than the antenna with a positive minimum elevation) gives 0.
    """
    a = _kr(k, radius)
    ra, rt = a + _f(antenna_height), a + _f(target_height)
    graze = -np.arccos(np.clip(a / ra, -1.0, 1.0))
    e = graze if elevation is None else np.maximum(_f(elevation), graze)
    theta = np.arccos(np.clip(ra * np.cos(e) / rt, -1.0, 1.0)) - e
    return np.maximum(a * theta, 0.0)


def min_visible_altitude(
    ground_range: ArrayLike,
    elevation: ArrayLike = 0.0,
    antenna_height: ArrayLike = 0.0,
    k: ArrayLike | None = 4.0 / 3.0,
    radius: ArrayLike = R_EARTH_MEAN,
) -> Array:
    """Lowest altitude [m] in view at ``ground_range`` [m] above a minimum elevation [rad].

    ``h_min = kR (cos e / cos(d/(kR) + e) − 1)`` for an antenna on the surface; an antenna at
    ``antenna_height`` generalises it to ``(a+ha) cos e / cos(d/a + e) − a``. Where the ray
    never reaches the ground range (``d/a + e ≥ π/2``) the result is ``inf``.
    """
    a = _kr(k, radius)
    e = _f(elevation)
    psi = _f(ground_range) / a + e
    c = np.cos(psi)
    with np.errstate(divide="ignore"):
        h = np.where(psi < np.pi / 2, (a + _f(antenna_height)) * np.cos(e) / c - a, np.inf)
    return np.asarray(h, dtype=np.float64)

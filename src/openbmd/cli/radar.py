"""The radar-equation calculator: ``openbmd radar``.

``openbmd radar range|power|search-pap|effective-radius|horizon`` follow MATLAB's Radar Toolbox
conventions (SNR, gain and loss in dB; defaults gain 20 dB, 290 K, 1 m², 0 dB) so results can be
cross-checked against ``radareqrng``, ``radareqpow``, ``radareqsearchpap``, ``effearthradius``.
"""

from __future__ import annotations

import math
from typing import Any

import typer

from openbmd import radar as req
from openbmd.cli._common import app, emit, fail
from openbmd.cli._common import positive as _positive
from openbmd.constants import DEG, R_EARTH_MEAN

radar_app = typer.Typer(
    name="radar",
    help="Radar-equation calculator (MATLAB Radar Toolbox conventions).",
    no_args_is_help=True,
)
app.add_typer(radar_app, name="radar")

JSON = typer.Option(False, "--json", help="Print JSON.")
GAIN = typer.Option(20.0, "--gain-db", help="Transmit = receive antenna gain [dB].")
RCS = typer.Option(1.0, "--rcs-m2", help="Target radar cross-section [m²].")
TEMP = typer.Option(290.0, "--noise-temp-k", help="System noise temperature [K].")
LOSS = typer.Option(0.0, "--loss-db", help="System losses [dB].")


def _common(gain_db: float, rcs_m2: float, noise_temp_k: float, loss_db: float) -> None:
    for v, name in ((gain_db, "--gain-db"), (loss_db, "--loss-db")):
        if not math.isfinite(v):
            fail(f"{name}: {v} is not a finite number of decibels")
    _positive(rcs_m2, "--rcs-m2", "the radar cross-section")
    _positive(noise_temp_k, "--noise-temp-k", "the noise temperature")


def _say(key: str, unit: str, label: str) -> Any:
    def render(data: dict[str, Any]) -> None:
        typer.echo(f"{label}: {data[key]:.6g} {unit}")

    return render


@radar_app.command("range")
def range_cmd(
    frequency_hz: float = typer.Option(..., "--frequency-hz", help="Carrier frequency [Hz]."),
    snr_db: float = typer.Option(..., "--snr-db", help="Required SNR [dB]."),
    pulse_width_s: float = typer.Option(..., "--pulse-width-s", help="Pulse width [s]."),
    peak_power_w: float = typer.Option(..., "--peak-power-w", help="Peak power [W]."),
    gain_db: float = GAIN,
    rcs_m2: float = RCS,
    noise_temp_k: float = TEMP,
    loss_db: float = LOSS,
    as_json: bool = JSON,
) -> None:
    """Maximum detection range of one pulse (like MATLAB radareqrng)."""
    _positive(frequency_hz, "--frequency-hz", "the frequency")
    _positive(pulse_width_s, "--pulse-width-s", "the pulse width")
    _positive(peak_power_w, "--peak-power-w", "the peak power")
    _common(gain_db, rcs_m2, noise_temp_k, loss_db)
    lam = req.frequency_to_wavelength(frequency_hz)
    r = req.radar_range(
        lam, snr_db, peak_power_w, pulse_width_s, gain_db, rcs_m2, noise_temp_k, loss_db
    )
    emit(
        {"range_m": float(r), "wavelength_m": float(lam)},
        as_json,
        _say("range_m", "m", "Maximum range"),
    )


@radar_app.command("power")
def power_cmd(
    range_m: float = typer.Option(..., "--range-m", help="Target range [m]."),
    frequency_hz: float = typer.Option(..., "--frequency-hz", help="Carrier frequency [Hz]."),
    snr_db: float = typer.Option(..., "--snr-db", help="Required SNR [dB]."),
    pulse_width_s: float = typer.Option(..., "--pulse-width-s", help="Pulse width [s]."),
    gain_db: float = GAIN,
    rcs_m2: float = RCS,
    noise_temp_k: float = TEMP,
    loss_db: float = LOSS,
    as_json: bool = JSON,
) -> None:
    """Peak power needed for an SNR at a range (like MATLAB radareqpow)."""
    _positive(range_m, "--range-m", "the range")
    _positive(frequency_hz, "--frequency-hz", "the frequency")
    _positive(pulse_width_s, "--pulse-width-s", "the pulse width")
    _common(gain_db, rcs_m2, noise_temp_k, loss_db)
    lam = req.frequency_to_wavelength(frequency_hz)
    p = req.radar_peak_power(
        lam, range_m, snr_db, pulse_width_s, gain_db, rcs_m2, noise_temp_k, loss_db
    )
    emit(
        {"peak_power_w": float(p), "wavelength_m": float(lam)},
        as_json,
        _say("peak_power_w", "W", "Peak power"),
    )


@radar_app.command("search-pap")
def search_pap_cmd(
    range_m: float = typer.Option(..., "--range-m", help="Range to reach [m]."),
    snr_db: float = typer.Option(..., "--snr-db", help="Required SNR [dB]."),
    noise_temp_k: float = typer.Option(..., "--noise-temp-k", help="Noise temperature [K]."),
    loss_db: float = typer.Option(..., "--loss-db", help="System losses [dB]."),
    azimuth_span_deg: float = typer.Option(..., "--azimuth-span-deg", help="Sector width."),
    elevation_min_deg: float = typer.Option(..., "--elevation-min-deg", help="Lower edge."),
    elevation_max_deg: float = typer.Option(..., "--elevation-max-deg", help="Upper edge."),
    scan_time_s: float = typer.Option(..., "--scan-time-s", help="Time to search it [s]."),
    rcs_m2: float = RCS,
    as_json: bool = JSON,
) -> None:
    """Power-aperture product to search a sector (like MATLAB radareqsearchpap)."""
    _positive(range_m, "--range-m", "the range")
    _positive(scan_time_s, "--scan-time-s", "the scan time")
    _common(0.0, rcs_m2, noise_temp_k, loss_db)
    if not 0.0 < azimuth_span_deg <= 360.0:
        fail(f"--azimuth-span-deg: {azimuth_span_deg:g} must lie in (0, 360] degrees")
    for v, name in (
        (elevation_min_deg, "--elevation-min-deg"),
        (elevation_max_deg, "--elevation-max-deg"),
    ):
        if not -90.0 <= v <= 90.0:
            fail(f"{name}: {v:g} must lie in [-90, 90] degrees")
    if not elevation_min_deg < elevation_max_deg:
        fail(
            f"--elevation-min-deg/--elevation-max-deg: the window [{elevation_min_deg:g}, "
            f"{elevation_max_deg:g}] deg is empty; the minimum must be below the maximum"
        )
    omega = req.solid_angle(
        azimuth_span_deg * DEG, elevation_min_deg * DEG, elevation_max_deg * DEG
    )
    pap = req.search_power_aperture(
        range_m, snr_db, omega, scan_time_s, rcs_m2, noise_temp_k, loss_db
    )
    emit(
        {"power_aperture_wm2": float(pap), "solid_angle_sr": float(omega)},
        as_json,
        _say("power_aperture_wm2", "W·m²", "Power-aperture product"),
    )


@radar_app.command("effective-radius")
def effective_radius_cmd(
    gradient_per_m: float = typer.Option(
        req.REFRACTIVITY_GRADIENT, "--gradient-per-m", help="Refractivity gradient dN/dh [1/m]."
    ),
    as_json: bool = JSON,
) -> None:
    """Effective Earth radius for refraction (like MATLAB effearthradius)."""
    if not math.isfinite(gradient_per_m) or 1.0 + R_EARTH_MEAN * gradient_per_m <= 0.0:
        fail(
            f"--gradient-per-m: {gradient_per_m:g} bends rays more than the Earth curves "
            f"(ducting); it must be above {-1.0 / R_EARTH_MEAN:.4g} per metre"
        )
    re = float(req.effective_earth_radius(gradient_per_m))
    emit(
        {"radius_m": re, "k": re / R_EARTH_MEAN},
        as_json,
        _say("radius_m", "m", "Effective Earth radius"),
    )


@radar_app.command("horizon")
def horizon_cmd(
    antenna_height_m: float = typer.Option(..., "--antenna-height-m", help="Antenna height."),
    target_height_m: float = typer.Option(..., "--target-height-m", help="Target height [m]."),
    elevation_deg: float | None = typer.Option(
        None, "--elevation-deg", help="Minimum elevation at the antenna [deg]; default: grazing."
    ),
    k: float = typer.Option(4.0 / 3.0, "--k", help="Effective Earth radius factor."),
    as_json: bool = JSON,
) -> None:
    """Greatest ground range at which a target at a height is above the radar horizon."""
    for v, name in (
        (antenna_height_m, "--antenna-height-m"),
        (target_height_m, "--target-height-m"),
    ):
        if not math.isfinite(v) or v < 0.0:
            fail(f"{name}: {v:g} is invalid; a height must be ≥ 0 m")
    _positive(k, "--k", "the effective Earth radius factor")
    if elevation_deg is not None and not -90.0 < elevation_deg < 90.0:
        fail(f"--elevation-deg: {elevation_deg:g} must lie in (-90, 90) degrees")
    e = None if elevation_deg is None else elevation_deg * DEG
    d = float(req.horizon_ground_range(antenna_height_m, target_height_m, e, k))
    emit({"ground_range_m": d, "k": k}, as_json, _say("ground_range_m", "m", "Ground range"))

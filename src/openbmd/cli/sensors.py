"""The ``openbmd sensors`` group: who sees a missile when, and ``sensors list`` (the catalogue).

``openbmd sensors --missile … --launch … --target … [--sensors …] [--seed N]`` flies the
missile and runs each sensor over it; the measurement noise is drawn from
``numpy.random.default_rng`` seeded with ``--seed`` (default 0), so a run repeats exactly.
``openbmd sensors list [--json]`` prints every catalogue sensor with its parameters.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import typer

from openbmd.cli._common import (
    SEED_HELP,
    app,
    emit,
    fail,
    parse_place,
    positive,
    rng_from_seed,
)
from openbmd.constants import DEG

JSON = typer.Option(False, "--json", help="Print JSON.")

sensors_app = typer.Typer(
    name="sensors",
    help="Who sees a missile when (with --missile, --launch, --target); `sensors list` for the "
    "catalogue.",
    no_args_is_help=True,
    invoke_without_command=True,
)
app.add_typer(sensors_app, name="sensors")


@sensors_app.callback()
def sensors_cmd(
    ctx: typer.Context,
    missile: str | None = typer.Option(
        None, "--missile", help="Missile class (see `openbmd missiles`)."
    ),
    launch: str | None = typer.Option(
        None, "--launch", help="Launch place: a site, a city or LAT,LON [deg]."
    ),
    target: str | None = typer.Option(
        None, "--target", help="Aimpoint: a site, a city or LAT,LON [deg]."
    ),
    sensors: str | None = typer.Option(
        None, "--sensors", help="NAME,... (default: all; see `openbmd sensors list`)."
    ),
    rcs_m2: float | None = typer.Option(
        None, "--rcs-m2", help="Target RCS [m²] for every radar (default: each radar's own)."
    ),
    seed: int = typer.Option(0, "--seed", help=f"{SEED_HELP} Draws: measurement noise."),
    step_s: float = typer.Option(1.0, "--step-s", help="Sampling step of the trajectory [s]."),
    as_json: bool = JSON,
) -> None:
    """Who sees a missile when: detection, visibility and measurements per sensor."""
    if ctx.invoked_subcommand is not None:
        return
    hint = "required (or use `openbmd sensors list` for the catalogue)"
    if missile is None:
        fail(hint, "--missile")
    if launch is None:
        fail(hint, "--launch")
    if target is None:
        fail(hint, "--target")
    _sensors_seen(missile, launch, target, sensors, rcs_m2, seed, step_s, as_json)


def _sensors_seen(
    missile: str,
    launch: str,
    target: str,
    sensors: str | None,
    rcs_m2: float | None,
    seed: int,
    step_s: float,
    as_json: bool,
) -> None:
    from openbmd import catalog, targeting
    from openbmd.catalog.sensors import rcs_for, sensors_by_names
    from openbmd.sensors import SpaceIR

    if rcs_m2 is not None:
        positive(rcs_m2, "--rcs-m2", "the radar cross-section")
    positive(step_s, "--step-s", "the sampling step")
    rng = rng_from_seed(seed)
    chosen = sensors_by_names(sensors)
    m = catalog.missile(missile)
    lname, lat, lon = parse_place(launch, "--launch")
    tname, alat, alon = parse_place(target, "--target")
    sol = targeting.aim(m, lat * DEG, lon * DEG, alat * DEG, alon * DEG)
    traj = sol.trajectory
    t_end = float(traj.events.impact_time[0])
    s = traj.sample(np.arange(0.0, t_end + step_s, step_s))
    rows = []
    for entry in chosen:
        sensor = entry.model
        if isinstance(sensor, SpaceIR):
            det = sensor.detect(
                s.t, s.r_ecef, s.thrusting, rng=rng, launch_lat=lat * DEG, launch_lon=lon * DEG
            )
            rcs = None
        else:
            rcs = rcs_for(entry, rcs_m2)
            det = sensor.detect(
                s.t, s.r_ecef, rng=rng, rcs=rcs, launch_lat=lat * DEG, launch_lon=lon * DEG
            )
        first = float(det.first_detection_time[0])
        rows.append(
            {
                "sensor": entry.name,
                "kind": entry.kind,
                "rcs_m2": rcs,
                "first_detection_s": first,
                "first_detection_downrange_km": float(det.first_detection_downrange[0]) / 1e3,
                "during_boost": bool(first <= float(traj.events.burnout_time[0])),
                "visible_intervals_s": [list(iv) for iv in det.intervals(0)],
                "measurements": len(det.measurements),
            }
        )
    data = {
        "missile": m.name,
        "launch": lname,
        "target": tname,
        "flight_time_s": t_end,
        "burnout_s": float(traj.events.burnout_time[0]),
        "seed": seed,
        "sensors": rows,
    }
    emit(data, as_json, _render_sensors)


def _render_sensors(data: dict[str, Any]) -> None:
    typer.echo(
        f"{data['missile']} {data['launch']} → {data['target']}: flight "
        f"{data['flight_time_s']:.0f} s, burnout {data['burnout_s']:.0f} s"
    )
    for r in data["sensors"]:
        first = r["first_detection_s"]
        if not math.isfinite(first):
            typer.echo(f"  {r['sensor']:<12} never detects")
            continue
        ivs = ", ".join(f"{a:.0f}-{b:.0f}" for a, b in r["visible_intervals_s"])
        typer.echo(
            f"  {r['sensor']:<12} first at {first:6.0f} s "
            f"({r['first_detection_downrange_km']:.0f} km downrange"
            f"{', in boost' if r['during_boost'] else ''}); visible {ivs} s; "
            f"{r['measurements']} measurements"
        )


def catalogue_rows() -> list[dict[str, Any]]:
    """Every catalogue sensor with its parameters, at the edge units of the YAML (deg, km, dB)."""
    from openbmd.catalog.sensors import load_sensors
    from openbmd.sensors import Radar

    rows = []
    for entry in load_sensors():
        m = entry.model
        row: dict[str, Any] = {
            "name": entry.name,
            "kind": entry.kind,
            "aliases": list(entry.aliases),
            "band": entry.band,
        }
        if isinstance(m, Radar):
            row.update(
                lat_deg=math.degrees(m.lat), lon_deg=math.degrees(m.lon), alt_m=m.alt,
                boresight_az_deg=math.degrees(m.boresight_az), az_span_deg=math.degrees(m.az_span),
                el_min_deg=math.degrees(m.el_min), el_max_deg=math.degrees(m.el_max),
                instrumented_range_km=m.max_range / 1e3, frequency_hz=m.frequency,
                peak_power_w=m.peak_power, gain_db=m.gain_db, snr_threshold_db=m.snr_threshold_db,
                revisit_s=m.revisit, reference_rcs_m2=entry.reference_rcs_m2,
                published_range_km=list(entry.published_range_km), pd_model=m.pd_model,
            )  # fmt: skip
        else:
            row.update(
                sat_lons_deg=[math.degrees(x) for x in m.sat_lons], cloud_top_m=m.cloud_top,
                processing_delay_s=m.processing_delay, revisit_s=m.revisit,
                sigma_los_urad=m.sigma_los * 1e6,
            )  # fmt: skip
        row["ranges"] = {k: list(v) for k, v in entry.ranges.items()}
        row["citations"] = list(entry.citations)
        rows.append(row)
    return rows


def _render_catalogue(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        if r["kind"] == "radar":
            typer.echo(
                f"{r['name']:<12} radar {r['band']:<3} at {r['lat_deg']:.2f},{r['lon_deg']:.2f}  "
                f"{r['frequency_hz'] / 1e9:.3g} GHz  {r['peak_power_w'] / 1e3:.4g} kW  gain "
                f"{r['gain_db']:g} dB  SNR >= {r['snr_threshold_db']:g} dB  range "
                f"{r['instrumented_range_km']:g} km  boresight {r['boresight_az_deg']:g} deg "
                f"± {r['az_span_deg'] / 2:g}"
            )
        else:
            lons = ", ".join(f"{x:g}" for x in r["sat_lons_deg"])
            typer.echo(
                f"{r['name']:<12} space IR  satellites at {lons} deg  cloud top "
                f"{r['cloud_top_m']:g} m  delay {r['processing_delay_s']:g} s  revisit "
                f"{r['revisit_s']:g} s"
            )


@sensors_app.command("list")
def list_cmd(as_json: bool = JSON) -> None:
    """List the sensor catalogue with its parameters (site, band, power, gain, range, ...)."""
    emit(catalogue_rows(), as_json, _render_catalogue)

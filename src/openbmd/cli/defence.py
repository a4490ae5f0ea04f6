"""Defence commands: ``openbmd interceptors`` and ``engage``, and the helpers that build a defence
(site + interceptor fan + sensors) from the options, shared with :mod:`openbmd.cli.coverage`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import typer

from openbmd.cli._common import app, check_lat_lon, emit, fail, parse_place
from openbmd.constants import DEG

JSON = typer.Option(False, "--json", help="Print JSON.")
DEFAULT_SENSORS = "EMR,TPY-2,SpaceIR,Fylingdales,Thule"
SENSOR_HELP = f"Comma-separated sensor names (default {DEFAULT_SENSORS}); X-band = fire control."
FIELDS = "Kozelsk,Teykovo,Vypolzovo,Tatishchevo"
TARGETS = "Washington,New York,Boston"
KILL_ASSESSMENT_S = 60.0
ENGAGEABILITY_MISSILE = "Topol-M"


def speed_ms(value_kms: float | None, option: str = "--burnout-speed-kms") -> float | None:
    if value_kms is None:
        return None
    if not (math.isfinite(value_kms) and value_kms > 0.0):
        fail(f"{option}: {value_kms:g} km/s must be a positive number")
    if value_kms >= 11.0:
        fail(f"{option}: {value_kms:g} km/s is at or beyond escape speed; use < 11 km/s")
    return value_kms * 1e3


def parse_places(text: str, field: str) -> list[tuple[str, float, float]]:
    """``NAME[,NAME…]`` or ``LAT,LON[;LAT,LON…]`` → (label, lat_deg, lon_deg)."""
    tokens = [t.strip() for part in text.split(";") for t in part.split(",") if t.strip()]
    if not tokens:
        fail(f"{field}: no place given in {text!r}")
    out, i = [], 0
    while i < len(tokens):
        try:
            lat = float(tokens[i])
        except ValueError:
            out.append(parse_place(tokens[i], field))
            i += 1
            continue
        try:
            lon = float(tokens[i + 1])
        except (IndexError, ValueError):
            fail(f"{field}: latitude {tokens[i]} is not followed by a longitude (use LAT,LON)")
        check_lat_lon(lat, lon, field)
        out.append((f"{lat:g},{lon:g}", lat, lon))
        i += 2
    return out


def make_defence(
    site: str,
    interceptor: str,
    speed_kms: float | None,
    sensors: str | None,
    cueing: str = "early-warning",
) -> tuple[Any, Any, tuple[str, float, float]]:
    """(Defence, catalogue interceptor entry, site) for the options given."""
    from openbmd.analysis.footprint import Defence
    from openbmd.catalog.interceptors import interceptor as lookup
    from openbmd.catalog.sensors import rcs_for, sensors_by_names
    from openbmd.engagement import CueRule
    from openbmd.interceptors import flyout_fan

    place = parse_place(site, "--site")
    entry = lookup(interceptor)
    icp = entry.model
    speed = speed_ms(speed_kms)
    if speed is not None:
        icp = icp.with_burnout_speed(speed)
    sens = sensors_by_names(sensors or DEFAULT_SENSORS)
    fan = flyout_fan(icp, place[1] * DEG, place[2] * DEG)
    d = Defence(
        fan,
        tuple(s.model for s in sens),
        tuple(rcs_for(s, None) for s in sens),
        tuple(s.band == "X" for s in sens),
        CueRule(mode=cueing),
        KILL_ASSESSMENT_S,
    )
    return d, entry, place


def assumptions(d: Any) -> dict[str, Any]:
    icp = d.fan.interceptor
    return {
        "cueing": d.cue.mode,
        "fire_control_track_delay_s": d.cue.track_delay,
        "early_warning_cue_delay_s": d.cue.ew_delay,
        "decision_and_launch_delay_s": icp.decision_delay,
        "kill_assessment_s": d.kill_assessment,
        "min_intercept_altitude_km": icp.min_altitude / 1e3,
        "max_intercept_altitude_km": icp.max_altitude / 1e3,
        "max_intercept_range_km": icp.max_range / 1e3,
        "max_flyout_time_s": icp.max_flyout_time,
        "burnout_speed_kms": icp.burnout_speed / 1e3,
        "rules": "kinematic feasibility: intercept after threat burnout, within altitude/range "
        "limits; launch on first fire-control track (X-band) or, with early-warning "
        "cueing, on the first early-warning detection; no discrimination, divert or "
        "reliability modelled (favours the defence)",
    }


@app.command("interceptors")
def interceptors_cmd(as_json: bool = JSON) -> None:
    """List the interceptor catalogue: stages, burnout speed and its documented range, limits."""
    from openbmd.catalog.interceptors import load_interceptors

    rows = []
    for c in load_interceptors():
        m = c.model
        rows.append(
            {
                "name": m.name,
                "class": m.klass,
                "aliases": list(m.aliases),
                "stages": len(m.stages),
                "burn_time_s": m.burn_time,
                "burnout_speed_kms": m.burnout_speed / 1e3,
                "burnout_speed_range_kms": [m.speed_range[0] / 1e3, m.speed_range[1] / 1e3],
                "disputed_burnout_speeds": [
                    {"kms": v / 1e3, "by": by} for v, by in m.disputed_speeds
                ],
                "min_altitude_km": m.min_altitude / 1e3,
                "max_altitude_km": m.max_altitude / 1e3,
                "max_range_km": m.max_range / 1e3,
                "divert_mps": m.divert,
                "decision_delay_s": m.decision_delay,
                "source": list(c.citations),
            }
        )

    def render(rs: list[dict[str, Any]]) -> None:
        for r in rs:
            lo, hi = r["burnout_speed_range_kms"]
            typer.echo(
                f"{r['name']:<9} {r['stages']} stages  burnout {r['burnout_speed_kms']:.1f} "
                f"km/s (range {lo:g}-{hi:g})  altitude {r['min_altitude_km']:g}-"
                f"{r['max_altitude_km']:g} km  range {r['max_range_km']:g} km"
            )
            for d in r["disputed_burnout_speeds"]:
                typer.echo(f"          disputed: {d['kms']:g} km/s — {d['by']}")

    emit(rows, as_json, render)


def _shot(i: Any, k: int, label: str | int) -> dict[str, Any]:
    from openbmd import earth

    lat, lon, _ = earth.ecef2geodetic(i.r_ecef[k])
    return {
        "shot": label,
        "launch_s": float(i.launch_time[k]),
        "intercept_s": float(i.time[k]),
        "flyout_time_s": float(i.flyout_time[k]),
        "altitude_km": float(i.altitude[k]) / 1e3,
        "ground_range_km": float(i.ground_range[k]) / 1e3,
        "closing_speed_kms": float(i.closing_speed[k]) / 1e3,
        "crossing_angle_deg": float(np.degrees(i.crossing_angle[k])),
        "lat_deg": float(np.degrees(lat)),
        "lon_deg": float(np.degrees(lon)),
        "launch_azimuth_deg": float(np.degrees(i.azimuth[k]) % 360.0),
        "final_pitch_deg": float(np.degrees(i.pitch[k])),
    }


@app.command("engage")
def engage_cmd(
    site: str = typer.Option(..., "--site", help="Interceptor site (name or LAT,LON)."),
    interceptor: str = typer.Option(..., "--interceptor", help="Interceptor name."),
    burnout_speed_kms: float | None = typer.Option(
        None, "--burnout-speed-kms", help="Override the burnout speed [km/s]."
    ),
    missile: str = typer.Option(..., "--missile", help="Threat missile class."),
    launch: str = typer.Option(..., "--launch", help="Threat launch point (name or LAT,LON)."),
    target: str = typer.Option(..., "--target", help="Threat aimpoint (name or LAT,LON)."),
    sensors: str | None = typer.Option(None, "--sensors", help=SENSOR_HELP),
    as_json: bool = JSON,
) -> None:
    """Engagement window, intercepts and shot opportunities against one aimed threat."""
    from openbmd import catalog
    from openbmd.engagement import detection_times, engage, launch_times
    from openbmd.targeting import aim

    d, entry, place = make_defence(site, interceptor, burnout_speed_kms, sensors)
    m = catalog.missile(missile)
    l_name, l_lat, l_lon = parse_place(launch, "--launch")
    t_name, t_lat, t_lon = parse_place(target, "--target")
    sol = aim(m, l_lat * DEG, l_lon * DEG, t_lat * DEG, t_lon * DEG)
    traj = sol.trajectory
    smp = traj.sample(np.arange(0.0, float(traj.events.impact_time[0]) + 2.0, 2.0))
    det = detection_times(smp, d.sensors, d.rcs)
    fc = np.asarray(d.fire_control, dtype=bool)
    l0 = launch_times(det[:, fc], det[:, ~fc], d.cue, d.fan.interceptor.decision_delay)
    res = engage(smp, traj.events.burnout_time, d.fan, l0, d.kill_assessment)
    ok = bool(res.feasible[0])
    shots = [_shot(s, 0, k + 1) for k, s in enumerate(res.shots) if np.isfinite(s.time[0])]
    data = {
        "site": place[0],
        "interceptor": entry.name,
        "missile": m.name,
        "launch": l_name,
        "target": t_name,
        "feasible": ok,
        "window": {
            "first_launch_s": float(res.first_launch[0]),
            "last_launch_s": float(res.last_launch[0]),
        },
        "intercepts": shots,
        "last_launch_intercept": _shot(res.last, 0, "last") if ok else None,
        "shot_opportunities": int(res.shot_opportunities[0]),
        "earliest_launch_s": float(l0[0]),
        "sensors": [
            {
                "name": s.name,
                "role": "fire-control" if f else "early-warning",
                "first_detection_s": float(t),
            }
            for s, f, t in zip(d.sensors, fc, det[0], strict=True)
        ],
        "threat": {
            "flight_time_s": float(traj.events.impact_time[0]),
            "burnout_time_s": float(traj.events.burnout_time[0]),
            "apogee_km": float(traj.events.apogee_alt[0]) / 1e3,
            "range_km": float(traj.ground_range()[0]) / 1e3,
        },
        "assumptions": assumptions(d),
    }

    def render(x: dict[str, Any]) -> None:
        typer.echo(
            f"{x['interceptor']} at {x['site']} vs {x['missile']} {x['launch']} -> "
            f"{x['target']}: {'FEASIBLE' if x['feasible'] else 'no feasible intercept'}"
        )
        w = x["window"]
        if x["feasible"]:
            typer.echo(
                f"  launch window {w['first_launch_s']:.0f}-{w['last_launch_s']:.0f} s after "
                f"threat launch; {x['shot_opportunities']} shot(s) under shoot-look-shoot"
            )
        for s in x["intercepts"]:
            typer.echo(
                f"  shot {s['shot']}: launch {s['launch_s']:.0f} s, intercept "
                f"{s['intercept_s']:.0f} s at {s['altitude_km']:.0f} km altitude, "
                f"{s['ground_range_km']:.0f} km from site, closing "
                f"{s['closing_speed_kms']:.1f} km/s, crossing {s['crossing_angle_deg']:.0f} deg"
            )
        for s in x["sensors"]:
            typer.echo(
                f"  {s['name']:<12} {s['role']:<13} first detection {s['first_detection_s']}"
            )

    emit(data, as_json, render)

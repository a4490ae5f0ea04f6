"""Defence commands: ``openbmd interceptors`` and ``engage``, and the place-list and assumption
helpers shared with :mod:`openbmd.cli.coverage` (architecture options: :mod:`._architecture`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer

from openbmd.cli._architecture import (
    JSON,
    architecture_block,
    architecture_from_flags,
    architecture_options,
)
from openbmd.cli._common import (
    app,
    check_lat_lon,
    emit,
    fail,
    missile_file_option,
    parse_place,
    resolve_missile,
)
from openbmd.constants import DEG

FIELDS = "Kozelsk,Teykovo,Vypolzovo,Tatishchevo"
TARGETS = "Washington,New York,Boston"
ENGAGEABILITY_MISSILE = "Topol-M"
RULES = (
    "intercept after threat burnout, within altitude/range limits and the kill vehicle's "
    "endurance after cut-off; track gate on the architecture's commit rule (fire-control "
    "track, or an early-warning cue where allowed) plus the decision delay; the launch waits "
    "until its own fire solution passes: closing speed >= the kill vehicle's minimum, angle "
    "off head-on <= its maximum, PIP error at handover inside the seeker's field of view at "
    "acquisition range, and the divert needed to remove the PIP error (95 % miss radius from "
    "the batch EKF's track covariance propagated to the intercept, fire solution held at "
    "launch, improved by fire-control in-flight updates; terminal dv = miss / t_go, t_go = "
    "seeker range / closing speed) <= its budget; each threat engaged by the battery with the "
    "earliest first intercept; no discrimination or reliability modelled (favours the "
    "defence); docs/engagement.md"
)


def fire_control_block(arch: Any) -> dict[str, Any]:
    """The filter behind the PIP error and each sensor's measurement model, JSON-ready."""
    from openbmd.sensors import Radar

    return {
        "filter": "EKF of openbmd.tracking in information form, linearised about the path",
        "process_noise_m2_s3": 0.0,
        "prior": None,
        "pip_quantile": 0.95,
        "looks_per_sample": "sample spacing / revisit",
        "sensors": [
            {
                "name": s.name,
                "sigma_range_m": s.sensor.sigma_range,
                "sigma_az_mrad": s.sensor.sigma_az * 1e3,
                "sigma_el_mrad": s.sensor.sigma_el * 1e3,
                "revisit_s": s.sensor.revisit,
            }
            for s in arch.sensors
            if isinstance(s.sensor, Radar)
        ],
    }


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


def assumptions(arch: Any, overrides: dict[str, Any]) -> dict[str, Any]:
    """The ``architecture`` block plus the modelling rules, for every defence command."""
    return {
        "architecture": architecture_block(arch, overrides),
        "rules": RULES,
        "fire_control": fire_control_block(arch),
    }


@app.command("interceptors")
def interceptors_cmd(as_json: bool = JSON) -> None:
    """List the interceptor catalogue: stages, burnout speed and its documented range, limits."""
    from openbmd.architecture import kill_vehicle_dict
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
                "kill_vehicle": kill_vehicle_dict(m),
                "kill_vehicle_ranges": {
                    k: list(c.ranges[k])
                    for k in (
                        "divert_mps",
                        "seeker_acquisition_range_km",
                        "min_closing_speed_kms",
                        "max_crossing_angle_deg",
                        "kv_endurance_s",
                        "seeker_fov_deg",
                    )
                    if k in c.ranges
                },
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


def _shot(i: Any, k: int, label: str | int, budget: float = float("inf")) -> dict[str, Any]:
    from openbmd import earth

    def num(x: Any, scale: float = 1.0) -> float | None:
        v = float(x) / scale
        return v if np.isfinite(v) else None

    lat, lon, _ = earth.ecef2geodetic(i.r_ecef[k])
    dv = float(i.divert_required[k])
    return {
        "shot": label,
        "launch_s": float(i.launch_time[k]),
        "intercept_s": float(i.time[k]),
        "flyout_time_s": float(i.flyout_time[k]),
        "altitude_km": float(i.altitude[k]) / 1e3,
        "ground_range_km": float(i.ground_range[k]) / 1e3,
        "closing_speed_kms": float(i.closing_speed[k]) / 1e3,
        "crossing_angle_deg": float(np.degrees(i.crossing_angle[k])),
        "crossing_off_head_on_deg": float(180.0 - np.degrees(i.crossing_angle[k])),
        "pip_error_commit_km": num(i.pip_error_commit[k], 1e3),
        "pip_error_acquisition_km": num(i.pip_error_acquisition[k], 1e3),
        "seeker_time_to_go_s": num(i.time_to_go[k]),
        "divert_required_mps": num(dv),
        "divert_budget_mps": num(budget),
        "divert_used_fraction": num(dv / budget) if np.isfinite(budget) else None,
        "kv_coast_s": float(i.flyout_time[k] - i.cutoff[k]),
        "lat_deg": float(np.degrees(lat)),
        "lon_deg": float(np.degrees(lon)),
        "launch_azimuth_deg": float(np.degrees(i.azimuth[k]) % 360.0),
        "final_pitch_deg": float(np.degrees(i.pitch[k])),
    }


@app.command("engage")
@architecture_options
def engage_cmd(
    missile: str | None = typer.Option(None, "--missile", help="Threat missile class."),
    launch: str = typer.Option(..., "--launch", help="Threat launch point (name or LAT,LON)."),
    target: str = typer.Option(..., "--target", help="Threat aimpoint (name or LAT,LON)."),
    arch_flags: Any = None,  # the shared options (architecture_options)
    as_json: bool = JSON,
    missile_file: Path | None = missile_file_option(),
) -> None:
    """Engagement window, intercepts and shot opportunities against one aimed threat."""
    from openbmd.engagement import engage_architecture
    from openbmd.targeting import aim

    arch, over = architecture_from_flags(**arch_flags)
    m = resolve_missile(missile, missile_file)
    l_name, l_lat, l_lon = parse_place(launch, "--launch")
    t_name, t_lat, t_lon = parse_place(target, "--target")
    sol = aim(m, l_lat * DEG, l_lon * DEG, t_lat * DEG, t_lon * DEG)
    traj = sol.trajectory
    smp = traj.sample(np.arange(0.0, float(traj.events.impact_time[0]) + 2.0, 2.0))
    res = engage_architecture(smp, arch, burnout_time=traj.events.burnout_time)
    ok = bool(res.feasible[0])
    b = int(res.battery[0])
    per = res.per_battery[b] if ok else None
    bat = arch.batteries[b] if ok else None
    budget = bat.interceptor.divert if bat else float("inf")
    shots = (
        [_shot(s, 0, k + 1, budget) for k, s in enumerate(per.shots) if np.isfinite(s.time[0])]
        if per is not None
        else []
    )
    cue = int(res.cue_sensor[0])
    data = {
        "architecture_name": arch.name,
        "site": bat.site if bat else None,
        "interceptor": bat.interceptor.name if bat else None,
        "battery": b if ok else None,
        "missile": m.name,
        "launch": l_name,
        "target": t_name,
        "feasible": ok,
        "reason": res.reason_text[0],
        "window": {
            "first_launch_s": float(res.first_launch[0]),
            "last_launch_s": float(res.last_launch[0]),
        },
        "intercepts": shots,
        "last_launch_intercept": _shot(per.last, 0, "last", budget) if per is not None else None,
        "shot_opportunities": int(res.shots[0]),
        "earliest_launch_s": [float(x) for x in res.earliest_launch[0]],
        "cue_s": float(res.cue_time[0]),
        "cue_sensor": arch.sensors[cue].name if cue >= 0 else None,
        "sensors": [
            {"name": s.name, "role": s.role, "owner": s.owner, "first_detection_s": float(t)}
            for s, t in zip(arch.sensors, res.detection[0], strict=True)
        ],
        "threat": {
            "flight_time_s": float(traj.events.impact_time[0]),
            "burnout_time_s": float(traj.events.burnout_time[0]),
            "apogee_km": float(traj.events.apogee_alt[0]) / 1e3,
            "range_km": float(traj.ground_range()[0]) / 1e3,
        },
        **assumptions(arch, over),
    }

    def render(x: dict[str, Any]) -> None:
        typer.echo(
            f"{x['architecture_name']}: {x['interceptor'] or '-'} at {x['site'] or '-'} vs "
            f"{x['missile']} {x['launch']} -> {x['target']}: "
            f"{'FEASIBLE' if x['feasible'] else 'no feasible intercept: ' + x['reason']}"
        )
        w = x["window"]
        if x["feasible"]:
            typer.echo(
                f"  launch window {w['first_launch_s']:.0f}-{w['last_launch_s']:.0f} s after "
                f"threat launch; {x['shot_opportunities']} shot(s) under shoot-look-shoot; "
                f"committed on {x['cue_sensor']} at {x['cue_s']:.0f} s"
            )
        for s in x["intercepts"]:
            typer.echo(
                f"  shot {s['shot']}: launch {s['launch_s']:.0f} s, intercept "
                f"{s['intercept_s']:.0f} s at {s['altitude_km']:.0f} km altitude, "
                f"{s['ground_range_km']:.0f} km from site, closing "
                f"{s['closing_speed_kms']:.1f} km/s, crossing {s['crossing_angle_deg']:.0f} deg"
            )
            pc, pa, dv = (s[k] for k in ("pip_error_commit_km", "pip_error_acquisition_km",
                                         "divert_required_mps"))  # fmt: skip
            if pc is not None and pa is not None and dv is not None:
                typer.echo(
                    f"          PIP error {pc:.1f} km at commit, {pa:.2f} km at acquisition; "
                    f"divert {dv:.0f} of {s['divert_budget_mps'] or float('inf'):.0f} m/s"
                )
        for s in x["sensors"]:
            typer.echo(
                f"  {s['name']:<12} {s['role']:<13} first detection {s['first_detection_s']}"
            )

    emit(data, as_json, render)

"""CLI commands on ballistic flight: demo, missiles, sites, trajectory, range, freeflight."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from openbmd import catalog
from openbmd.cli._common import (
    app,
    emit,
    fail,
    missile_file_option,
    parse_place,
    resolve_missile,
)
from openbmd.constants import DEG

# Piped output (CI logs, files) gets a wide table rather than Rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 140)

SHAPE_HELP = "min-energy | lofted | depressed"


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(x) for x in row))
    console.print(table)


@app.command("sites")
def sites_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the named places (launch areas, defence sites, radars, cities)."""
    data = [
        {
            "name": s.name,
            "lat_deg": s.lat_deg,
            "lon_deg": s.lon_deg,
            "role": s.role,
            "country": s.country,
        }
        for s in catalog.load_sites()
    ]

    def render(rows: list[dict[str, Any]]) -> None:
        _table(
            "Named places",
            ["name", "lat_deg", "lon_deg", "role"],
            [[r["name"], r["lat_deg"], r["lon_deg"], r["role"]] for r in rows],
        )

    emit(data, as_json, render)


def missile_rows() -> list[dict[str, Any]]:
    """Catalogue rows with the computed maximum range (on a non-rotating Earth)."""
    from openbmd.targeting import max_range
    from openbmd.trajectory import EarthModel

    ms = list(catalog.load_missiles())
    # Nominal ranges are quoted without the Earth's rotation, which adds range eastward and
    # takes it westward; compare like with like.
    mr = max_range(ms, 35.0 * DEG, 50.0 * DEG, 90.0 * DEG, model=EarthModel(rotation=False))
    rows = []
    for m, r, tof in zip(ms, mr.range, mr.trajectory.events.impact_time, strict=True):
        rows.append(
            {
                "name": m.name,
                "class": m.klass,
                "nominal_range_km": m.nominal_range / 1e3,
                "max_range_km": round(float(r) / 1e3, 1),
                "flight_time_s": round(float(tof), 1),
                "stages": len(m.stages),
                "burn_time_s": m.burn_time,
                "launch_mass_kg": m.launch_mass,
                "source": m.source,
            }
        )
    return rows


@app.command("missiles")
def missiles_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the missile catalogue with nominal and computed maximum ranges.

    The maximum range is computed on a non-rotating WGS-84 Earth with J2 and the atmosphere,
    as nominal ranges are quoted; `openbmd range` gives it for a real launch direction.
    """

    def render(rows: list[dict[str, Any]]) -> None:
        _table(
            "Missile classes (max range: non-rotating Earth)",
            ["name", "nominal_range_km", "max_range_km", "burn_time_s", "class"],
            [
                [
                    r["name"],
                    f"{r['nominal_range_km']:.0f}",
                    f"{r['max_range_km']:.0f}",
                    f"{r['burn_time_s']:.0f}",
                    r["class"],
                ]
                for r in rows
            ],
        )

    emit(missile_rows(), as_json, render)


def _check_shape(shape: str, apogee_km: float | None) -> None:
    from openbmd.targeting import SHAPES

    if shape not in SHAPES:
        fail(f"--shape: {shape!r} is not one of {', '.join(SHAPES)}")
    if apogee_km is not None:
        if shape != "lofted":
            fail("--apogee-km: only a lofted shot (--shape lofted) takes an apogee")
        if not apogee_km > 0:
            fail(f"--apogee-km: must be > 0, got {apogee_km:g}")


def trajectory_summary(sol: Any, i: int = 0) -> dict[str, Any]:
    """The JSON summary of one aimed trajectory."""
    from openbmd import earth
    from openbmd.trajectory import altitude

    traj = sol.trajectory
    ev = traj.events
    ilat, ilon = traj.impact_geodetic()
    r_bo, v_bo = earth.eci2ecef_state(
        ev.burnout_r_eci[i], ev.burnout_v_eci[i], ev.burnout_time[i], omega=traj.earth_model.omega
    )
    return {
        "range_km": float(traj.ground_range()[i]) / 1e3,
        "flight_time_s": float(ev.impact_time[i]),
        "apogee_km": float(ev.apogee_alt[i]) / 1e3,
        "burnout_time_s": float(ev.burnout_time[i]),
        "burnout_speed_mps": float(np.linalg.norm(v_bo)),
        "burnout_altitude_km": float(altitude(r_bo, traj.earth_model)) / 1e3,
        "launch_azimuth_deg": float(np.degrees(sol.guidance.azimuth[i]) % 360.0),
        "kick_angle_deg": float(np.degrees(sol.guidance.kick_angle[i])),
        "impact": {"lat_deg": float(np.degrees(ilat[i])), "lon_deg": float(np.degrees(ilon[i]))},
        "miss_km": float(sol.miss[i]) / 1e3,
    }


@app.command("trajectory")
def trajectory_cmd(
    missile: str | None = typer.Option(
        None, "--missile", help="Missile class name (see `missiles`)."
    ),
    launch: str = typer.Option(..., "--launch", help="Launch place: a name or LAT,LON."),
    target: str = typer.Option(..., "--target", help="Aimpoint: a name or LAT,LON."),
    shape: str = typer.Option("min-energy", "--shape", help=SHAPE_HELP),
    apogee_km: float | None = typer.Option(None, "--apogee-km", help="Apogee of a lofted shot."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    csv_file: Path | None = typer.Option(None, "--csv", help="Write the trajectory samples."),
    missile_file: Path | None = missile_file_option(),
) -> None:
    """Aim a missile at a target on the rotating Earth and fly it."""
    from openbmd.targeting import aim

    m = resolve_missile(missile, missile_file)
    _check_shape(shape, apogee_km)
    _, lat0, lon0 = parse_place(launch, "--launch")
    _, lat1, lon1 = parse_place(target, "--target")
    if abs(lat0 - lat1) < 1e-9 and abs(lon0 - lon1) < 1e-9:
        fail("--target: the aimpoint is the launch point")
    sol = aim(
        m,
        lat0 * DEG,
        lon0 * DEG,
        lat1 * DEG,
        lon1 * DEG,
        shape=shape,
        apogee=None if apogee_km is None else apogee_km * 1e3,
    )
    out = {
        "missile": m.name,
        "launch": launch,
        "target": target,
        "shape": shape,
        **trajectory_summary(sol),
    }
    if csv_file is not None:
        write_csv(sol.trajectory, csv_file)

    def render(d: dict[str, Any]) -> None:
        _table(
            f"{m.name}: {launch} → {target} ({shape})",
            ["quantity", "value"],
            [[k, f"{v:.3f}" if isinstance(v, float) else v] for k, v in d.items()],
        )

    emit(out, as_json, render)


def write_csv(traj: Any, path: Path, i: int = 0) -> None:
    """Write one trajectory's steps (time, geodetic, ECEF, speed) as CSV."""
    lat, lon, alt = traj.geodetic
    r, v = traj.r_ecef, traj.v_ecef
    ok = np.isfinite(traj.t[i])
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["t_s", "lat_deg", "lon_deg", "alt_km", "x_m", "y_m", "z_m", "speed_mps", "thrusting"]
        )
        for k in np.flatnonzero(ok):
            w.writerow(
                [
                    f"{traj.t[i, k]:.3f}",
                    f"{np.degrees(lat[i, k]):.6f}",
                    f"{np.degrees(lon[i, k]):.6f}",
                    f"{alt[i, k] / 1e3:.4f}",
                    f"{r[i, k, 0]:.1f}",
                    f"{r[i, k, 1]:.1f}",
                    f"{r[i, k, 2]:.1f}",
                    f"{np.linalg.norm(v[i, k]):.2f}",
                    int(traj.thrusting[i, k]),
                ]
            )


@app.command("range")
def range_cmd(
    missile: str | None = typer.Option(None, "--missile", help="Missile class name."),
    launch: str = typer.Option(..., "--launch", help="Launch place: a name or LAT,LON."),
    azimuth_deg: float = typer.Option(..., "--azimuth-deg", help="Launch azimuth [deg]."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    missile_file: Path | None = missile_file_option(),
) -> None:
    """Maximum range of a missile from a launch point in a given direction."""
    from openbmd.targeting import max_range

    m = resolve_missile(missile, missile_file)
    _, lat0, lon0 = parse_place(launch, "--launch")
    if not math.isfinite(azimuth_deg):
        fail("--azimuth-deg: must be a finite number")
    mr = max_range(m, lat0 * DEG, lon0 * DEG, azimuth_deg * DEG)
    ev = mr.trajectory.events
    out = {
        "missile": m.name,
        "launch": launch,
        "azimuth_deg": azimuth_deg,
        "range_km": float(mr.range[0]) / 1e3,
        "flight_time_s": float(ev.impact_time[0]),
        "apogee_km": float(ev.apogee_alt[0]) / 1e3,
        "kick_angle_deg": float(np.degrees(mr.kick_angle[0])),
    }

    def render(d: dict[str, Any]) -> None:
        _table(
            f"Maximum range of {m.name}",
            ["quantity", "value"],
            [[k, f"{v:.3f}" if isinstance(v, float) else v] for k, v in d.items()],
        )

    emit(out, as_json, render)


@app.command("freeflight")
def freeflight_cmd(
    speed_mps: float = typer.Option(..., "--speed-mps", help="Burnout speed, Earth-relative."),
    angle_deg: float = typer.Option(..., "--angle-deg", help="Flight-path angle, (0, 90)."),
    altitude_km: float = typer.Option(0.0, "--altitude-km", help="Burnout altitude."),
    reentry_altitude_km: float | None = typer.Option(
        None, "--reentry-altitude-km", help="Reentry altitude (default: burnout altitude)."
    ),
    launch: str | None = typer.Option(None, "--launch", help="Burnout point (default 0,0)."),
    azimuth_deg: float = typer.Option(90.0, "--azimuth-deg", help="Azimuth [deg]."),
    earth_shape: str = typer.Option("sphere", "--earth", help="sphere | wgs84"),
    no_rotation: bool = typer.Option(False, "--no-rotation", help="Set ω⊕ = 0."),
    numeric: bool = typer.Option(False, "--numeric", help="Use the numeric propagator."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Coast a body from a burnout state, with no drag (closed form on a sphere)."""
    from openbmd.freeflight import coast

    if not (math.isfinite(speed_mps) and speed_mps > 0):
        fail(f"--speed-mps: must be > 0, got {speed_mps:g}")
    if not (math.isfinite(angle_deg) and 0.0 < angle_deg < 90.0):
        fail(f"--angle-deg: must be inside (0, 90) degrees, got {angle_deg:g}")
    if earth_shape not in ("sphere", "wgs84"):
        fail(f"--earth: {earth_shape!r} is not one of sphere, wgs84")
    if not (math.isfinite(altitude_km) and -0.5 < altitude_km < 5000):
        fail(f"--altitude-km: must be in [0, 5000), got {altitude_km:g}")
    h1 = altitude_km if reentry_altitude_km is None else reentry_altitude_km
    if not (math.isfinite(h1) and -0.5 < h1 < 5000):
        fail(f"--reentry-altitude-km: must be in [0, 5000), got {h1:g}")
    lat0 = lon0 = 0.0
    if launch is not None:
        _, lat0, lon0 = parse_place(launch, "--launch")
    ff = coast(
        speed_mps,
        angle_deg * DEG,
        altitude_km * 1e3,
        h1 * 1e3,
        lat0 * DEG,
        lon0 * DEG,
        azimuth_deg * DEG,
        earth_shape,
        not no_rotation,
        numeric,
    )
    out: dict[str, Any] = {
        "range_km": float(ff.range) / 1e3,
        "flight_time_s": float(ff.time_of_flight),
        "apogee_km": float(ff.apogee_alt) / 1e3,
        "method": "numeric" if numeric or earth_shape == "wgs84" else "closed-form",
        "earth": earth_shape,
        "rotation": not no_rotation,
    }
    if launch is not None:
        out["impact"] = {
            "lat_deg": float(np.degrees(ff.impact_lat)),
            "lon_deg": float(np.degrees(ff.impact_lon)),
        }

    def render(d: dict[str, Any]) -> None:
        _table(
            "Free flight",
            ["quantity", "value"],
            [[k, f"{v:.3f}" if isinstance(v, float) else v] for k, v in d.items()],
        )

    emit(out, as_json, render)


DEMO_THREATS = [
    ("Shahab-3", "Tabriz", "Ankara"),
    ("Sejjil", "Tabriz", "Bucharest"),
    ("IRBM", "Tehran", "Warsaw"),
    ("ICBM-liquid", "Tehran", "Washington"),
    ("Topol-M", "Kozelsk", "Washington"),
]


@app.command("demo")
def demo_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Fly the threats of the 2007-2009 debate (min-energy) and print a summary table."""
    from openbmd.targeting import aim

    ms = [catalog.missile(m) for m, _, _ in DEMO_THREATS]
    launch = [catalog.site(a) for _, a, _ in DEMO_THREATS]
    target = [catalog.site(b) for _, _, b in DEMO_THREATS]
    sol = aim(
        ms,
        [s.lat_deg * DEG for s in launch],
        [s.lon_deg * DEG for s in launch],
        [s.lat_deg * DEG for s in target],
        [s.lon_deg * DEG for s in target],
    )
    rows = [
        {"missile": m, "launch": a, "target": b, **trajectory_summary(sol, i)}
        for i, (m, a, b) in enumerate(DEMO_THREATS)
    ]

    def render(rs: list[dict[str, Any]]) -> None:
        _table(
            "openbmd demo: minimum-energy trajectories on a rotating WGS-84 Earth",
            [
                "missile",
                "launch → target",
                "range km",
                "flight min",
                "apogee km",
                "burnout s",
                "burnout km/s",
                "miss km",
            ],
            [
                [
                    r["missile"],
                    f"{r['launch']} → {r['target']}",
                    f"{r['range_km']:.0f}",
                    f"{r['flight_time_s'] / 60:.1f}",
                    f"{r['apogee_km']:.0f}",
                    f"{r['burnout_time_s']:.0f}",
                    f"{r['burnout_speed_mps'] / 1e3:.2f}",
                    f"{r['miss_km']:.2f}",
                ]
                for r in rs
            ],
        )

    emit(rows, as_json, render)

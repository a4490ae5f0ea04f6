"""Coverage commands: ``openbmd coverage`` (defended footprint), ``deny`` (the reverse map of
launch areas a site can deny) and ``engageability`` (Russian ICBMs x burnout speeds)."""

from __future__ import annotations

from typing import Any

import typer

from openbmd.cli._common import app, emit, fail, parse_float_list
from openbmd.cli.defence import (
    ENGAGEABILITY_MISSILE,
    FIELDS,
    JSON,
    SENSOR_HELP,
    TARGETS,
    assumptions,
    make_defence,
    parse_places,
    speed_ms,
)
from openbmd.constants import DEG


@app.command("coverage")
def coverage_cmd(
    site: str = typer.Option(..., "--site", help="Interceptor site (name or LAT,LON)."),
    interceptor: str = typer.Option(..., "--interceptor", help="Interceptor name."),
    missile: str = typer.Option(..., "--missile", help="Threat missile class."),
    launch_area: str = typer.Option(
        ..., "--launch-area", help="Launch area(s): NAME[,NAME…] or LAT,LON[;LAT,LON…]."
    ),
    sensors: str | None = typer.Option(None, "--sensors", help=SENSOR_HELP),
    region: str = typer.Option("europe", "--region", help="Region name (europe)."),
    grid_deg: float = typer.Option(0.5, "--grid-deg", help="Grid step [deg] (> 0)."),
    as_json: bool = JSON,
    netcdf: str | None = typer.Option(None, "--netcdf", help="Write the Dataset (h5netcdf)."),
    png: str | None = typer.Option(None, "--png", help="Write a map (offline base map)."),
) -> None:
    """Defended footprint over a region: defended cities and population share."""
    from openbmd import catalog
    from openbmd.analysis.footprint import REGIONS, footprint, grid_axes, population_summary
    from openbmd.catalog.places import load_cities
    from openbmd.report.maps import plot_footprint

    key = region.strip().casefold()
    if key not in REGIONS:
        fail(f"--region: unknown region {region!r}; valid: {', '.join(REGIONS)}")
    bounds = REGIONS[key]
    grid_axes(bounds, grid_deg)  # validate the grid before any heavy work
    m = catalog.missile(missile)
    areas = parse_places(launch_area, "--launch-area")
    d, entry, place = make_defence(site, interceptor, None, sensors)
    ds = footprint(
        d, m, [(a[0], a[1] * DEG, a[2] * DEG) for a in areas], bounds, grid_deg, load_cities()
    )
    ds.attrs.update(
        {
            "site": place[0],
            "interceptor": entry.name,
            "missile": m.name,
            "launch_areas": ", ".join(a[0] for a in areas),
            "region": key,
            "grid_deg": grid_deg,
            "sensors": ", ".join(s.name for s in d.sensors),
        }
    )
    summary = population_summary(ds)
    thr = ds["threatened"].values
    data = {
        "site": place[0],
        "interceptor": entry.name,
        "missile": m.name,
        "launch_areas": [a[0] for a in areas],
        "region": key,
        "grid_deg": grid_deg,
        "grid_points": int(ds["defended"].size),
        "threatened_fraction_of_grid": float(thr.mean()),
        "defended_fraction_of_threatened_grid": float(ds["defended"].values[thr].mean())
        if thr.any()
        else None,
        **summary,
        "assumptions": assumptions(d),
    }
    if netcdf:
        ds.to_netcdf(netcdf, engine="h5netcdf")
        data["netcdf"] = netcdf
    if png:
        title = (
            f"{entry.name} at {place[0]} ({d.fan.interceptor.burnout_speed / 1e3:g} km/s) vs "
            f"{m.name} from {', '.join(a[0] for a in areas)}"
        )
        plot_footprint(ds, png, title, place, areas)
        data["png"] = png

    def render(x: dict[str, Any]) -> None:
        typer.echo(
            f"{x['interceptor']} at {x['site']} vs {x['missile']} from "
            f"{', '.join(x['launch_areas'])} over {x['region']} ({x['grid_points']} points)"
        )
        frac = x["population_defended_fraction"]
        typer.echo(
            f"  defended cities: {len(x['defended_cities'])}; population defended: "
            f"{'n/a' if frac is None else f'{100 * frac:.1f} %'} of threatened"
        )
        if x.get("undefended_threatened_cities"):
            typer.echo(
                f"  threatened, not defended: {', '.join(x['undefended_threatened_cities'])}"
            )

    emit(data, as_json, render)


@app.command("engageability")
def engageability_cmd(
    site: str = typer.Option(..., "--site", help="Interceptor site (name or LAT,LON)."),
    interceptor: str = typer.Option(..., "--interceptor", help="Interceptor name."),
    speeds_kms: str = typer.Option(..., "--speeds-kms", help="Burnout speeds [km/s], e.g. 5.4,9."),
    fields: str = typer.Option(FIELDS, "--fields", help="ICBM fields (names or LAT,LON;…)."),
    targets: str = typer.Option(TARGETS, "--targets", help="Targets (names or LAT,LON;…)."),
    cueing: str | None = typer.Option(
        None, "--cueing", help="early-warning | own-radar (default: both)."
    ),
    as_json: bool = JSON,
) -> None:
    """Russian ICBM engageability: share of field→target trajectories with a feasible intercept."""
    from openbmd import catalog
    from openbmd.analysis.engageability import engageability
    from openbmd.engagement import CUE_RULES

    speeds = [speed_ms(v, "--speeds-kms") for v in parse_float_list(speeds_kms, "--speeds-kms")]
    if cueing is not None and cueing.strip().lower() not in CUE_RULES:
        fail(f"--cueing: {cueing!r} is not one of {', '.join(CUE_RULES)}")
    cues = [cueing.strip().lower()] if cueing else list(CUE_RULES)
    f_pts = parse_places(fields, "--fields")
    t_pts = parse_places(targets, "--targets")
    defences = {c: make_defence(site, interceptor, None, None, c)[0] for c in cues}
    _, entry, place = make_defence(site, interceptor, None, None, cues[0])
    m = catalog.missile(ENGAGEABILITY_MISSILE)
    ds = engageability(
        defences,
        m,
        [(a, b * DEG, c * DEG) for a, b, c in f_pts],
        [(a, b * DEG, c * DEG) for a, b, c in t_pts],
        [float(s) for s in speeds if s is not None],
    )
    rows = []
    for i, v in enumerate(ds["speed"].values):
        for j, c in enumerate(cues):
            feas = ds["feasible"].values[i, j]
            rows.append(
                {
                    "burnout_speed_kms": float(v) / 1e3,
                    "cueing": c,
                    "fraction_feasible": float(ds["fraction"].values[i, j]),
                    "feasible_pairs": [
                        f"{f[0]}->{t[0]}"
                        for a, f in enumerate(f_pts)
                        for b, t in enumerate(t_pts)
                        if feas[a, b]
                    ],
                }
            )
    own = defences[cues[0]]
    data = {
        "site": place[0],
        "interceptor": entry.name,
        "missile": m.name,
        "fields": [f[0] for f in f_pts],
        "targets": [t[0] for t in t_pts],
        "results": rows,
        "assumptions": {
            **{
                k: v
                for k, v in assumptions(own).items()
                if k not in ("cueing", "burnout_speed_kms")
            },
            "trajectories": "minimum-energy, one per field x target (aimed, rotating WGS-84 Earth)",
            "own-radar": "launch only on a fire-control-quality track from an X-band radar "
            "(EMR at Brdy, forward TPY-2)",
            "early-warning": "launch may also be cued by early-warning sensors (space IR, "
            "Fylingdales, Thule) after the early-warning cue delay",
            "sensors": [s.name for s in own.sensors],
        },
    }

    def render(x: dict[str, Any]) -> None:
        typer.echo(
            f"{x['interceptor']} at {x['site']} vs {x['missile']} from "
            f"{', '.join(x['fields'])} to {', '.join(x['targets'])}"
        )
        for r in x["results"]:
            typer.echo(
                f"  {r['burnout_speed_kms']:4.1f} km/s  {r['cueing']:<13} "
                f"{100 * r['fraction_feasible']:5.1f} % feasible"
            )
        typer.echo("Assumptions:")
        for k, v in x["assumptions"].items():
            typer.echo(f"  {k}: {v}")

    emit(data, as_json, render)


DENY_TARGETS = "Berlin,Paris,London,Rome,Warsaw,Prague,Vienna,Madrid"


@app.command("deny")
def deny_cmd(
    site: str = typer.Option(..., "--site", help="Interceptor site (name or LAT,LON)."),
    interceptor: str = typer.Option(..., "--interceptor", help="Interceptor name."),
    missile: str = typer.Option(..., "--missile", help="Threat missile class."),
    targets: str = typer.Option(
        DENY_TARGETS, "--targets", help="Defended aimpoints (names or LAT,LON;…)."
    ),
    sensors: str | None = typer.Option(None, "--sensors", help=SENSOR_HELP),
    region: str = typer.Option(
        "middle-east", "--region", help="Launch region: middle-east | europe."
    ),
    grid_deg: float = typer.Option(1.0, "--grid-deg", help="Launch grid step [deg] (> 0)."),
    cueing: str = typer.Option("early-warning", "--cueing", help="early-warning | own-radar."),
    as_json: bool = JSON,
    netcdf: str | None = typer.Option(None, "--netcdf", help="Write the Dataset (h5netcdf)."),
    png: str | None = typer.Option(None, "--png", help="Write a map (offline base map)."),
) -> None:
    """Reverse map: launch cells from which an attack on the targets can be denied.

    For every cell of a launch grid over --region and every defended aimpoint within the
    missile's reach from it, a minimum-energy trajectory is aimed and engaged; a cell is fully
    denied when every aimpoint in reach has >= 1 feasible intercept. Prints the counts and the
    denied fraction; --netcdf keeps the per-cell, per-target Dataset.
    """
    from openbmd import catalog
    from openbmd.analysis.denial import deny_map, deny_summary
    from openbmd.analysis.footprint import REGIONS, grid_axes
    from openbmd.engagement import CUE_RULES

    key = region.strip().casefold()
    if key not in REGIONS:
        fail(f"--region: unknown region {region!r}; valid: {', '.join(REGIONS)}")
    mode = cueing.strip().lower()
    if mode not in CUE_RULES:
        fail(f"--cueing: {cueing!r} is not one of {', '.join(CUE_RULES)}")
    bounds = REGIONS[key]
    grid_axes(bounds, grid_deg)  # validate the grid before any heavy work
    m = catalog.missile(missile)
    t_pts = parse_places(targets, "--targets")
    d, entry, place = make_defence(site, interceptor, None, sensors, mode)
    ds = deny_map(d, m, [(a, b * DEG, c * DEG) for a, b, c in t_pts], bounds, grid_deg)
    ds.attrs.update(
        {
            "site": place[0],
            "interceptor": entry.name,
            "missile": m.name,
            "region": key,
            "grid_deg": grid_deg,
            "sensors": ", ".join(s.name for s in d.sensors),
        }
    )
    data: dict[str, Any] = {
        "site": place[0],
        "interceptor": entry.name,
        "missile": m.name,
        "region": key,
        "grid_deg": grid_deg,
        "targets": [t[0] for t in t_pts],
        **deny_summary(ds),
        "assumptions": assumptions(d),
    }
    if netcdf:
        ds.to_netcdf(netcdf, engine="h5netcdf")
        data["netcdf"] = netcdf
    if png:
        from openbmd.report.maps import plot_denial

        title = (
            f"{entry.name} at {place[0]} ({d.fan.interceptor.burnout_speed / 1e3:g} km/s) vs "
            f"{m.name}: launch cells denied ({len(t_pts)} defended aimpoints)"
        )
        plot_denial(ds, png, title, place)
        data["png"] = png

    def render(x: dict[str, Any]) -> None:
        typer.echo(
            f"{x['interceptor']} at {x['site']} vs {x['missile']} launched from {x['region']} "
            f"({x['launch_cells']} cells) at {', '.join(x['targets'])}"
        )
        frac = x["fully_denied_fraction_of_threatening_cells"]
        typer.echo(
            f"  cells in reach of a target: {x['launch_cells_in_reach_of_a_target']}; fully "
            f"denied: {x['launch_cells_fully_denied']} "
            f"({'n/a' if frac is None else f'{100 * frac:.1f} %'}); partly: "
            f"{x['launch_cells_partly_denied']}"
        )

    emit(data, as_json, render)

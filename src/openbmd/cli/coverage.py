"""Coverage commands: ``openbmd coverage`` (defended footprint), ``deny`` (the reverse map of
launch areas a site can deny) and ``engageability`` (Russian ICBMs x burnout speeds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from openbmd.cli._architecture import (
    JSON,
    architecture_from_flags,
    architecture_options,
    require_batteries,
    speed_ms,
)
from openbmd.cli._common import (
    app,
    emit,
    fail,
    missile_file_option,
    parse_float_list,
    resolve_missile,
)
from openbmd.cli.defence import (
    ENGAGEABILITY_MISSILE,
    FIELDS,
    TARGETS,
    assumptions,
    parse_places,
)
from openbmd.constants import DEG


@app.command("coverage")
@architecture_options
def coverage_cmd(
    missile: str | None = typer.Option(None, "--missile", help="Threat missile class."),
    launch_area: str = typer.Option(
        ..., "--launch-area", help="Launch area(s): NAME[,NAME…] or LAT,LON[;LAT,LON…]."
    ),
    arch_flags: Any = None,  # the shared options (architecture_options)
    region: str = typer.Option("europe", "--region", help="Region name (europe)."),
    grid_deg: float = typer.Option(0.5, "--grid-deg", help="Grid step [deg] (> 0)."),
    as_json: bool = JSON,
    netcdf: str | None = typer.Option(None, "--netcdf", help="Write the Dataset (h5netcdf)."),
    png: str | None = typer.Option(None, "--png", help="Write a map (offline base map)."),
    missile_file: Path | None = missile_file_option(),
) -> None:
    """Defended footprint over a region: defended cities and population share."""
    from openbmd.analysis.footprint import REGIONS, footprint, grid_axes, population_summary
    from openbmd.catalog.places import load_cities
    from openbmd.report.maps import plot_footprint

    key = region.strip().casefold()
    if key not in REGIONS:
        fail(f"--region: unknown region {region!r}; valid: {', '.join(REGIONS)}")
    bounds = REGIONS[key]
    grid_axes(bounds, grid_deg)  # validate the grid before any heavy work
    m = resolve_missile(missile, missile_file)
    areas = parse_places(launch_area, "--launch-area")
    arch, over = architecture_from_flags(**arch_flags)
    ds = footprint(
        arch, m, [(a[0], a[1] * DEG, a[2] * DEG) for a in areas], bounds, grid_deg, load_cities()
    )
    sites = ", ".join(b.site for b in arch.batteries) or "none"
    icps = ", ".join(b.interceptor.name for b in arch.batteries) or "none"
    ds.attrs.update(
        {
            "architecture": arch.name,
            "site": sites,
            "interceptor": icps,
            "missile": m.name,
            "launch_areas": ", ".join(a[0] for a in areas),
            "region": key,
            "grid_deg": grid_deg,
            "sensors": ", ".join(s.name for s in arch.sensors),
        }
    )
    summary = population_summary(ds)
    thr = ds["threatened"].values
    data = {
        "site": sites,
        "interceptor": icps,
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
        **assumptions(arch, over),
    }
    if netcdf:
        ds.to_netcdf(netcdf, engine="h5netcdf")
        data["netcdf"] = netcdf
    if png:
        require_batteries(arch)
        b0 = arch.batteries[0]
        title = (
            f"{arch.name}: {icps} at {sites} ({b0.interceptor.burnout_speed / 1e3:g} km/s) vs "
            f"{m.name} from {', '.join(a[0] for a in areas)}"
        )
        place = (b0.site, b0.lat / DEG, b0.lon / DEG)
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


CUEING = {"early-warning": "early-warning", "own-radar": "fire-control-track"}


@app.command("engageability")
@architecture_options
def engageability_cmd(
    speeds_kms: str | None = typer.Option(
        None, "--speeds-kms", help="Burnout speeds [km/s], e.g. 5.4,9 (default: the battery's)."
    ),
    missile: str = typer.Option(ENGAGEABILITY_MISSILE, "--missile", help="ICBM class."),
    fields: str = typer.Option(FIELDS, "--fields", help="ICBM fields (names or LAT,LON;…)."),
    targets: str = typer.Option(TARGETS, "--targets", help="Targets (names or LAT,LON;…)."),
    arch_flags: Any = None,  # the shared options (architecture_options)
    cueing: str | None = typer.Option(
        None,
        "--cueing",
        help="Compare commit rules: early-warning | own-radar (= fire-control-track); "
        "default: the architecture's rule, or both with --cueing both.",
    ),
    as_json: bool = JSON,
    missile_file: Path | None = missile_file_option(),
) -> None:
    """Russian ICBM engageability: share of field→target trajectories with a feasible intercept."""
    from dataclasses import replace

    from openbmd.analysis.engageability import engageability

    if cueing is not None and cueing.strip().lower() not in (*CUEING, "both"):
        fail(f"--cueing: {cueing!r} is not one of {', '.join(CUEING)}, both")
    arch, over = architecture_from_flags(**arch_flags)
    require_batteries(arch)
    if speeds_kms is None:
        speeds = [arch.batteries[0].interceptor.burnout_speed]
    else:
        parsed = [speed_ms(v, "--speeds-kms") for v in parse_float_list(speeds_kms, "--speeds-kms")]
        speeds = [float(v) for v in parsed if v is not None]
    key = cueing.strip().lower() if cueing else None
    labels = list(CUEING) if key == "both" else [key] if key else [arch.rules.commit]
    archs = {c: replace(arch, rules=replace(arch.rules, commit=CUEING.get(c, c))) for c in labels}
    f_pts = parse_places(fields, "--fields")
    t_pts = parse_places(targets, "--targets")
    m = resolve_missile(missile, missile_file, ENGAGEABILITY_MISSILE)
    ds = engageability(
        archs,
        m,
        [(a, b * DEG, c * DEG) for a, b, c in f_pts],
        [(a, b * DEG, c * DEG) for a, b, c in t_pts],
        speeds,
    )
    rows = []
    names = [str(r) for r in ds["reason_name"].values]
    for i, v in enumerate(ds["speed"].values):
        for j, c in enumerate(labels):
            feas = ds["feasible"].values[i, j]
            why = ds["reason"].values[i, j]
            counts = ds["reason_count"].values[i, j]
            pairs = [(a, f, b, t) for a, f in enumerate(f_pts) for b, t in enumerate(t_pts)]
            rows.append(
                {
                    "burnout_speed_kms": float(v) / 1e3,
                    "cueing": c,
                    "commit": archs[c].rules.commit,
                    "pairs": len(pairs),
                    "engageable": int(feas.sum()),
                    "fraction_feasible": float(ds["fraction"].values[i, j]),
                    "not_engageable": {
                        n: int(k) for n, k in zip(names[1:], counts[1:], strict=True)
                    },
                    "feasible_pairs": [f"{f[0]}->{t[0]}" for a, f, b, t in pairs if feas[a, b]],
                    "pair_reasons": {
                        f"{f[0]}->{t[0]}": names[int(why[a, b])]
                        if why[a, b] >= 0
                        else "out of the missile's reach"
                        for a, f, b, t in pairs
                    },
                }
            )
    data = {
        "site": ", ".join(b.site for b in arch.batteries),
        "interceptor": ", ".join(b.interceptor.name for b in arch.batteries),
        "missile": m.name,
        "fields": [f[0] for f in f_pts],
        "targets": [t[0] for t in t_pts],
        "results": rows,
        **assumptions(arch, over),
        "assumptions": {
            "trajectories": "minimum-energy, one per field x target (aimed, rotating WGS-84 Earth)",
            "own-radar": "commit only on a fire-control track (commit = fire-control-track)",
            "early-warning": "an early-warning cue may also commit, after the cue delay",
            "sensors": [s.name for s in arch.sensors],
        },
    }

    def render(x: dict[str, Any]) -> None:
        typer.echo(
            f"{x['architecture']['name']}: {x['interceptor']} at {x['site']} vs {x['missile']} "
            f"from {', '.join(x['fields'])} to {', '.join(x['targets'])}"
        )
        for r in x["results"]:
            why = ", ".join(f"{k} {n}" for k, n in r["not_engageable"].items() if n)
            typer.echo(
                f"  {r['burnout_speed_kms']:4.1f} km/s  {r['cueing']:<18} "
                f"{r['engageable']:3d}/{r['pairs']} engageable "
                f"({100 * r['fraction_feasible']:5.1f} %)" + (f"; not: {why}" if why else "")
            )
        typer.echo("Assumptions:")
        for k, v in x["assumptions"].items():
            typer.echo(f"  {k}: {v}")

    emit(data, as_json, render)


DENY_TARGETS = "Berlin,Paris,London,Rome,Warsaw,Prague,Vienna,Madrid"


@app.command("deny")
@architecture_options
def deny_cmd(
    missile: str | None = typer.Option(None, "--missile", help="Threat missile class."),
    targets: str = typer.Option(
        DENY_TARGETS, "--targets", help="Defended aimpoints (names or LAT,LON;…)."
    ),
    arch_flags: Any = None,  # the shared options (architecture_options)
    region: str = typer.Option(
        "middle-east", "--region", help="Launch region: middle-east | europe."
    ),
    grid_deg: float = typer.Option(1.0, "--grid-deg", help="Launch grid step [deg] (> 0)."),
    as_json: bool = JSON,
    netcdf: str | None = typer.Option(None, "--netcdf", help="Write the Dataset (h5netcdf)."),
    png: str | None = typer.Option(None, "--png", help="Write a map (offline base map)."),
    missile_file: Path | None = missile_file_option(),
) -> None:
    """Reverse map: launch cells from which an attack on the targets can be denied.

    For every cell of a launch grid over --region and every defended aimpoint within the
    missile's reach from it, a minimum-energy trajectory is aimed and engaged; a cell is fully
    denied when every aimpoint in reach has >= 1 feasible intercept. Prints the counts and the
    denied fraction; --netcdf keeps the per-cell, per-target Dataset.
    """
    from openbmd.analysis.denial import deny_map, deny_summary
    from openbmd.analysis.footprint import REGIONS, grid_axes

    key = region.strip().casefold()
    if key not in REGIONS:
        fail(f"--region: unknown region {region!r}; valid: {', '.join(REGIONS)}")
    arch, over = architecture_from_flags(**arch_flags)
    bounds = REGIONS[key]
    grid_axes(bounds, grid_deg)  # validate the grid before any heavy work
    m = resolve_missile(missile, missile_file)
    t_pts = parse_places(targets, "--targets")
    ds = deny_map(arch, m, [(a, b * DEG, c * DEG) for a, b, c in t_pts], bounds, grid_deg)
    sites = ", ".join(b.site for b in arch.batteries) or "none"
    icps = ", ".join(b.interceptor.name for b in arch.batteries) or "none"
    ds.attrs.update(
        {
            "architecture": arch.name,
            "site": sites,
            "interceptor": icps,
            "missile": m.name,
            "region": key,
            "grid_deg": grid_deg,
            "sensors": ", ".join(s.name for s in arch.sensors),
        }
    )
    data: dict[str, Any] = {
        "site": sites,
        "interceptor": icps,
        "missile": m.name,
        "region": key,
        "grid_deg": grid_deg,
        "targets": [t[0] for t in t_pts],
        **deny_summary(ds),
        **assumptions(arch, over),
    }
    if netcdf:
        ds.to_netcdf(netcdf, engine="h5netcdf")
        data["netcdf"] = netcdf
    if png:
        from openbmd.report.maps import plot_denial

        require_batteries(arch)
        b0 = arch.batteries[0]
        title = (
            f"{arch.name}: {icps} at {sites} ({b0.interceptor.burnout_speed / 1e3:g} km/s) vs "
            f"{m.name}: launch cells denied ({len(t_pts)} defended aimpoints)"
        )
        plot_denial(ds, png, title, (b0.site, b0.lat / DEG, b0.lon / DEG))
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

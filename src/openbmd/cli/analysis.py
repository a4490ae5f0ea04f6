"""Analysis commands: ``openbmd effectiveness`` and ``openbmd reach``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import typer

from openbmd.cli._common import app, emit, fail, parse_places

# ----------------------------------------------------------------------------------------------
# effectiveness
# ----------------------------------------------------------------------------------------------


@app.command("effectiveness")
def effectiveness_cmd(
    sspk: float = typer.Option(..., "--sspk", help="Single-shot kill probability, in [0, 1]."),
    shots: int = typer.Option(
        ..., "--shots", help="Interceptors per threat (salvo size or looks)."
    ),
    threats: int = typer.Option(..., "--threats", help="Number of threats in the raid (>= 1)."),
    inventory: int | None = typer.Option(
        None, "--inventory", help="Interceptors available (default: unlimited)."
    ),
    doctrine: str = typer.Option("salvo", "--doctrine", help="salvo | sls (shoot-look-shoot)."),
    common_mode: float = typer.Option(
        1.0, "--common-mode", help="Probability rho that sensors/battle management work, (0, 1]."
    ),
    assessment: float = typer.Option(
        1.0, "--kill-assessment", help="SLS: probability that a kill assessment is correct."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Raid effectiveness: Pk per threat, P(no leaker), threats engaged, interceptors used.

    Salvo Pk = 1 - (1 - p)^n; P0 = rho * Pk^N (Wilkening, Science & Global Security 8(2), 2000).
    With an inventory, threats are engaged one after another: whole salvos only under 'salvo';
    under 'sls' while interceptors last (exact expectation over the random usage).
    """
    from openbmd.effectiveness import DOCTRINES, raid

    if not (math.isfinite(sspk) and 0.0 <= sspk <= 1.0):
        fail(f"--sspk: {sspk:g} is outside [0, 1]")
    if shots < 1:
        fail(f"--shots: {shots} must be at least 1")
    if threats < 1:
        fail(f"--threats: {threats} must be at least 1")
    if inventory is not None and inventory < 0:
        fail(f"--inventory: {inventory} must be at least 0")
    if not (math.isfinite(common_mode) and 0.0 < common_mode <= 1.0):
        fail(f"--common-mode: {common_mode:g} is outside (0, 1]")
    if not (math.isfinite(assessment) and 0.0 <= assessment <= 1.0):
        fail(f"--kill-assessment: {assessment:g} is outside [0, 1]")
    doctrine = doctrine.strip().lower()
    if doctrine not in DOCTRINES:
        fail(f"--doctrine: {doctrine!r} is not one of {', '.join(DOCTRINES)}")
    if threats * shots > 1_000_000:
        fail("--threats x --shots: above 1,000,000 interceptor slots; split the raid")
    res = raid(sspk, shots, threats, inventory, doctrine, common_mode, assessment)
    data = {
        "sspk": sspk,
        "shots": shots,
        "threats": threats,
        "inventory": inventory,
        "doctrine": doctrine,
        "common_mode": common_mode,
        "kill_assessment": assessment,
        "p_kill_per_threat": res.p_kill_per_threat,
        "p_no_leak": res.p_no_leak,
        "threats_engaged": res.threats_engaged,
        "interceptors_expected": res.interceptors_expected,
        "leakers_expected": res.leakers_expected,
        "source": "Wilkening, Science & Global Security 8(2), 2000",
    }

    def render(d: dict[str, Any]) -> None:
        inv = "unlimited" if d["inventory"] is None else str(d["inventory"])
        print(
            f"doctrine {d['doctrine']}: SSPK {d['sspk']:g}, {d['shots']} shot(s) per threat, "
            f"{d['threats']} threat(s), inventory {inv}, common mode {d['common_mode']:g}"
        )
        rows = [
            ("P(kill) per engaged threat", f"{d['p_kill_per_threat']:.4f}"),
            ("P(no leaker)", f"{d['p_no_leak']:.4f}"),
            ("threats engaged (expected)", f"{d['threats_engaged']:.3f}"),
            ("interceptors used (expected)", f"{d['interceptors_expected']:.3f}"),
            ("leakers (expected)", f"{d['leakers_expected']:.3f}"),
        ]
        for label, value in rows:
            print(f"  {label:<30} {value:>10}")

    emit(data, as_json, render)


# ----------------------------------------------------------------------------------------------
# reach
# ----------------------------------------------------------------------------------------------

_FROM_HELP = (
    "Launch points: catalogue names and/or LAT,LON pairs in degrees, separated by ';' "
    "(names may also be separated by ','). Examples: 'Kaliningrad,Baltiysk,Chernyakhovsk', "
    "'54.71,20.51;54.65,19.91', 'Kaliningrad;54.65,19.91'. A number is always read together "
    "with the next one as LAT,LON."
)


def parse_launch_points(text: str) -> list[tuple[str, float, float]]:
    """Parse ``--from`` into ``(label, lat_deg, lon_deg)`` (see :data:`_FROM_HELP`)."""
    return parse_places(text, "--from")


def candidate_places(sites: str | None = None) -> list[dict[str, Any]]:
    """The places to test: those named in ``--sites`` (names or LAT,LON), else all sites and
    cities (:func:`openbmd.catalog.load_places`)."""
    from openbmd.catalog.places import load_places
    from openbmd.catalog.places import parse_places as resolve

    chosen = load_places() if sites is None else resolve(sites, "sites")
    rows = []
    for p in chosen:
        row: dict[str, Any] = {"name": p.name, "lat_deg": p.lat_deg, "lon_deg": p.lon_deg,
                               "kind": p.kind, "country": p.country}  # fmt: skip
        if p.population is not None:
            row["population"] = p.population
        rows.append(row)
    return rows


def _draw_reach_png(path: str, data: dict[str, Any]) -> None:
    """Rings, launch points and places on the offline Natural Earth base map."""
    # A bare Figure renders with the Agg canvas and leaves pyplot's global backend alone.
    from matplotlib.figure import Figure

    from openbmd.report.basemap import draw_basemap

    rings = [np.asarray(poly[0]) for poly in data["ring"]["coordinates"]]
    pts = np.vstack([*rings, [[f["lon_deg"], f["lat_deg"]] for f in data["from"]]])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum(0.25 * (hi - lo), 1.0)
    lon0, lat0 = max(lo[0] - pad[0], -180.0), max(lo[1] - pad[1], -90.0)
    lon1, lat1 = min(hi[0] + pad[0], 180.0), min(hi[1] + pad[1], 90.0)
    fig = Figure(figsize=(9, 8), dpi=110)
    ax = fig.subplots()
    try:
        draw_basemap(ax, (lon0, lon1, lat0, lat1))
        for ring in rings:
            ax.fill(ring[:, 0], ring[:, 1], color="#d62728", alpha=0.06, zorder=2)
            ax.plot(ring[:, 0], ring[:, 1], color="#d62728", lw=1.4, zorder=3)
        for group, colour, size in (("outside", "#777777", 3), ("inside", "#1f3b73", 5)):
            for r in data[group]:
                if lon0 <= r["lon_deg"] <= lon1 and lat0 <= r["lat_deg"] <= lat1:
                    ax.plot(r["lon_deg"], r["lat_deg"], "o", color=colour, ms=size, zorder=4)
                    if group == "inside":
                        ax.annotate(
                            r["name"],
                            (r["lon_deg"], r["lat_deg"]),
                            fontsize=7,
                            xytext=(3, 3),
                            textcoords="offset points",
                            zorder=5,
                        )
        for f in data["from"]:
            ax.plot(f["lon_deg"], f["lat_deg"], "^", color="#d62728", ms=8, mec="k", zorder=6)
        names = ", ".join(f["name"] for f in data["from"])
        ax.set_title(f"{data['range_km']:g} km from {names}: {len(data['inside'])} places inside")
        ax.text(
            0.01,
            0.01,
            "Base map: Natural Earth (public domain)",
            transform=ax.transAxes,
            fontsize=6,
            color="#555555",
        )
        fig.savefig(path, bbox_inches="tight")
    finally:
        fig.clear()


@app.command("reach")
def reach_cmd(
    from_: str = typer.Option(..., "--from", help=_FROM_HELP),
    range_km: float = typer.Option(..., "--range-km", help="Missile range in km (> 0)."),
    sites: str | None = typer.Option(
        None,
        "--sites",
        help="Places to test: site or city names and/or LAT,LON pairs, as for --from "
        "(default: all sites and cities).",
    ),
    png: str | None = typer.Option(None, "--png", help="Draw rings and places on a map (PNG)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Range rings about launch points and the sites and cities inside them (geodesic, WGS-84)."""
    from openbmd.reach import MAX_RANGE_M, reach

    if not (math.isfinite(range_km) and 0.0 < range_km <= MAX_RANGE_M / 1e3):
        fail(f"--range-km: {range_km:g} is outside (0, {MAX_RANGE_M / 1e3:.0f}]")
    launches = parse_launch_points(from_)
    places = candidate_places(sites)
    if sites is None:  # a launch point is not a target of itself
        launch_keys = {name.casefold() for name, _, _ in launches}
        places = [p for p in places if p["name"].casefold() not in launch_keys]
    rad = np.radians
    res = reach(
        [n for n, _, _ in launches],
        rad([a for _, a, _ in launches]),
        rad([o for _, _, o in launches]),
        [p["name"] for p in places],
        rad([p["lat_deg"] for p in places]),
        rad([p["lon_deg"] for p in places]),
        range_km * 1e3,
    )
    inside: list[dict[str, Any]] = []
    outside: list[dict[str, Any]] = []
    for i in np.argsort(res.distance_m, kind="stable"):
        p = places[int(i)]
        row = {
            "name": p["name"],
            "distance_km": round(float(res.distance_m[i]) / 1e3, 3),
            "nearest_launch": res.nearest_launch(int(i)),
            "kind": p["kind"],
            "country": p["country"],
            "lat_deg": p["lat_deg"],
            "lon_deg": p["lon_deg"],
        }
        if "population" in p:
            row["population"] = p["population"]
        (inside if res.inside[i] else outside).append(row)
    ring_coords = [
        [
            [
                [round(float(o), 6), round(float(a), 6)]
                for a, o in zip(*map(np.degrees, ring), strict=True)
            ]
        ]
        for ring in res.rings
    ]
    data = {
        "from": [{"name": n, "lat_deg": a, "lon_deg": o} for n, a, o in launches],
        "range_km": range_km,
        "inside": inside,
        "outside": outside,
        "population_inside": sum(r.get("population", 0) for r in inside),
        "ring": {"type": "MultiPolygon", "coordinates": ring_coords},
    }
    if png is not None:
        _draw_reach_png(png, data)

    def render(d: dict[str, Any]) -> None:
        names = ", ".join(f["name"] for f in d["from"])
        print(f"range {d['range_km']:g} km from {names}: {len(d['inside'])} place(s) inside")
        for r in d["inside"]:
            print(f"  {r['name']:<22} {r['distance_km']:9.1f} km  from {r['nearest_launch']}")
        if d["inside"]:
            print(f"  population of the cities inside: {d['population_inside']:,}")
        if png is not None:
            print(f"map written to {png}")

    emit(data, as_json, render)

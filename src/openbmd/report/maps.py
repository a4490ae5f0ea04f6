"""Maps of coverage results over the bundled (offline) Natural Earth base map.

``plot_footprint`` and ``plot_denial`` (the ``coverage`` and ``denial`` commands' PNG files) draw
in longitude/latitude with the aspect ``1 / cos(mid-latitude)``
(:func:`openbmd.report.basemap.draw_basemap`). The report's maps (``footprint_map``,
``difference_map``, ``reach_map``) return a ``Figure`` drawn in a Lambert conformal conic fitted
to the map (:mod:`openbmd.report.projection`); the footprint's cells are projected as
quadrilaterals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from openbmd.report.projection import conic_for, draw_base

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MapLayers",
    "difference_map",
    "footprint_map",
    "plot_denial",
    "plot_footprint",
    "reach_map",
]


def plot_footprint(
    ds: xr.Dataset,
    path: str,
    title: str,
    site: tuple[str, float, float],
    areas: Sequence[tuple[str, float, float]],
) -> None:
    """PNG map of a footprint over the offline Natural Earth base map (degrees in the tuples)."""
    # A bare Figure renders with the Agg canvas and leaves pyplot's global backend alone.
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    from openbmd.report.basemap import draw_basemap

    lat, lon = ds["lat"].values, ds["lon"].values
    step_lat = float(lat[1] - lat[0]) if lat.size > 1 else 1.0
    step_lon = float(lon[1] - lon[0]) if lon.size > 1 else 1.0
    lon0, lon1 = float(lon[0] - step_lon / 2), float(lon[-1] + step_lon / 2)
    lat0, lat1 = float(lat[0] - step_lat / 2), float(lat[-1] + step_lat / 2)
    state = np.where(ds["defended"].values, 2, np.where(ds["threatened"].values, 1, 0))
    fig = Figure(figsize=(10, 8), dpi=110)
    ax = fig.subplots()
    try:
        draw_basemap(ax, (lon0, lon1, lat0, lat1))
        cmap = ListedColormap([(0, 0, 0, 0), (0.84, 0.15, 0.16, 0.35), (0.12, 0.47, 0.71, 0.45)])
        ax.pcolormesh(
            np.append(lon - step_lon / 2, lon1),
            np.append(lat - step_lat / 2, lat1),
            state,
            cmap=cmap,
            vmin=-0.5,
            vmax=2.5,
            zorder=2,
            shading="flat",
        )
        if "city" in ds.coords:
            from openbmd.catalog.places import load_cities

            where = {c.name: (c.lon_deg, c.lat_deg) for c in load_cities()}
            for name, dfd, thr in zip(
                ds["city"].values,
                ds["city_defended"].values,
                ds["city_threatened"].values,
                strict=True,
            ):
                x, y = where[str(name)]
                colour = "#1f3b73" if dfd else ("#d62728" if thr else "#777777")
                ax.plot(x, y, "o", ms=2.5, color=colour, zorder=4)
        ax.plot(site[2], site[1], "*", ms=14, color="gold", mec="k", zorder=6)
        ax.annotate(
            site[0],
            (site[2], site[1]),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=8,
            zorder=6,
        )
        for name, a_lat, a_lon in areas:
            if lon0 <= a_lon <= lon1 and lat0 <= a_lat <= lat1:
                ax.plot(a_lon, a_lat, "^", ms=8, color="#d62728", mec="k", zorder=6)
                ax.annotate(
                    name,
                    (a_lon, a_lat),
                    xytext=(4, -10),
                    textcoords="offset points",
                    fontsize=7,
                    zorder=6,
                )
        ax.set_title(title, fontsize=9)
        ax.text(
            0.01,
            0.01,
            "blue: defended (>= 1 feasible intercept); red: threatened, not "
            "defended. Base map: Natural Earth (public domain)",
            transform=ax.transAxes,
            fontsize=6,
            color="#333333",
        )
        fig.savefig(path, bbox_inches="tight")
    finally:
        fig.clear()


def plot_denial(ds: xr.Dataset, path: str, title: str, site: tuple[str, float, float]) -> None:
    """PNG map of a reverse (denial) map: the denied fraction per launch cell, targets marked."""
    # A bare Figure renders with the Agg canvas and leaves pyplot's global backend alone.
    from matplotlib.figure import Figure

    from openbmd.report.basemap import draw_basemap

    lat, lon = ds["lat"].values, ds["lon"].values
    step_lat = float(lat[1] - lat[0]) if lat.size > 1 else 1.0
    step_lon = float(lon[1] - lon[0]) if lon.size > 1 else 1.0
    tlat, tlon = ds["target_lat"].values, ds["target_lon"].values
    lon0 = float(min(lon[0] - step_lon / 2, tlon.min() - 2, site[2] - 2))
    lon1 = float(max(lon[-1] + step_lon / 2, tlon.max() + 2, site[2] + 2))
    lat0 = float(min(lat[0] - step_lat / 2, tlat.min() - 2, site[1] - 2))
    lat1 = float(max(lat[-1] + step_lat / 2, tlat.max() + 2, site[1] + 2))
    fig = Figure(figsize=(10, 8), dpi=110)
    ax = fig.subplots()
    try:
        draw_basemap(ax, (lon0, lon1, lat0, lat1))
        mesh = ax.pcolormesh(
            np.append(lon - step_lon / 2, lon[-1] + step_lon / 2),
            np.append(lat - step_lat / 2, lat[-1] + step_lat / 2),
            np.ma.masked_invalid(ds["denied_fraction"].values),
            cmap="RdYlBu",
            vmin=0.0,
            vmax=1.0,
            alpha=0.6,
            zorder=2,
            shading="flat",
        )
        fig.colorbar(mesh, ax=ax, shrink=0.6, label="share of aimpoints in reach denied")
        ax.plot(tlon, tlat, "o", ms=4, color="#1f3b73", zorder=5)
        for name, x, y in zip(ds["target"].values, tlon, tlat, strict=True):
            ax.annotate(str(name), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7)
        ax.plot(site[2], site[1], "*", ms=14, color="gold", mec="k", zorder=6)
        ax.set_title(title, fontsize=9)
        ax.text(
            0.01,
            0.01,
            "blue: every aimpoint in reach has >= 1 feasible intercept; red: none; blank: no "
            "aimpoint in reach. Base map: Natural Earth (public domain)",
            transform=ax.transAxes,
            fontsize=6,
            color="#333333",
        )
        fig.savefig(path, bbox_inches="tight")
    finally:
        fig.clear()


# --- maps of the report (Figures returned, never saved: the report embeds them) -------------

#: Colours of the footprint states: out of reach, threatened and undefended, defended.
STATE_COLOURS = ((0.0, 0.0, 0.0, 0.0), (0.84, 0.15, 0.16, 0.40), (0.12, 0.47, 0.71, 0.50))
#: Colours of a difference map: lost, unchanged, gained.
DIFF_COLOURS = ((0.90, 0.50, 0.05, 0.65), (0.0, 0.0, 0.0, 0.0), (0.17, 0.63, 0.17, 0.65))
#: At most this many cities are labelled on a map (the most populous; named targets first).
MAX_LABELS = 14


@dataclass(frozen=True)
class MapLayers:
    """What is drawn over a footprint grid. Tuples are (name, lat [deg], lon [deg], ...)."""

    cities: tuple[tuple[str, float, float, bool, bool, int], ...] = ()  # …, defended, thr, pop
    launch_areas: tuple[tuple[str, float, float], ...] = ()
    batteries: tuple[tuple[str, float, float], ...] = ()
    radars: tuple[tuple[str, float, float], ...] = ()
    named: frozenset[str] = frozenset()
    #: Radar coverage outlines: (name, lat [deg] (K,), lon [deg] (K,)), see :func:`coverage`.
    coverage: tuple[tuple[str, np.ndarray, np.ndarray], ...] = ()


def detection_range(radar: Any, rcs: float) -> float:
    """Largest slant range [m] at which ``radar`` detects a target of ``rcs`` [m²] (SNR ≥ its
    threshold), capped by its instrumented range; free space, no horizon."""
    r = np.geomspace(1e3, 5e7, 4000)
    with np.errstate(divide="ignore"):
        ok = radar.snr_db(r, rcs) >= radar.snr_threshold_db
    reach = float(r[ok].max()) if ok.any() else 0.0
    return min(reach, float(radar.max_range))


def coverage(radar: Any, rcs: float, n: int = 73) -> tuple[np.ndarray, np.ndarray]:
    """Outline (lat, lon) [deg] of a radar's field of regard out to :func:`detection_range`.

    A sector radar gives a wedge from its site; a full-circle one a ring. It is the
    horizontal reach of the radar for a target in space (the Earth's horizon, which hides
    low targets, is not drawn): a map aid, not the detection rule of the chain.
    """
    from openbmd.earth import geodesic_direct

    rng = detection_range(radar, rcs)
    full = radar.az_span >= 2.0 * np.pi
    half = np.pi if full else radar.az_span / 2.0
    az = radar.boresight_az + np.linspace(-half, half, n)
    lat, lon, _ = geodesic_direct(
        np.full(n, radar.lat), np.full(n, radar.lon), az, np.full(n, min(rng, 1.9e7))
    )
    lat_d, lon_d = np.degrees(lat), np.degrees(lon)
    if not full:
        lat_d = np.concatenate([[np.degrees(radar.lat)], lat_d, [np.degrees(radar.lat)]])
        lon_d = np.concatenate([[np.degrees(radar.lon)], lon_d, [np.degrees(radar.lon)]])
    return lat_d, lon_d


def _figure() -> Figure:
    # A bare Figure renders with the Agg canvas and leaves pyplot's global backend alone.
    # Fixed margins, not a layout engine: constrained layout draws every map twice.
    from matplotlib import figure

    fig = figure.Figure(figsize=(6.4, 5.4), dpi=80)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.05, top=0.94)
    return fig


def _edges(c: np.ndarray) -> np.ndarray:
    step = float(c[1] - c[0]) if c.size > 1 else 1.0
    return np.append(c - step / 2, c[-1] + step / 2)


def _grid_map(
    lat: np.ndarray,
    lon: np.ndarray,
    state: np.ndarray,
    colours: Sequence[tuple[float, float, float, float]],
    layers: MapLayers,
    title: str,
    legend: list[tuple[str, Any]],
) -> Figure:
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    x, y = _edges(lon), _edges(lat)
    m = conic_for((float(x[0]), float(x[-1]), float(y[0]), float(y[-1])))
    fig = _figure()
    ax = fig.subplots()
    draw_base(ax, m)
    gx, gy = m.fwd(*np.meshgrid(x, y))  # cell corners: the cells are quadrilaterals on a cone
    ax.pcolormesh(gx, gy, state, cmap=ListedColormap(list(colours)), vmin=-0.5,
                  vmax=len(colours) - 0.5, zorder=2, shading="flat")  # fmt: skip
    for _name, cov_lat, cov_lon in layers.coverage:
        # Outlines may leave the map: clip to the axes, unwrap across the antimeridian.
        cx, cy = m.fwd(np.degrees(np.unwrap(np.radians(cov_lon))), cov_lat)
        ax.plot(cx, cy, color="#6a3d9a", lw=0.8, ls="--", alpha=0.8, zorder=3)
    inside = [c for c in layers.cities if m.contains(c[2], c[1])]
    for _name, c_lat, c_lon, dfd, thr, _pop in inside:
        colour = "#1f3b73" if dfd else ("#d62728" if thr else "#777777")
        ax.plot(*m.fwd(c_lon, c_lat), "o", ms=3, color=colour, zorder=4)
    marked = {p[0] for p in (*layers.launch_areas, *layers.batteries, *layers.radars)}
    ranked = sorted((c for c in inside if c[0] not in marked),  # sites are labelled below
                    key=lambda c: (c[0] not in layers.named, -c[5]))[:MAX_LABELS]  # fmt: skip
    for name, c_lat, c_lon, *_ in ranked:
        ax.annotate(name, m.fwd(c_lon, c_lat), xytext=(3, 3), textcoords="offset points",
                    fontsize=6.5, zorder=5)  # fmt: skip
    marks = ((layers.launch_areas, "^", "#d62728", 8), (layers.batteries, "*", "gold", 13),
             (layers.radars, "D", "#6a3d9a", 6))  # fmt: skip
    for points, marker, colour, size in marks:
        for name, p_lat, p_lon in points:
            if m.contains(p_lon, p_lat):
                ax.plot(*m.fwd(p_lon, p_lat), marker, ms=size, color=colour, mec="k", zorder=6)
                ax.annotate(name, m.fwd(p_lon, p_lat), xytext=(4, -9), textcoords="offset points",
                            fontsize=6.5, zorder=6)  # fmt: skip
    handles: list[Any] = [Patch(facecolor=col, edgecolor="#555555", label=lab)
                          for lab, col in legend]  # fmt: skip
    handles += [
        Line2D([], [], marker=m, ls="", color=col, mec="k", ms=s * 0.7, label=lab)
        for lab, m, col, s in (("launch area", "^", "#d62728", 8), ("battery", "*", "gold", 13),
                               ("radar", "D", "#6a3d9a", 6))
    ]  # fmt: skip
    if layers.coverage:
        handles.append(Line2D([], [], color="#6a3d9a", ls="--", lw=0.8, label="radar coverage"))
    ax.legend(handles=handles, loc="lower left", fontsize=6.5, framealpha=0.85)
    ax.set_title(title, fontsize=9)
    return fig


def footprint_map(ds: xr.Dataset, layers: MapLayers, title: str) -> Figure:
    """Defended / threatened-undefended / out of reach over ``ds`` (one architecture, threat)."""
    state = np.where(ds["defended"].values, 2, np.where(ds["threatened"].values, 1, 0))
    legend = [("defended", STATE_COLOURS[2]), ("threatened, not defended", STATE_COLOURS[1]),
              ("out of reach", (1, 1, 1, 0))]  # fmt: skip
    return _grid_map(ds["lat"].values, ds["lon"].values, state, STATE_COLOURS, layers, title,
                     legend)  # fmt: skip


def difference_map(ds: xr.Dataset, base: xr.Dataset, layers: MapLayers, title: str) -> Figure:
    """Cells defended by ``ds`` and not ``base`` (gained) and the reverse (lost)."""
    diff = ds["defended"].values.astype(int) - base["defended"].values.astype(int) + 1
    legend = [("gained", DIFF_COLOURS[2]), ("lost", DIFF_COLOURS[0])]
    return _grid_map(ds["lat"].values, ds["lon"].values, diff, DIFF_COLOURS, layers, title,
                     legend)  # fmt: skip


def reach_map(ds: xr.Dataset, title: str, margin_deg: float = 3.0) -> Figure:
    """Reach rings of a short-range threat and the places inside (red) and outside (grey)."""
    lat = np.concatenate([ds["ring_lat"].values.ravel()])
    lon = np.concatenate([ds["ring_lon"].values.ravel()])
    bounds = (float(lon.min() - margin_deg), float(lon.max() + margin_deg),
              float(lat.min() - margin_deg), float(lat.max() + margin_deg))  # fmt: skip
    m = conic_for(bounds)
    fig = _figure()
    ax = fig.subplots()
    draw_base(ax, m)
    for i in range(ds.sizes["launch_area"]):
        rx, ry = m.fwd(ds["ring_lon"].values[i], ds["ring_lat"].values[i])
        ax.fill(rx, ry, color="#d62728", alpha=0.12, zorder=2)
        ax.plot(rx, ry, color="#d62728", lw=1)
    for name, kind, p_lat, p_lon, inside in zip(
        ds["place"].values, ds["kind"].values, ds["place_lat"].values, ds["place_lon"].values,
        ds["inside"].values, strict=True,
    ):  # fmt: skip
        if not m.contains(p_lon, p_lat):
            continue
        marker = {"battery": "*", "radar": "D"}.get(str(kind), "o")
        ax.plot(*m.fwd(p_lon, p_lat), marker, ms=9 if marker == "*" else 4, mec="k", mew=0.4,
                color="#d62728" if inside else "#999999", zorder=5)  # fmt: skip
        if inside or kind != "target":
            ax.annotate(str(name), m.fwd(p_lon, p_lat), xytext=(3, 3), textcoords="offset points",
                        fontsize=6.5, zorder=6)  # fmt: skip
    ax.set_title(title, fontsize=9)
    return fig

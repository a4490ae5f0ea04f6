"""PNG maps of coverage results over the bundled (offline) Natural Earth base map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = ["plot_denial", "plot_footprint"]


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

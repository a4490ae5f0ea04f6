"""A Lambert conformal conic projection fitted to each map, and its cached base map.

For a region ``(lon_min, lon_max, lat_min, lat_max)`` [deg] the cone is centred on the
region's middle meridian and latitude, with standard parallels one sixth of the latitude span
inside its edges (the usual rule of thumb for a conic map: the scale error is spread evenly
north and south). Over Europe (35–71° N) the scale stays within 0.978–1.035 of true (a test
checks it), where a plain longitude/latitude map with a mid-latitude aspect stretches
east-west distances ≈ 1.8× at the northern edge. Coordinates are
computed with pyproj on the WGS-84 ellipsoid, in km.

Country outlines are the bundled Natural Earth rings (:mod:`openbmd.report.basemap`),
projected and rendered once per region into an RGBA raster that every map of that region
reuses (drawing the outlines is most of a map's cost).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from openbmd.report.basemap import check_bounds, load_countries, unwrap_ring

__all__ = ["ConicMap", "conic_for", "draw_base"]

LAND, SEA, BORDER, GRATICULE = "#efeae0", "#dbe8f3", "#8a8a8a", "#b0b0b0"
#: Width of the cached base-map raster [px] (≈ 1.3× the maps' axes width).
RASTER_WIDTH = 600


@dataclass(frozen=True)
class ConicMap:
    """The projection of one map. ``bounds`` = (lon_min, lon_max, lat_min, lat_max) [deg]."""

    bounds: tuple[float, float, float, float]
    proj4: str
    label: str = ""

    @functools.cached_property
    def _transformer(self) -> Any:
        from pyproj import Transformer

        return Transformer.from_crs("EPSG:4326", self.proj4, always_xy=True)

    def fwd(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Projected ``(x, y)`` [km] of longitudes and latitudes [deg] (any shape)."""
        x, y = self._transformer.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x), np.asarray(y)

    def contains(self, lon: float, lat: float) -> bool:
        lon0, lon1, lat0, lat1 = self.bounds
        return lon0 <= lon <= lon1 and lat0 <= lat <= lat1

    @functools.cached_property
    def extent(self) -> tuple[float, float, float, float]:
        """``(x_min, x_max, y_min, y_max)`` [km] of the projected region's outline."""
        lon0, lon1, lat0, lat1 = self.bounds
        s = np.linspace(0.0, 1.0, 61)
        lon = np.concatenate([lon0 + (lon1 - lon0) * s, np.full(61, lon1),
                              lon1 - (lon1 - lon0) * s, np.full(61, lon0)])  # fmt: skip
        lat = np.concatenate([np.full(61, lat0), lat0 + (lat1 - lat0) * s, np.full(61, lat1),
                              lat1 - (lat1 - lat0) * s])  # fmt: skip
        x, y = self.fwd(lon, lat)
        return float(x.min()), float(x.max()), float(y.min()), float(y.max())


@functools.lru_cache(maxsize=32)
def conic_for(bounds: tuple[float, float, float, float]) -> ConicMap:
    """The Lambert conformal conic fitted to ``bounds`` (see the module docstring)."""
    lon0, lon1, lat0, lat1 = check_bounds(bounds)
    inset = (lat1 - lat0) / 6.0
    proj4 = (
        f"+proj=lcc +lat_1={lat0 + inset:.4f} +lat_2={lat1 - inset:.4f} "
        f"+lat_0={0.5 * (lat0 + lat1):.4f} +lon_0={0.5 * (lon0 + lon1):.4f} "
        "+ellps=WGS84 +units=km +no_defs"
    )
    label = (
        f"Lambert conformal conic, standard parallels {lat0 + inset:.1f}° and "
        f"{lat1 - inset:.1f}°, central meridian {0.5 * (lon0 + lon1):.1f}°"
    )
    return ConicMap((lon0, lon1, lat0, lat1), proj4, label)


def _graticule_step(bounds: tuple[float, float, float, float]) -> float:
    span = max(bounds[1] - bounds[0], bounds[3] - bounds[2])
    return 10.0 if span > 25 else 5.0


def _draw_vector_base(ax: Any, m: ConicMap) -> None:
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.path import Path

    lon0, lon1, lat0, lat1 = m.bounds
    resolution = "50m" if lon1 - lon0 < 60.0 else "110m"
    paths, lines = [], []
    for polys in load_countries(resolution).values():
        for poly in polys:
            pieces = [unwrap_ring(r)[1] for r in poly]  # no pole caps: never in a conic's view
            lo, hi = pieces[0].min(axis=0), pieces[0].max(axis=0)
            if hi[1] < lat0 - 10 or lo[1] > lat1 + 10 or hi[0] < lon0 - 30 or lo[0] > lon1 + 30:
                continue
            proj = [np.column_stack(m.fwd(p[:, 0], p[:, 1])) for p in pieces]
            paths.append(Path.make_compound_path(*(Path(p, closed=True) for p in proj)))
            lines.extend(proj)
    ax.set_facecolor(SEA)
    ax.add_collection(PathCollection(paths, facecolor=LAND, edgecolor="none", zorder=0))
    ax.add_collection(LineCollection(lines, colors=BORDER, linewidths=0.5, zorder=1))
    step = _graticule_step(m.bounds)
    s = np.linspace(0.0, 1.0, 50)
    grat = []
    for lon in np.arange(math.floor(lon0 / step) * step, lon1 + step, step):
        grat.append(np.column_stack(m.fwd(np.full(50, lon), lat0 - 5 + (lat1 - lat0 + 10) * s)))
    for lat in np.arange(math.floor(lat0 / step) * step, lat1 + step, step):
        grat.append(np.column_stack(m.fwd(lon0 - 10 + (lon1 - lon0 + 20) * s, np.full(50, lat))))
    ax.add_collection(LineCollection(grat, colors=GRATICULE, linewidths=0.4, zorder=1))


@functools.lru_cache(maxsize=8)  # ≤ 8 rasters of ≤ 600 × 1200 RGBA bytes: ≤ 24 MB
def _raster(m: ConicMap) -> np.ndarray:
    from matplotlib import figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    x0, x1, y0, y1 = m.extent
    height = int(min(2 * RASTER_WIDTH, max(60, RASTER_WIDTH * (y1 - y0) / (x1 - x0))))
    fig = figure.Figure(figsize=(RASTER_WIDTH / 100, height / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    _draw_vector_base(ax, m)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    fig.set_facecolor(SEA)  # the axes patch is off with the axis: the sea is the figure's
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba()).copy()
    img.flags.writeable = False
    return img


def draw_base(ax: Any, m: ConicMap) -> None:
    """The (cached) projected base map and graticule labels under a map, limits set."""
    x0, x1, y0, y1 = m.extent
    ax.imshow(_raster(m), extent=(x0, x1, y0, y1), origin="upper", zorder=0,
              interpolation="antialiased")  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    lon0, lon1, lat0, lat1 = m.bounds
    step = _graticule_step(m.bounds)
    for lat in np.arange(math.ceil(lat0 / step) * step, lat1 + 1e-9, step):
        x, y = m.fwd(lon0, lat)
        ax.annotate(f"{lat:g}°N", (float(x), float(y)), fontsize=6, color="#666666",
                    xytext=(2, 1), textcoords="offset points", annotation_clip=True)  # fmt: skip
    for lon in np.arange(math.ceil(lon0 / step) * step, lon1 + 1e-9, step):
        x, y = m.fwd(lon, lat0)
        label = f"{abs(lon):g}°{'E' if lon >= 0 else 'W'}"
        ax.annotate(label, (float(x), float(y)), fontsize=6, color="#666666",
                    xytext=(1, 2), textcoords="offset points", annotation_clip=True)  # fmt: skip
    ax.set_xlabel(m.label, fontsize=6, color="#555555")

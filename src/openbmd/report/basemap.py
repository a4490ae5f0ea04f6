"""Offline base map: Natural Earth country outlines decoded from the bundled TopoJSON.

``data/countries-110m.json`` and ``data/countries-50m.json`` are Natural Earth admin-0
countries (public domain) as packaged by ``world-atlas`` 2.0.2 (ISC); see
``data/NATURAL_EARTH.md``. TopoJSON stores shared borders once, as *arcs* of quantised,
delta-encoded integer positions; a polygon ring lists the arcs it follows, a negative index
``~i`` meaning arc ``i`` walked backwards. Decoding is therefore: cumulative-sum each arc,
scale and translate it to longitude/latitude, and concatenate the arcs of each ring, dropping
the first point of every arc after the first (it repeats the last point of the previous one).

Maps are drawn with plain matplotlib in longitude/latitude (equirectangular), with the axis
aspect set to ``1 / cos(mid-latitude)`` so that shapes are locally true at the map's centre.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd.errors import InputError

RESOLUTIONS = ("110m", "50m")
Ring = NDArray[np.float64]  # (K, 2) longitude, latitude in degrees; first point == last point


def decode_arcs(topology: dict[str, Any]) -> list[Ring]:
    """Absolute (lon, lat) positions of every arc of a TopoJSON ``topology``."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        xy = np.asarray(arc, dtype=float).reshape(-1, 2)
        if transform is not None:
            xy = np.cumsum(xy, axis=0) * np.asarray(transform["scale"], dtype=float)
            xy = xy + np.asarray(transform["translate"], dtype=float)
        arcs.append(xy)
    return arcs


def stitch_ring(arcs: Sequence[Ring], indices: Sequence[int]) -> Ring:
    """Join the arcs of one ring; index ``~i`` (negative) is arc ``i`` reversed."""
    parts = []
    for j, idx in enumerate(indices):
        arc = arcs[idx] if idx >= 0 else arcs[~idx][::-1]
        parts.append(arc if j == 0 else arc[1:])
    ring = np.concatenate(parts, axis=0)
    if not np.array_equal(ring[0], ring[-1]):
        ring = np.vstack([ring, ring[:1]])
    return ring


def geometry_polygons(geometry: dict[str, Any], arcs: Sequence[Ring]) -> list[list[Ring]]:
    """Polygons of one TopoJSON geometry, each as ``[exterior, *holes]``."""
    kind = geometry.get("type")
    if kind == "Polygon":
        polys = [geometry["arcs"]]
    elif kind == "MultiPolygon":
        polys = geometry["arcs"]
    else:  # null geometries and points carry no area
        return []
    return [[stitch_ring(arcs, ring) for ring in poly] for poly in polys]


def decode_countries(
    topology: dict[str, Any], obj: str = "countries"
) -> dict[str, list[list[Ring]]]:
    """Country name → polygons (each ``[exterior, *holes]`` of (K, 2) lon/lat rings)."""
    arcs = decode_arcs(topology)
    out: dict[str, list[list[Ring]]] = {}
    for i, geom in enumerate(topology["objects"][obj]["geometries"]):
        name = (geom.get("properties") or {}).get("name") or str(geom.get("id", i))
        out.setdefault(name, []).extend(geometry_polygons(geom, arcs))
    return out


@functools.cache
def load_countries(resolution: str = "110m") -> dict[str, list[list[Ring]]]:
    """Decoded Natural Earth countries at ``"110m"`` or ``"50m"`` scale (cached)."""
    if resolution not in RESOLUTIONS:
        raise InputError(f"resolution: {resolution!r} is not one of {', '.join(RESOLUTIONS)}")
    path = resources.files("openbmd").joinpath("data", f"countries-{resolution}.json")
    return decode_countries(json.loads(path.read_text(encoding="utf-8")))


def country_rings(resolution: str = "110m") -> dict[str, list[Ring]]:
    """Country name → every ring (exteriors and holes) as a flat list."""
    return {
        name: [ring for poly in polys for ring in poly]
        for name, polys in load_countries(resolution).items()
    }


def unwrap_ring(ring: Ring) -> tuple[Ring, Ring]:
    """Make a ring continuous in longitude across the antimeridian, for drawing in lon/lat.

    Returns ``(fill, line)``: ``line`` is the ring with 360° jumps removed (longitudes may then
    leave [-180, 180]); ``fill`` also closes a ring that encircles a pole (Antarctica) along that
    pole, so that it can be filled.
    """
    lon = np.degrees(np.unwrap(np.radians(ring[:, 0])))
    line = np.column_stack([lon, ring[:, 1]])
    if abs(lon[-1] - lon[0]) < 180.0:
        return line, line
    pole = math.copysign(90.0, float(ring[:, 1].mean()))
    cap = np.array([[lon[-1], pole], [lon[0], pole], [lon[0], ring[0, 1]]])
    return np.vstack([line, cap]), line


def check_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """Validate ``(lon_min, lon_max, lat_min, lat_max)`` in degrees."""
    if len(bounds) != 4 or not all(math.isfinite(float(b)) for b in bounds):
        raise InputError(f"bounds: expected four finite numbers, got {list(bounds)!r}")
    lon0, lon1, lat0, lat1 = (float(b) for b in bounds)
    if not (lon0 < lon1 and -90.0 <= lat0 < lat1 <= 90.0):
        raise InputError(f"bounds: ({lon0}, {lon1}, {lat0}, {lat1}) is an empty or invalid region")
    return lon0, lon1, lat0, lat1


def draw_basemap(
    ax: Any,
    bounds: Sequence[float],
    resolution: str | None = None,
    land: str = "#efeae0",
    sea: str = "#dbe8f3",
    border: str = "#8a8a8a",
) -> None:
    """Draw land and country borders on a matplotlib axis, limited to ``bounds``.

    ``bounds`` is ``(lon_min, lon_max, lat_min, lat_max)`` in degrees. The 50m outlines are used
    for regions narrower than 60° of longitude unless ``resolution`` is given.
    """
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.path import Path

    lon0, lon1, lat0, lat1 = check_bounds(bounds)
    if resolution is None:
        resolution = "50m" if lon1 - lon0 < 60.0 else "110m"
    paths: list[Any] = []
    lines: list[Ring] = []
    for polys in load_countries(resolution).values():
        for poly in polys:
            pieces = [unwrap_ring(r) for r in poly]
            ext = pieces[0][0]
            lo, hi = ext.min(axis=0), ext.max(axis=0)
            if hi[1] < lat0 or lo[1] > lat1:
                continue
            for shift in (-360.0, 0.0, 360.0):  # copies for rings unwrapped past ±180°
                if hi[0] + shift < lon0 or lo[0] + shift > lon1:
                    continue
                off = np.array([shift, 0.0])
                # exterior and holes wind in opposite senses: non-zero filling leaves holes empty
                rings = [Path(f + off, closed=True) for f, _ in pieces]
                paths.append(Path.make_compound_path(*rings))
                lines.extend(ln + off for _, ln in pieces)
    ax.set_facecolor(sea)
    ax.add_collection(PathCollection(paths, facecolor=land, edgecolor="none", zorder=0))
    ax.add_collection(LineCollection(lines, colors=border, linewidths=0.5, zorder=1))
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / max(math.cos(math.radians(0.5 * (lat0 + lat1))), 0.05))
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")

"""The footprint question per campaign trial: population and area defended, by grid tiles.

The report's footprint (:mod:`openbmd.analysis.footprint`) interpolates a dense threat lattice
— minutes per architecture, too dear per trial. A campaign asks the same question on fewer
points, each aimed directly: the cities of the region (their population) and the cell centres
of a coarse grid (``campaign.footprint_grid_deg``, their area), against every launch area of
the threat class. A point is *threatened* if some launch area reaches it, *defended* if every
launch area that reaches it can be engaged at least once (the footprint's rule). The points
are cut into tiles of at most :data:`TILE_POINTS`; a task is a chunk of trials × one tile, so
tiles are aimed lazily, once per worker, and their outcomes add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd.analysis.engageability import aim_pairs
from openbmd.analysis.footprint import grid_axes
from openbmd.analysis.study import Study
from openbmd.constants import DEG, R_EARTH_MEAN
from openbmd.errors import ConvergenceError, OutOfRangeError

__all__ = [
    "TILE_POINTS",
    "Prepared",
    "Tile",
    "defended_sums",
    "prepare",
    "threatened_sums",
    "tiles",
]

FloatArray = NDArray[np.float64]
#: Points per tile (cities and grid cells): a tile's trajectories stay a few hundred, and an
#: engagement call (≈ 5 ms of fixed cost) covers many of them.
TILE_POINTS = 96
#: Sampling step of the tiles' trajectories [s] (the footprint lattice's).
STEP_S = 5.0


@dataclass(frozen=True)
class Tile:
    """Some points of one region × threat class: (lat, lon) [rad], population, cell area [m²]."""

    region: int
    threat: int
    lat: FloatArray
    lon: FloatArray
    population: FloatArray
    area: FloatArray


def _cells(bounds: tuple[float, float, float, float], step_deg: float) -> tuple[Any, ...]:
    lats, lons = grid_axes(bounds, step_deg)
    glat, glon = np.meshgrid(lats * DEG, lons * DEG, indexing="ij")
    # A cell's area on the mean sphere: R² Δλ (sin φ₁ − sin φ₀), clipped to the region.
    lo = np.maximum(glat - 0.5 * step_deg * DEG, bounds[0] * DEG)
    hi = np.minimum(glat + 0.5 * step_deg * DEG, bounds[1] * DEG)
    w = np.minimum(glon + 0.5 * step_deg * DEG, bounds[3] * DEG) - np.maximum(
        glon - 0.5 * step_deg * DEG, bounds[2] * DEG
    )
    area = R_EARTH_MEAN**2 * w * (np.sin(hi) - np.sin(lo))
    return glat.ravel(), glon.ravel(), area.ravel()


def tiles(study: Study, grid_deg: float) -> tuple[Tile, ...]:
    """The tiles of every region × threat class whose footprint the study asks for."""
    out = []
    for r, region in enumerate(study.regions):
        b = region.bounds_deg
        cities = [
            p
            for p in study.aimpoints
            if p.population > 0 and b[0] <= p.lat_deg <= b[1] and b[2] <= p.lon_deg <= b[3]
        ]
        glat, glon, garea = _cells(b, grid_deg)
        lat = np.concatenate([[c.lat_deg * DEG for c in cities], glat])
        lon = np.concatenate([[c.lon_deg * DEG for c in cities], glon])
        pop = np.concatenate([[float(c.population) for c in cities], np.zeros(glat.size)])
        area = np.concatenate([np.zeros(len(cities)), garea])
        for t, threat in enumerate(study.threats):
            if threat.regions is not None and region.name not in threat.regions:
                continue
            for s in range(0, lat.size, TILE_POINTS):
                sl = slice(s, s + TILE_POINTS)
                out.append(Tile(r, t, lat[sl], lon[sl], pop[sl], area[sl]))
    return tuple(out)


@dataclass
class Prepared:
    """A tile aimed: per part (one batch of aimed pairs), its sample, burnout times and the
    launch area and point of each pair; ``reach`` (A, P): the pairs aimed (in reach)."""

    parts: list[tuple[Any, FloatArray, NDArray[np.intp], NDArray[np.intp]]]
    reach: NDArray[np.bool_]
    cache: list[dict[Any, Any]]


def _aim(th: Any, areas: list[int], pts: list[Any], idx: NDArray[np.intp]) -> list[Any]:
    """Aim launch areas ``areas`` at points ``idx`` as one batch; a batch whose aiming does not
    converge (a pair at the edge of reach) is split, by area then by points, and a single pair
    that cannot be aimed is left out (neither threatened nor defended)."""
    try:
        smp, burnout, ok = aim_pairs(
            th.missile, [th.launch_areas[a] for a in areas], [pts[i] for i in idx],
            dt=STEP_S, shape=th.shape,
        )  # fmt: skip
    except OutOfRangeError:
        return []
    except ConvergenceError:
        if len(areas) > 1:
            return [part for a in areas for part in _aim(th, [a], pts, idx)]
        if idx.size == 1:
            return []
        half = idx.size // 2
        return _aim(th, areas, pts, idx[:half]) + _aim(th, areas, pts, idx[half:])
    aimed = ok.reshape(len(areas), idx.size)
    area_of = np.repeat(np.asarray(areas), idx.size).reshape(aimed.shape)[aimed]
    point_of = np.tile(idx, len(areas)).reshape(aimed.shape)[aimed]
    return [(smp, burnout, area_of, point_of)]


def prepare(study: Study, tile: Tile) -> Prepared | None:
    """Aim every launch area × point pair of the tile in reach (``None``: none in reach)."""
    th = study.threats[tile.threat]
    pts = [
        (f"p{i}", float(a), float(o))
        for i, (a, o) in enumerate(zip(tile.lat, tile.lon, strict=True))
    ]
    parts = _aim(th, list(range(len(th.launch_areas))), pts, np.arange(len(pts)))
    if not parts:
        return None
    reach = np.zeros((len(th.launch_areas), len(pts)), dtype=bool)
    for _, _, area, idx in parts:
        reach[area, idx] = True
    return Prepared(parts, reach, [{} for _ in parts])


def defended_sums(tile: Tile, prep: Prepared, feasible: list[Any]) -> tuple[float, float]:
    """(population [persons], area [m²]) defended, from the feasible flags of each part."""
    ok = np.zeros(prep.reach.shape, dtype=bool)
    for (_, _, area, idx), f in zip(prep.parts, feasible, strict=True):
        ok[area, idx] = np.asarray(f, dtype=bool)
    reach = prep.reach
    defended = reach.any(0) & np.all(ok | ~reach, axis=0)
    return float(tile.population @ defended), float(tile.area @ defended)


def threatened_sums(tile: Tile, prep: Prepared | None) -> tuple[float, float]:
    """(population, area) threatened: reached from some launch area."""
    if prep is None:
        return 0.0, 0.0
    thr = prep.reach.any(0)
    return float(tile.population @ thr), float(tile.area @ thr)

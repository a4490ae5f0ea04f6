"""Reach of short-range threats: range rings about launch points and the places inside them.

A place is within reach when its WGS-84 geodesic distance to the *nearest* launch point is at
most the missile's range ``R`` (e.g. an Iskander-class 500 km from the Kaliningrad basing areas,
REFERENCES §5). The ring about a launch point is the geodesic circle of radius ``R``, sampled
by :func:`openbmd.earth.geodesic_direct` at evenly spaced azimuths, so every vertex lies at
exactly ``R`` from its centre. Pure NumPy; radians and metres inside, like the rest of the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from openbmd.earth import geodesic_direct, geodesic_inverse
from openbmd.errors import InputError

# Half the WGS-84 meridian circumference: no geodesic circle is larger than this.
MAX_RANGE_M = 20_003_931.0


def _check_range(range_m: float) -> float:
    r = float(range_m)
    if not (np.isfinite(r) and 0.0 < r <= MAX_RANGE_M):
        raise InputError(f"range: {r / 1e3:g} km is outside (0, {MAX_RANGE_M / 1e3:.0f}] km")
    return r


def distance_matrix(
    launch_lat: ArrayLike, launch_lon: ArrayLike, lat: ArrayLike, lon: ArrayLike
) -> NDArray[np.float64]:
    """Geodesic distances [m] of shape ``(places, launches)`` (all angles in radians)."""
    la = np.atleast_1d(np.asarray(launch_lat, dtype=float))
    lo = np.atleast_1d(np.asarray(launch_lon, dtype=float))
    pa = np.atleast_1d(np.asarray(lat, dtype=float))
    po = np.atleast_1d(np.asarray(lon, dtype=float))
    dist, _, _ = geodesic_inverse(la[None, :], lo[None, :], pa[:, None], po[:, None])
    return dist


def range_ring(
    lat: float, lon: float, range_m: float, n_points: int = 360
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Closed geodesic circle of radius ``range_m`` about ``(lat, lon)`` [rad].

    Returns ``(lat, lon)`` arrays of ``n_points + 1`` vertices [rad], the last repeating the
    first, walked counter-clockwise (west from north: GeoJSON's exterior-ring orientation).
    """
    r = _check_range(range_m)
    if n_points < 3:
        raise InputError(f"n_points: {n_points} must be at least 3")
    az = -np.linspace(0.0, 2.0 * np.pi, n_points + 1)
    lat2, lon2, _ = geodesic_direct(np.full_like(az, lat), np.full_like(az, lon), az, r)
    lat2[-1], lon2[-1] = lat2[0], lon2[0]
    return lat2, lon2


@dataclass(frozen=True)
class Reach:
    """Which places lie within ``range_m`` of the nearest of several launch points."""

    range_m: float
    launch_names: tuple[str, ...]
    place_names: tuple[str, ...]
    distance_m: NDArray[np.float64]  # (places,) to the nearest launch point
    nearest: NDArray[np.int64]  # (places,) index into launch_names
    inside: NDArray[np.bool_]  # (places,) distance_m <= range_m
    rings: tuple[tuple[NDArray[np.float64], NDArray[np.float64]], ...]  # per launch: (lat, lon)

    def nearest_launch(self, i: int) -> str:
        return self.launch_names[int(self.nearest[i])]


def reach(
    launch_names: Sequence[str],
    launch_lat: ArrayLike,
    launch_lon: ArrayLike,
    place_names: Sequence[str],
    place_lat: ArrayLike,
    place_lon: ArrayLike,
    range_m: float,
    n_points: int = 360,
) -> Reach:
    """Distances from every place to its nearest launch point, the in/out verdict and the rings.

    Angles in radians, range in metres. A place exactly at ``range_m`` counts as inside.
    """
    r = _check_range(range_m)
    la = np.atleast_1d(np.asarray(launch_lat, dtype=float))
    lo = np.atleast_1d(np.asarray(launch_lon, dtype=float))
    if la.shape != lo.shape or la.ndim != 1 or la.size == 0 or la.size != len(launch_names):
        raise InputError("launch points: need at least one, with as many names as coordinates")
    pa = np.atleast_1d(np.asarray(place_lat, dtype=float))
    po = np.atleast_1d(np.asarray(place_lon, dtype=float))
    if pa.shape != po.shape or pa.ndim != 1 or pa.size != len(place_names):
        raise InputError("places: need as many names as coordinates")
    if pa.size:
        d = distance_matrix(la, lo, pa, po)
        nearest = np.argmin(d, axis=1)
        dist = d[np.arange(pa.size), nearest]
    else:
        nearest = np.zeros(0, dtype=np.int64)
        dist = np.zeros(0)
    rings = tuple(range_ring(a, o, r, n_points) for a, o in zip(la, lo, strict=True))
    return Reach(
        range_m=r,
        launch_names=tuple(launch_names),
        place_names=tuple(place_names),
        distance_m=dist,
        nearest=nearest.astype(np.int64),
        inside=dist <= r,
        rings=rings,
    )

"""Coasting flight from a burnout state: closed form on a sphere, or the numeric propagator.

Both paths answer the same question — where and when does a body launched with a given
Earth-relative speed and flight-path angle come back down to a reentry altitude — so the
numeric propagator can be checked against Bate, Mueller & White's closed form.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openbmd import earth
from openbmd.constants import OMEGA_EARTH
from openbmd.targeting import SurfaceFlight, free_flight
from openbmd.trajectory import (
    EarthModel,
    StepSizes,
    coast_forcing,
    propagate,
    surface_distance,
    surface_point,
)

# Fine steps: the numeric coast is a reference for the closed form (no drag to resolve).
COAST_STEPS = StepSizes(boost=1.0, reentry=1.0, upper=2.0, vacuum=4.0, max_time=30000.0)


def numeric_free_flight(
    speed: Any,
    gamma: Any,
    alt0: Any,
    alt1: Any,
    lat0: Any,
    lon0: Any,
    azimuth: Any,
    model: EarthModel,
    steps: StepSizes = COAST_STEPS,
) -> SurfaceFlight:
    """Coast (no drag) from burnout states (arrays (N,)) with the batch propagator."""
    speed, gamma, alt0, alt1, lat0, lon0, azimuth = (
        np.atleast_1d(np.asarray(x, dtype=float))
        for x in np.broadcast_arrays(speed, gamma, alt0, alt1, lat0, lon0, azimuth)
    )
    n = speed.size
    r0 = surface_point(lat0, lon0, alt0, model)
    # Local horizon of the burnout point on the model's surface.
    basis = earth.enu_basis(lat0, lon0)
    hor = np.sin(azimuth)[:, None] * basis[:, 0] + np.cos(azimuth)[:, None] * basis[:, 1]
    v_rel = speed[:, None] * (np.cos(gamma)[:, None] * hor + np.sin(gamma)[:, None] * basis[:, 2])
    r_eci, v_eci = earth.ecef2eci_state(r0, v_rel, np.zeros(n), omega=model.omega)
    no_drag = EarthModel(model.shape, model.rotation, model.j2, atmosphere=False)
    traj = propagate(
        r_eci,
        v_eci,
        np.zeros(n),
        coast_forcing(n),
        np.full((n, 1), np.inf),
        alt1,
        lat0,
        lon0,
        no_drag,
        steps,
        record=False,
    )
    ilat, ilon = traj.impact_geodetic()
    dist = surface_distance(lat0, lon0, ilat, ilon, model)[0]
    return SurfaceFlight(dist, traj.events.impact_time, traj.events.apogee_alt, ilat, ilon)


def coast(
    speed: float,
    gamma: float,
    alt0: float,
    alt1: float,
    lat0: float,
    lon0: float,
    azimuth: float,
    shape: str = "sphere",
    rotation: bool = True,
    numeric: bool = False,
) -> SurfaceFlight:
    """One coast: closed form when the Earth is a sphere (unless ``numeric``), else numeric.

    On ``wgs84`` the numeric propagator includes J2; on the sphere gravity is a point mass.
    """
    if shape == "sphere" and not numeric:
        omega = OMEGA_EARTH if rotation else 0.0
        ff = free_flight(speed, gamma, alt0, alt1, lat0, lon0, azimuth, omega=omega)
        return SurfaceFlight(
            *(
                np.asarray(x)
                for x in (ff.range, ff.time_of_flight, ff.apogee_alt, ff.impact_lat, ff.impact_lon)
            )
        )
    model = EarthModel(shape=shape, rotation=rotation, j2=True, atmosphere=False)
    res = numeric_free_flight(speed, gamma, alt0, alt1, lat0, lon0, azimuth, model)
    return SurfaceFlight(
        *(
            x[0]
            for x in (res.range, res.time_of_flight, res.apogee_alt, res.impact_lat, res.impact_lon)
        )
    )

"""Interceptors: the vehicle (:mod:`~openbmd.interceptors.vehicle`), its fly-out fan
(:mod:`~openbmd.interceptors.fan`) and the fan's compiled kernels
(:mod:`~openbmd.interceptors._kernels`).

The sub-modules import one way only (fan → vehicle; fan → _kernels); this package re-exports
their public names.
"""

from openbmd.interceptors.fan import Flyout, FlyoutFan, flyout_fan, pitch_program_flight
from openbmd.interceptors.vehicle import (
    ISP_BAND,
    KV_LIMITS,
    LOAD_BAND,
    Interceptor,
    energy_levels,
    propellant_load,
    reference_burnout_speed,
    vehicle,
)

__all__ = [
    "ISP_BAND",
    "KV_LIMITS",
    "LOAD_BAND",
    "Flyout",
    "FlyoutFan",
    "Interceptor",
    "energy_levels",
    "flyout_fan",
    "pitch_program_flight",
    "propellant_load",
    "reference_burnout_speed",
    "vehicle",
]

"""Interceptors: the vehicle (:mod:`~openbmd.interceptors.vehicle`), its fly-out fan
(:mod:`~openbmd.interceptors.fan`) and the fan's compiled kernels
(:mod:`~openbmd.interceptors._kernels`).

The sub-modules import one way only (fan → vehicle; fan → _kernels); this package re-exports
their public names.
"""

from openbmd.interceptors.fan import Flyout, FlyoutFan, flyout_fan, pitch_program_flight
from openbmd.interceptors.vehicle import (
    KV_LIMITS,
    Interceptor,
    energy_levels,
    reference_burnout_speed,
    vehicle,
)

__all__ = [
    "KV_LIMITS",
    "Flyout",
    "FlyoutFan",
    "Interceptor",
    "energy_levels",
    "flyout_fan",
    "pitch_program_flight",
    "reference_burnout_speed",
    "vehicle",
]

"""The defence options shared by ``engage``, ``coverage``, ``deny`` and ``engageability``, and the
one function that turns them into an :class:`openbmd.architecture.Architecture`.

Every command starts from a bundled, dated architecture (``--architecture``, default
``third-site-2007``) so that no answer mixes eras unless the user overrides a part of it.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import typer

from openbmd.cli._common import fail, parse_place
from openbmd.constants import DEG

DEFAULT_ARCHITECTURE = "third-site-2007"
JSON = typer.Option(False, "--json", help="Print JSON.")
ARCHITECTURE = typer.Option(
    DEFAULT_ARCHITECTURE,
    "--architecture",
    help="Bundled architecture (openbmd architectures); the options below override parts.",
)
SITE = typer.Option(None, "--site", help="Override: one battery at this site (name or LAT,LON).")
INTERCEPTOR = typer.Option(None, "--interceptor", help="Override every battery's interceptor.")
BURNOUT = typer.Option(
    None, "--burnout-speed-kms", help="Override every interceptor's burnout speed, km/s."
)
SENSORS = typer.Option(
    None,
    "--sensors",
    help="Override the sensors (comma-separated names); a sensor not in the architecture is "
    "fire control if X-band, cue-only if space IR, else early warning.",
)
COMMIT = typer.Option(
    None, "--commit", help="Override what may commit a launch: fire-control-track | early-warning."
)
DECISION = typer.Option(None, "--decision-delay-s", help="Override the commit-to-launch delay, s.")
LATENCY = typer.Option(
    None,
    "--exchange-latency-s",
    help="Override the data-exchange latency a partner's radar adds (via_exchange sensors), s.",
)
MIN_CLOSING = typer.Option(
    None,
    "--min-closing-speed-kms",
    help="Override every kill vehicle's minimum closing speed, km/s (catalogue: 3.0).",
)
DIVERT = typer.Option(
    None, "--divert-mps", help="Override every kill vehicle's divert velocity budget, m/s."
)
SEEKER_FOV = typer.Option(
    None,
    "--seeker-fov-deg",
    help="Override every kill vehicle's seeker full field of view, deg (catalogue: 1.0; "
    "180 = no limit).",
)
RCS = typer.Option(
    None, "--rcs-m2", help="Override the threat radar cross-section every radar sees, m2."
)


# name → (option, type): the overrides every defence command takes, in --help order.
OPTIONS: dict[str, tuple[Any, Any]] = {
    "architecture": (ARCHITECTURE, str),
    "site": (SITE, str | None),
    "interceptor": (INTERCEPTOR, str | None),
    "burnout_speed_kms": (BURNOUT, float | None),
    "sensors": (SENSORS, str | None),
    "commit": (COMMIT, str | None),
    "decision_delay_s": (DECISION, float | None),
    "exchange_latency_s": (LATENCY, float | None),
    "min_closing_speed_kms": (MIN_CLOSING, float | None),
    "divert_mps": (DIVERT, float | None),
    "seeker_fov_deg": (SEEKER_FOV, float | None),
    "rcs_m2": (RCS, float | None),
}
# Numeric overrides → (Architecture.with_overrides key, scale to SI, valid closed range of the
# flag).
SWEEPABLE: dict[str, tuple[str, float, float, float]] = {
    "min_closing_speed_kms": ("min_closing_speed", 1e3, 0.0, 20.0),
    "divert_mps": ("divert", 1.0, 1e-9, 1e6),
    "seeker_fov_deg": ("seeker_fov", DEG, 1e-3, 180.0),
    "rcs_m2": ("rcs", 1.0, 1e-9, 1e6),
}


def architecture_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared architecture options; it receives them as ``arch_flags``.

    The command declares its own options and an ``arch_flags: dict`` parameter; the wrapper's
    signature (what Typer reads) replaces ``arch_flags`` by the options of :data:`OPTIONS`, so
    the four defence commands declare them once, here.
    """
    sig = inspect.signature(fn)
    own = [p for p in sig.parameters.values() if p.name != "arch_flags"]
    extra = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=kind)
        for n, (opt, kind) in OPTIONS.items()
    ]

    @functools.wraps(fn)
    def wrapper(**kw: Any) -> Any:
        flags = {n: kw.pop(n) for n in OPTIONS}
        return fn(**kw, arch_flags=flags)

    wrapper.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + extra
    )
    wrapper.__annotations__ = {
        **{k: v for k, v in fn.__annotations__.items() if k != "arch_flags"},
        **{n: kind for n, (_, kind) in OPTIONS.items()},
    }
    return wrapper


def speed_ms(value_kms: float | None, option: str = "--burnout-speed-kms") -> float | None:
    """A burnout speed option [km/s] → [m/s], checked (``None`` passes through)."""
    if value_kms is None:
        return None
    if not (math.isfinite(value_kms) and value_kms > 0.0):
        fail(f"{option}: {value_kms:g} km/s must be a positive number")
    if value_kms >= 11.0:
        fail(f"{option}: {value_kms:g} km/s is at or beyond escape speed; use < 11 km/s")
    return value_kms * 1e3


def _sensors(arch: Any, text: str) -> tuple[Any, ...]:
    from openbmd.architecture import SensorRole
    from openbmd.catalog.sensors import rcs_for, sensors_by_names

    known = {s.name.casefold(): s for s in arch.sensors}
    out = []
    for e in sensors_by_names(text, "--sensors"):
        if e.name.casefold() in known:
            out.append(known[e.name.casefold()])
            continue
        role = "fire-control" if e.band == "X" else "cue-only" if e.kind == "space-ir" else None
        out.append(SensorRole(e.model, role or "early-warning", rcs=rcs_for(e, None)))
    return tuple(out)


def architecture_from_flags(
    architecture: str,
    *,
    site: str | None = None,
    interceptor: str | None = None,
    burnout_speed_kms: float | None = None,
    sensors: str | None = None,
    commit: str | None = None,
    decision_delay_s: float | None = None,
    exchange_latency_s: float | None = None,
    min_closing_speed_kms: float | None = None,
    divert_mps: float | None = None,
    seeker_fov_deg: float | None = None,
    rcs_m2: float | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The bundled ``architecture`` with the overrides given; (architecture, overrides)."""
    from openbmd.architecture import COMMIT_RULES, Battery
    from openbmd.catalog.architectures import architecture as lookup_architecture
    from openbmd.catalog.interceptors import interceptor as lookup

    arch = lookup_architecture(architecture, "--architecture")
    over: dict[str, Any] = {}
    if commit is not None:
        if commit.strip().lower() not in COMMIT_RULES:
            fail(f"--commit: {commit!r} is not one of {', '.join(COMMIT_RULES)}")
        arch = replace(arch, rules=replace(arch.rules, commit=commit.strip().lower()))
        over["commit"] = arch.rules.commit
    if decision_delay_s is not None:
        if not (math.isfinite(decision_delay_s) and decision_delay_s >= 0.0):
            fail(f"--decision-delay-s: {decision_delay_s:g} s must be a number >= 0")
        arch = replace(arch, rules=replace(arch.rules, decision_delay=float(decision_delay_s)))
        over["decision_delay_s"] = float(decision_delay_s)
    if exchange_latency_s is not None:
        if not (math.isfinite(exchange_latency_s) and exchange_latency_s >= 0.0):
            fail(f"--exchange-latency-s: {exchange_latency_s:g} s must be a number >= 0")
        arch = arch.with_overrides(exchange_latency=float(exchange_latency_s))
        over["exchange_latency_s"] = float(exchange_latency_s)
    icp = lookup(interceptor, "--interceptor").model if interceptor else None
    if site is not None:
        label, lat, lon = parse_place(site, "--site")
        base = arch.batteries[0] if arch.batteries else None
        if icp is None and base is None:
            fail(f"--site: architecture {arch.name!r} has no battery; give --interceptor too")
        battery = Battery(
            label, lat * DEG, lon * DEG, icp or base.interceptor,  # type: ignore[union-attr]
            base.inventory if base else 10, base.doctrine if base else "shoot-look-shoot",
            base.salvo_size if base else 1,
        )  # fmt: skip
        arch = replace(arch, batteries=(battery,))
        over["site"] = label
    if icp is not None:
        arch = replace(arch, batteries=tuple(replace(b, interceptor=icp) for b in arch.batteries))
        over["interceptor"] = icp.name
    speed = speed_ms(burnout_speed_kms)
    if speed is not None:
        arch = arch.with_burnout_speed(speed)
        over["burnout_speed_kms"] = speed / 1e3
    if sensors is not None:
        arch = replace(arch, sensors=_sensors(arch, sensors))
        over["sensors"] = [s.name for s in arch.sensors]
    given = {"min_closing_speed_kms": min_closing_speed_kms, "divert_mps": divert_mps,
             "seeker_fov_deg": seeker_fov_deg, "rcs_m2": rcs_m2}  # fmt: skip
    for flag, value in given.items():
        if value is None:
            continue
        key, scale, lo, hi = SWEEPABLE[flag]
        if not (math.isfinite(value) and lo <= value <= hi):
            fail(f"--{flag.replace('_', '-')}: {value:g} must be a number in [{lo:g}, {hi:g}]")
        arch = arch.with_overrides(**{key: value * scale})
        over[flag] = float(value)
    return arch, over


def architecture_block(arch: Any, overrides: dict[str, Any]) -> dict[str, Any]:
    """The ``architecture`` block of every defence command's JSON: every rule value used."""
    return {**arch.to_dict(), "overrides": overrides}


def require_batteries(arch: Any) -> None:
    """Commands that draw a battery (maps, titles) need at least one."""
    if not arch.batteries:
        fail(f"--architecture: {arch.name!r} has no battery; give --site and --interceptor")

"""A validated :class:`~openbmd.scenario.schema.Scenario` turned into a core-object
:class:`~openbmd.analysis.study.Study`, once: names looked up in the catalogue, units to SI.

Rules of the conversion (each is stated in the report's assumptions):

* A bundled architecture keeps every catalogued value unless an override replaces it;
  ``label`` renames its column. Overridden sensors keep the catalogue's ``needs_cue`` flag of
  the architecture's own sensor of that name (the EMR cannot search), else ``False``.
* The scenario's commit rules ``fire-control`` / ``early-warning`` are the core's
  ``fire-control-track`` / ``early-warning``.
* An inline architecture is dated ``scenario-defined`` and sourced to the scenario file.
* The study's aimpoints are every city of ``data/cities.csv`` (population) plus the scenario's
  named targets (defended and threat targets) that are not cities (population 0).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openbmd.analysis.study import Aimpoint, DefendedRegion, Point, Study, ThreatClass
from openbmd.architecture import Architecture, Battery, CommandRules, SensorRole
from openbmd.catalog import missile as lookup_missile
from openbmd.catalog.architectures import (
    architecture as lookup_architecture,
)
from openbmd.catalog.architectures import (
    battery_from_entry,
    sensor_role_from_entry,
)
from openbmd.catalog.interceptors import interceptor as lookup_interceptor
from openbmd.catalog.missiles import missile_from_entry
from openbmd.catalog.places import fold_name, load_cities, place
from openbmd.constants import DEG
from openbmd.missiles import Missile
from openbmd.scenario import schema

__all__ = ["COMMIT", "to_study"]

#: Scenario commit rule → core rule (:data:`openbmd.architecture.COMMIT_RULES`).
COMMIT = {"fire-control": "fire-control-track", "early-warning": "early-warning"}


def _point(value: Any, where: str) -> Point:
    if isinstance(value, schema.LatLon):
        name = value.name or f"{value.lat_deg:g},{value.lon_deg:g}"
        return (name, value.lat_deg * DEG, value.lon_deg * DEG)
    p = place(str(value), where)
    return (p.name, p.lat_deg * DEG, p.lon_deg * DEG)


def _missile(spec: Any, where: str) -> Missile:
    if isinstance(spec, schema.InlineMissile):
        entry = spec.model_dump(by_alias=True, exclude_none=True)
        if spec.thrust_termination is None:
            entry["thrust_termination"] = spec.propellant == "liquid"
        return missile_from_entry(entry, where)
    found: Missile = lookup_missile(str(spec), where)
    return found


def _sensor_roles(uses: list[schema.SensorUse], base: Architecture, where: str) -> tuple[Any, ...]:
    known = {s.name.casefold(): s for s in base.sensors}
    out = []
    for j, u in enumerate(uses):
        own = known.get(u.name.casefold())
        entry = {
            "name": u.name,
            "role": u.role,
            "owner": u.owner,
            "latency_s": u.latency_s,
            "via_exchange": u.via_exchange,
            "needs_cue": own.needs_cue if own is not None else False,
        }
        role: SensorRole = sensor_role_from_entry(entry, f"{where}[{j}]")
        out.append(role)
    return tuple(out)


def _bundled(ref: schema.ArchitectureRef, where: str) -> Architecture:
    arch = lookup_architecture(ref.name, f"{where}.name")
    o = ref.overrides
    if ref.label:
        arch = replace(arch, name=ref.label)
    if o.burnout_speed_kms is not None:
        arch = arch.with_burnout_speed(o.burnout_speed_kms * 1e3)
    if o.decision_delay_s is not None:
        arch = replace(arch, rules=replace(arch.rules, decision_delay=o.decision_delay_s))
    if o.exchange_latency_s is not None:
        arch = replace(arch, exchange_latency=o.exchange_latency_s)
    if o.commit is not None:
        arch = replace(arch, rules=replace(arch.rules, commit=COMMIT[o.commit]))
    if o.sensors is not None:
        arch = replace(arch, sensors=_sensor_roles(o.sensors, arch, f"{where}.overrides.sensors"))
    # After the sensors, so that the cross-section applies to the radars finally used.
    closing = o.min_closing_speed_kms
    return arch.with_overrides(
        min_closing_speed=None if closing is None else closing * 1e3,
        divert=o.divert_mps,
        seeker_fov=None if o.seeker_fov_deg is None else o.seeker_fov_deg * DEG,
        rcs=o.rcs_m2,
    )


def _battery(b: schema.Battery, where: str) -> Battery:
    if isinstance(b.site, schema.LatLon):
        name, lat, lon = _point(b.site, f"{where}.site")
        bat = Battery(
            name, lat, lon, lookup_interceptor(b.interceptor, f"{where}.interceptor").model,
            b.inventory, b.doctrine, b.salvo_size,
        )  # fmt: skip
    else:
        entry = b.model_dump(exclude={"burnout_speed_kms"})
        bat = battery_from_entry(entry, where)
    if b.burnout_speed_kms is not None:
        bat = replace(
            bat, interceptor=bat.interceptor.with_burnout_speed(b.burnout_speed_kms * 1e3)
        )
    return bat


def _inline(spec: schema.InlineArchitecture, scenario: str, where: str) -> Architecture:
    r = spec.rules
    return Architecture(
        name=spec.name,
        era="scenario-defined",
        source=f"defined in scenario {scenario!r}"
        + (f": {spec.description}" if spec.description else ""),
        batteries=tuple(
            _battery(b, f"{where}.batteries[{j}]") for j, b in enumerate(spec.batteries)
        ),
        sensors=_sensor_roles(
            spec.sensors, Architecture(name="-", era="-", source="-"), f"{where}.sensors"
        ),
        rules=CommandRules(commit=COMMIT[r.commit], decision_delay=r.decision_delay_s),
        exchange_latency=r.exchange_latency_s,
    )


def _aimpoints(sc: schema.Scenario) -> tuple[Aimpoint, ...]:
    out = {fold_name(c.name): Aimpoint(c.name, c.lat_deg, c.lon_deg, c.population, c.country)
           for c in load_cities()}  # fmt: skip
    named = list(sc.defended.targets) + [t for th in sc.threats for t in th.targets]
    for j, t in enumerate(named):
        name, lat, lon = _point(t, f"defended.targets[{j}]")
        key = fold_name(name)
        if key not in out:
            country = "" if isinstance(t, schema.LatLon) else place(str(t)).country
            out[key] = Aimpoint(name, lat / DEG, lon / DEG, 0, country)
    return tuple(out.values())


def to_study(sc: schema.Scenario) -> Study:
    """The :class:`Study` of a validated scenario (see the module docstring for the rules)."""
    archs = []
    for i, spec in enumerate(sc.architectures):
        where = f"architectures[{i}]"
        if isinstance(spec, schema.InlineArchitecture):
            archs.append(_inline(spec, sc.name, where))
        else:
            archs.append(_bundled(spec, where))
    threats = tuple(
        ThreatClass(
            name=t.name,
            missile=_missile(t.missile, f"threats[{i}].missile"),
            launch_areas=tuple(
                _point(a, f"threats[{i}].launch_areas[{j}]") for j, a in enumerate(t.launch_areas)
            ),
            targets=tuple(_point(a, f"threats[{i}].targets[{j}]") for j, a in enumerate(t.targets)),
            shape=t.shape,
            regions=None if t.regions is None else tuple(t.regions),
        )
        for i, t in enumerate(sc.threats)
    )
    regions = tuple(
        DefendedRegion(r.name, (r.lat_min_deg, r.lat_max_deg, r.lon_min_deg, r.lon_max_deg))
        for r in sc.defended.regions
    )
    sw = sc.sweeps
    analyses = {k: getattr(sc.analyses, k).model_dump() for k in sc.analyses.selected()}
    return Study(
        name=sc.name,
        description=sc.description,
        epoch=sc.epoch,
        architectures=tuple(archs),
        threats=threats,
        regions=regions,
        aimpoints=_aimpoints(sc),
        burnout_speeds=tuple(v * 1e3 for v in sw.burnout_speed_kms or ()),
        swept_interceptors=None
        if sw.burnout_speed_interceptors is None
        else tuple(sw.burnout_speed_interceptors),
        exchange_latencies=tuple(sw.exchange_latency_s or ()),
        decision_delays=tuple(sw.decision_delay_s or ()),
        analyses=analyses,
    )

"""The scenario file as pydantic v2 models (strict types, unknown keys rejected).

A scenario file is written by people, so its quantities carry their unit in the field name, as
in the catalogue's ``data/*.yaml``: ``lat_deg``/``lon_deg`` (degrees, north and east positive),
``*_km`` (kilometres), ``*_kms`` (km/s), ``*_s`` (seconds), ``*_kg``, ``*_m``, ``*_n``. Every
quantity field has such a suffix; nothing else is a quantity. The conversion to the core's SI
objects happens above this module, once, when the scenario is turned into ``Architecture``
objects and threats.

Names (missiles, sites, cities, interceptors, sensors, bundled architectures) are checked
against the catalogue while validating, so a model that validates refers only to things that
exist. Union fields (a catalogue name *or* an inline definition) are discriminated by the shape
of the input: a string is a name, a mapping is an inline definition.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from openbmd.scenario import names

__all__ = [
    "TAGS",
    "Analyses",
    "ArchitectureRef",
    "Battery",
    "Defended",
    "InlineArchitecture",
    "InlineMissile",
    "LatLon",
    "Overrides",
    "Region",
    "Rules",
    "Scenario",
    "SensorUse",
    "Stage",
    "Sweeps",
    "Threat",
    "UncertainParameter",
]

#: Tags of the discriminated unions; they appear in pydantic's error locations and are dropped
#: from the field paths shown to users.
TAGS = ("by-name", "point", "inline", "bundled")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Latitude = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
#: Burnout speeds of the debate lie between 1 and 12 km/s (REFERENCES §4).
BurnoutKms = Annotated[float, Field(ge=1.0, le=12.0, allow_inf_nan=False)]
Text = Annotated[str, Field(min_length=1)]

SiteName = Annotated[str, AfterValidator(names.check_site)]
TargetName = Annotated[str, AfterValidator(names.check_target)]
MissileName = Annotated[str, AfterValidator(names.check_missile)]
InterceptorName = Annotated[str, AfterValidator(names.check_interceptor)]
SensorName = Annotated[str, AfterValidator(names.check_sensor)]
ArchitectureName = Annotated[str, AfterValidator(names.check_architecture)]


def _by_shape(inline_tag: str) -> Any:
    """A discriminator: a mapping is the inline form, anything else a name."""

    def pick(value: Any) -> str:
        return inline_tag if isinstance(value, dict) or isinstance(value, BaseModel) else "by-name"

    return Discriminator(pick)


class LatLon(_Model):
    """A point given by its coordinates (degrees), with an optional label."""

    lat_deg: Latitude
    lon_deg: Longitude
    name: Text | None = None


Place = Annotated[
    Annotated[SiteName, Tag("by-name")] | Annotated[LatLon, Tag("point")], _by_shape("point")
]
Target = Annotated[
    Annotated[TargetName, Tag("by-name")] | Annotated[LatLon, Tag("point")], _by_shape("point")
]


class Stage(_Model):
    """One stage of an inline missile, with the fields of ``data/missiles.yaml``."""

    gross_mass_kg: Positive
    propellant_mass_kg: Positive
    burn_time_s: Positive
    diameter_m: Positive
    isp_s: Positive | None = None
    thrust_n: Positive | None = None

    @model_validator(mode="after")
    def _propellant_fits(self) -> Stage:
        if self.propellant_mass_kg >= self.gross_mass_kg:
            raise ValueError("propellant_mass_kg must be below gross_mass_kg")
        if self.isp_s is None and self.thrust_n is None:
            raise ValueError("give isp_s or thrust_n")
        return self


class Drag(_Model):
    mach: list[Annotated[float, Field(ge=0.0)]] = Field(min_length=2)
    cd: list[Annotated[float, Field(ge=0.0)]] = Field(min_length=2)

    @model_validator(mode="after")
    def _same_length(self) -> Drag:
        if len(self.mach) != len(self.cd):
            raise ValueError("mach and cd must have the same length")
        return self


class InlineMissile(_Model):
    """A missile class defined in the scenario, with the fields of ``data/missiles.yaml``."""

    name: Text
    stages: list[Stage] = Field(min_length=1)
    rv_mass_kg: Positive
    rv_beta_kg_m2: Positive
    nominal_range_km: Positive
    vertical_time_s: Seconds = 10.0
    kick_time_s: Seconds = 10.0
    propellant: Literal["liquid", "solid"] | None = None
    source: str = ""
    aliases: list[Text] = Field(default_factory=list)
    drag: Drag | None = None
    klass: str = Field("", alias="class")
    #: Can the motor be cut off (liquid engines); default: true for liquid propellant.
    thrust_termination: bool | None = None


MissileSpec = Annotated[
    Annotated[MissileName, Tag("by-name")] | Annotated[InlineMissile, Tag("inline")],
    _by_shape("inline"),
]


class Threat(_Model):
    """Missiles of one class flown from launch areas on one trajectory shape."""

    name: Text
    missile: MissileSpec
    launch_areas: list[Place] = Field(min_length=1)
    shape: Literal["min-energy", "lofted", "depressed"] = "min-energy"
    targets: list[Target] = Field(default_factory=list)
    #: Defended regions (by name) whose footprint is computed against this threat; default all.
    regions: list[Text] | None = None


class Region(_Model):
    """A latitude/longitude box (degrees)."""

    name: Text
    lat_min_deg: Latitude
    lat_max_deg: Latitude
    lon_min_deg: Longitude
    lon_max_deg: Longitude

    @model_validator(mode="after")
    def _ordered(self) -> Region:
        if self.lat_min_deg >= self.lat_max_deg:
            raise ValueError("lat_min_deg must be below lat_max_deg")
        if self.lon_min_deg >= self.lon_max_deg:
            raise ValueError("lon_min_deg must be below lon_max_deg")
        return self


class Defended(_Model):
    """What is defended: boxes and named targets (catalogue sites or cities)."""

    regions: list[Region] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)


Role = Literal["early-warning", "fire-control", "cue-only"]
#: ``fire-control``: only a fire-control radar's track commits a launch; ``early-warning``: an
#: early-warning cue may commit too (core: ``fire-control-track`` / ``early-warning``).
CommitRule = Literal["early-warning", "fire-control"]


class SensorUse(_Model):
    """A catalogue sensor as a part of an architecture: its role, owner and data latency."""

    name: SensorName
    role: Role
    owner: Text = "US"
    latency_s: Seconds = 0.0
    via_exchange: bool = False


class Battery(_Model):
    """Interceptors of one type at one site."""

    site: Place
    interceptor: InterceptorName
    inventory: Annotated[int, Field(ge=1)]
    doctrine: Literal["shoot-look-shoot", "salvo"] = "shoot-look-shoot"
    salvo_size: Annotated[int, Field(ge=1, le=8)] = 1
    burnout_speed_kms: BurnoutKms | None = None


class Rules(_Model):
    """Command rules: what a commit needs and how long decisions and data take."""

    commit: CommitRule = "fire-control"
    decision_delay_s: Seconds = 60.0
    exchange_latency_s: Seconds = 0.0


class Overrides(_Model):
    """Changes to a bundled architecture."""

    burnout_speed_kms: BurnoutKms | None = None
    decision_delay_s: Seconds | None = None
    exchange_latency_s: Seconds | None = None
    sensors: list[SensorUse] | None = None
    commit: CommitRule | None = None
    #: Kill-vehicle limits of every battery and the radar cross-section every radar sees (the
    #: defence commands' flags of the same names).
    min_closing_speed_kms: Annotated[float, Field(ge=0.0, le=20.0, allow_inf_nan=False)] | None = (
        None
    )
    divert_mps: Positive | None = None
    seeker_fov_deg: Annotated[float, Field(gt=0.0, le=180.0, allow_inf_nan=False)] | None = None
    rcs_m2: Positive | None = None


class ArchitectureRef(_Model):
    """A bundled architecture by name, optionally changed by ``overrides``."""

    name: ArchitectureName
    label: Text | None = None
    overrides: Overrides = Field(default_factory=Overrides)


class InlineArchitecture(_Model):
    """An architecture defined in full in the scenario (marked by its ``batteries`` key)."""

    name: Text
    description: str = ""
    #: Required (``[]`` for none): its presence is what marks the definition as inline.
    batteries: list[Battery]
    sensors: list[SensorUse] = Field(default_factory=list)
    rules: Rules = Field(default_factory=Rules)

    @field_validator("name")
    @classmethod
    def _not_bundled(cls, value: str) -> str:
        bundled = names.architecture_names() or ()
        if value.casefold() in (b.casefold() for b in bundled):
            raise ValueError(
                f"{value!r} is a bundled architecture; give the inline one its own name "
                "(or drop batteries/sensors/rules and use overrides)"
            )
        return value


def _architecture_kind(value: Any) -> str:
    if isinstance(value, InlineArchitecture):
        return "inline"
    if isinstance(value, dict) and "batteries" in value:
        return "inline"
    return "bundled"


ArchitectureSpec = Annotated[
    Annotated[ArchitectureRef, Tag("bundled")] | Annotated[InlineArchitecture, Tag("inline")],
    Discriminator(_architecture_kind),
]


class Sweeps(_Model):
    """Parameters to sweep; each list gives the values to try."""

    burnout_speed_kms: list[BurnoutKms] | None = Field(default=None, min_length=1)
    #: The interceptors whose burnout speed is swept (default: every battery's).
    burnout_speed_interceptors: list[InterceptorName] | None = Field(default=None, min_length=1)
    decision_delay_s: list[Seconds] | None = Field(default=None, min_length=1)
    exchange_latency_s: list[Seconds] | None = Field(default=None, min_length=1)


GridDeg = Annotated[float, Field(gt=0.0, le=10.0)]


class GridOptions(_Model):
    grid_deg: GridDeg = 1.0


class EngageabilityOptions(_Model):
    #: Sampling step of the aimed trajectories [s].
    step_s: Annotated[float, Field(gt=0.0, le=60.0)] = 2.0


class ReachOptions(_Model):
    #: Ring radius [km]; default: each short-range missile's catalogued nominal range.
    max_range_km: Positive | None = None
    #: Threat classes with a nominal range at most this [km] get the reach question.
    short_range_km: Positive = 1000.0


class TimelineOptions(_Model):
    step_s: Positive = 10.0


class Analyses(_Model):
    """Which analyses to run; an absent key is not run, ``{}`` or nothing runs with defaults."""

    footprint: GridOptions | None = None
    engageability: EngageabilityOptions | None = None
    reach: ReachOptions | None = None
    timeline: TimelineOptions | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_key_runs_with_defaults(cls, value: Any) -> Any:
        # ``footprint:`` with nothing after it means "run it with its defaults".
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    def selected(self) -> list[str]:
        return [k for k in type(self).model_fields if getattr(self, k) is not None]


#: Distributions of an ``uncertain:`` entry and the parameters each takes (in SI units of the
#: path's field).
DISTRIBUTION_ARGS = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "truncnormal": ("mean", "sd", "low", "high"),
    "triangular": ("low", "mode", "high"),
    "loguniform": ("low", "high"),
    "choice": ("values",),
}
_FINITE = Annotated[float, Field(allow_inf_nan=False)]


class UncertainParameter(_Model):
    """One uncertain parameter of a campaign: a path in the scenario (SI field names, e.g.
    ``interceptors.GBI-2.burnout_speed``), a distribution with its parameters in that field's
    SI unit, and its source. ``from: catalogue`` takes ``low``/``high`` from the catalogue's
    range (uniform and log-uniform). ``quantum``: values are used rounded to this grid."""

    path: Text
    distribution: Literal["uniform", "normal", "truncnormal", "triangular", "loguniform", "choice"]
    low: _FINITE | None = None
    high: _FINITE | None = None
    mean: _FINITE | None = None
    sd: Positive | None = None
    mode: _FINITE | None = None
    values: list[_FINITE] | None = Field(default=None, min_length=1)
    from_: Literal["catalogue"] | None = Field(default=None, alias="from")
    source: Text | None = None
    quantum: Positive | None = None

    @model_validator(mode="after")
    def _arguments(self) -> UncertainParameter:
        need = DISTRIBUTION_ARGS[self.distribution]
        if self.from_ == "catalogue":
            if self.distribution not in ("uniform", "loguniform"):
                raise ValueError("from: catalogue gives a range: use uniform or loguniform")
            need = ()
        elif self.source is None:
            raise ValueError("give the value's source (or from: catalogue)")
        given = {
            k
            for k in ("low", "high", "mean", "sd", "mode", "values")
            if getattr(self, k) is not None
        }
        if missing := [k for k in need if k not in given]:
            raise ValueError(f"{self.distribution} needs {', '.join(missing)}")
        if extra := sorted(given - set(need)):
            raise ValueError(
                f"{self.distribution} takes {', '.join(need) or 'no arguments here'}, "
                f"not {', '.join(extra)}"
            )
        lo, hi = self.low, self.high
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"low ({lo:g}) must be below high ({hi:g})")
        if (
            self.mode is not None
            and lo is not None
            and hi is not None
            and not lo <= self.mode <= hi
        ):
            raise ValueError(f"mode ({self.mode:g}) must lie in [low, high]")
        if self.distribution == "loguniform" and lo is not None and lo <= 0:
            raise ValueError("loguniform needs low > 0")
        return self


class CampaignOptions(_Model):
    """How the ``uncertain:`` block is run by ``openbmd analyze`` (``openbmd campaign`` too,
    unless its flags say otherwise)."""

    #: Trials (``analyze --trials`` overrides it).
    trials: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    #: SeedSequence root of the trials.
    seed: Annotated[int, Field(ge=0)] = 0
    #: Grid of the per-trial footprint [deg] (cells aimed directly, with the region's cities);
    #: ``null``: no footprint question per trial.
    footprint_grid_deg: Annotated[float, Field(gt=0.0, le=45.0)] | None = 5.0


class Scenario(_Model):
    """One scenario: threats, what is defended, the architectures compared and the questions."""

    name: Text
    description: str = ""
    epoch: datetime = Field(strict=False, description="UTC, ISO 8601 (e.g. 2009-09-17T00:00:00Z)")
    threats: list[Threat] = Field(min_length=1)
    defended: Defended = Field(default_factory=Defended)
    architectures: list[ArchitectureSpec] = Field(min_length=1)
    sweeps: Sweeps = Field(default_factory=Sweeps)
    analyses: Analyses = Field(default_factory=Analyses)
    #: Parameters drawn per trial by ``openbmd campaign`` (paths checked by the loader).
    uncertain: list[UncertainParameter] = Field(default_factory=list)
    campaign: CampaignOptions = Field(default_factory=CampaignOptions)

    @field_validator("threats", "architectures")
    @classmethod
    def _unique_names(cls, items: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for item in items:
            key = item.name.casefold()
            if key in seen:
                raise ValueError(f"the name {item.name!r} is used twice (names must be unique)")
            seen.add(key)
        return items

    @model_validator(mode="after")
    def _known_regions(self) -> Scenario:
        known = [r.name for r in self.defended.regions]
        for i, t in enumerate(self.threats):
            for j, r in enumerate(t.regions or ()):
                if r not in known:
                    hint = names.did_you_mean(r, known)
                    raise ValueError(
                        f"threats[{i}].regions[{j}]: unknown region {r!r}{hint}; "
                        f"valid: {', '.join(known) or 'none (defended.regions is empty)'}"
                    )
        return self

    @field_validator("epoch", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("expected an ISO 8601 UTC time such as 2009-09-17T00:00:00Z")
        return value

    @field_validator("epoch")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() != timedelta(0):
            raise ValueError("must be UTC (end with Z or +00:00)")
        return value

    def summary(self) -> str:
        """One line: what the scenario holds."""
        archs = ", ".join(a.name for a in self.architectures)
        sweeps = [f"{k} ×{len(v)}" for k, v in self.sweeps if v and not k.endswith("interceptors")]
        return (
            f"{self.name}: {len(self.threats)} threat(s), {len(self.architectures)} "
            f"architecture(s) ({archs}), sweeps: {', '.join(sweeps) or 'none'}, analyses: "
            f"{', '.join(self.analyses.selected()) or 'none'}"
        )

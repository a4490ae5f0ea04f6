"""The sensor catalogue (``data/sensors.yaml``) turned into :mod:`openbmd.sensors` objects.

A user layer: it reads and validates YAML so the core does not. Uncertain values are written
``{value: V, range: [LO, HI]}``; the model uses V and the range is kept on the entry
(:attr:`CatalogSensor.ranges`) for sweeps. Every problem is a
:class:`~openbmd.errors.ScenarioError` naming the file and field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openbmd.catalog._yaml import (
    check_unique_names,
    entries,
    find_by_name,
    pair,
    read_data_yaml,
    require,
    value_with_range,
)
from openbmd.catalog.places import site
from openbmd.constants import DEG
from openbmd.errors import InputError, ScenarioError
from openbmd.sensors import Radar, SpaceIR

__all__ = ["CatalogSensor", "load_sensors", "rcs_for", "sensor", "sensors_by_names"]

FILE = "data/sensors.yaml"


@dataclass(frozen=True)
class CatalogSensor:
    """A catalogue entry: the sensor model and what the catalogue says about it."""

    name: str
    model: Radar | SpaceIR
    aliases: tuple[str, ...] = ()
    band: str = ""
    reference_rcs_m2: float = float("nan")
    published_range_km: tuple[float, float] = (float("nan"), float("nan"))
    track_capacity: int | None = None  # most threats tracked at once (None: no limit)
    citations: tuple[str, ...] = ()
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "radar" if isinstance(self.model, Radar) else "space-ir"


def _radar(entry: dict[str, Any], where: str) -> CatalogSensor:
    name = require(entry, "name", where, str)
    rg: dict[str, tuple[float, float]] = {}

    def v(key: str, default: Any = None) -> float:
        return value_with_range(entry, key, where, rg, default)

    place = site(require(entry, "site", where, str), f"{where}.site")
    try:
        model = Radar(
            name=name, lat=place.lat_deg * DEG, lon=place.lon_deg * DEG, alt=v("alt_m", 0.0),
            boresight_az=v("boresight_az_deg") * DEG, az_span=v("az_span_deg") * DEG,
            el_min=v("el_min_deg") * DEG, el_max=v("el_max_deg") * DEG,
            min_elevation=v("min_elevation_deg") * DEG,
            max_range=v("instrumented_range_km") * 1e3, frequency=v("frequency_hz"),
            peak_power=v("peak_power_w"), pulse_width=v("pulse_width_s"),
            pulses=int(v("pulses", 1)), gain_db=v("gain_db"), noise_temp=v("noise_temp_k"),
            loss_db=v("loss_db", 0.0), snr_threshold_db=v("snr_threshold_db"),
            revisit=v("revisit_s"), sigma_range=v("sigma_range_m"),
            sigma_az=v("sigma_az_mrad") * 1e-3, sigma_el=v("sigma_el_mrad") * 1e-3,
            pd_model=str(entry.get("pd_model", "threshold")),
        )  # fmt: skip
    except InputError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    return CatalogSensor(
        name=name, model=model, aliases=tuple(str(a) for a in entry.get("aliases", ())),
        band=str(entry.get("band", "")), reference_rcs_m2=v("reference_rcs_m2"),
        published_range_km=pair(entry.get("published_range_km"), f"{where}.published_range_km"),
        citations=tuple(str(c) for c in entry.get("citations", ())), ranges=rg,
        track_capacity=None if "track_capacity" not in entry else int(v("track_capacity")),
    )  # fmt: skip


def _space_ir(entry: dict[str, Any], where: str) -> CatalogSensor:
    name = require(entry, "name", where, str)
    rg: dict[str, tuple[float, float]] = {}
    lons = entry.get("sat_lons_deg")
    if not isinstance(lons, list) or not lons:
        raise ScenarioError(f"{where}.sat_lons_deg: expected a non-empty list of longitudes")
    try:
        model = SpaceIR(
            name=name, sat_lons=tuple(float(x) * DEG for x in lons),
            cloud_top=value_with_range(entry, "cloud_top_m", where, rg),
            processing_delay=value_with_range(entry, "processing_delay_s", where, rg),
            revisit=value_with_range(entry, "revisit_s", where, rg),
            sigma_los=value_with_range(entry, "sigma_los_urad", where, rg) * 1e-6,
        )  # fmt: skip
    except (InputError, TypeError, ValueError) as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    return CatalogSensor(name=name, model=model,
                         aliases=tuple(str(a) for a in entry.get("aliases", ())), band="IR",
                         citations=tuple(str(c) for c in entry.get("citations", ())),
                         ranges=rg)  # fmt: skip


@functools.cache
def load_sensors() -> tuple[CatalogSensor, ...]:
    """Every sensor of ``data/sensors.yaml``, radars first."""
    doc = read_data_yaml("sensors.yaml")
    out = entries(doc, "sensors.yaml", "radars", _radar)
    out += entries(doc, "sensors.yaml", "space_ir", _space_ir)
    check_unique_names(out, FILE, "sensor")
    return tuple(out)


def sensor(name: str, field: str = "sensors") -> CatalogSensor:
    """Look up one sensor by name or alias (case-insensitive); list the valid ones on a miss."""
    found: CatalogSensor = find_by_name(load_sensors(), name, "sensor", field)
    return found


def sensors_by_names(text: str | None, field: str = "sensors") -> list[CatalogSensor]:
    """Resolve ``"EMR,Gabala"`` in the order given; ``None`` means every sensor.

    Parameters
    ----------
    text : str or None
        Comma-separated sensor names or aliases; ``None`` selects the whole catalogue.
    field : str
        Field path of the list, carried by the error (an entry is ``field[i]``).

    Raises
    ------
    InputError
        If ``text`` names no sensor at all (``""`` or ``" , "``): an empty list is an error,
        not a silent default.
    UnknownNameError
        If a name is not in the catalogue.
    """
    if text is None:
        return list(load_sensors())
    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        valid = ", ".join(s.name for s in load_sensors())
        raise InputError(
            field=field, message=f"the sensor list {text!r} is empty; name at least one of: {valid}"
        )
    out = [sensor(n, f"{field}[{i}]") for i, n in enumerate(names)]
    return list({id(s): s for s in out}.values())


def rcs_for(entry: CatalogSensor, rcs_m2: float | None) -> float:
    """The RCS to use with a sensor: the user's, else the entry's reference RCS."""
    if rcs_m2 is not None:
        return float(rcs_m2)
    return float(entry.reference_rcs_m2) if np.isfinite(entry.reference_rcs_m2) else 1.0

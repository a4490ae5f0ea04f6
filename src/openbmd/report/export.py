"""The report's data exports: GeoJSON, KML, CZML, NetCDF and CSV tables.

:func:`write_exports` writes into ``data_dir`` (the report's ``data/`` folder):

* ``footprints.geojson`` / ``footprints.kml`` — :mod:`openbmd.report.features`;
* ``trajectories.czml`` — a CZML document (JSON array, first packet ``id: document``): one
  packet per representative trajectory (positions as ``cartographicDegrees`` = [t, lon, lat,
  height] after the study's epoch), one per first intercept on it, and one per site;
* ``grids.nc`` — netCDF-4 (h5netcdf), one group per defended region holding its footprint
  Dataset (dims ``architecture``, ``threat``, ``lat``, ``lon``, ``city``) with CF-1.8
  attributes;
* ``tables/*.csv`` — the ledger, population defended by country, engageability fraction,
  timelines and reach.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from openbmd.analysis.compare import Comparison
from openbmd.analysis.ledger import Ledger, ledger
from openbmd.report.features import collect_features, sites, write_geojson, write_kml

__all__ = ["footprint_grid", "write_czml", "write_exports", "write_grids", "write_tables"]

_LONG_NAMES = {
    "defended": "grid point defended (at least one feasible intercept from every launch area)",
    "threatened": "grid point within reach of at least one launch area",
    "shot_opportunities": "feasible shot opportunities",
    "intercept_altitude": "altitude of the first feasible intercept",
    "city_defended": "city defended",
    "city_threatened": "city within reach",
    "city_population": "city population",
    "city_country": "ISO 3166-1 alpha-2 country code of the city",
}


def _iso(c: Comparison, seconds: float = 0.0) -> str:
    t = c.study.epoch + timedelta(seconds=float(seconds))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _solid(*rgba: int) -> dict[str, Any]:
    return {"solidColor": {"color": {"rgba": list(rgba)}}}


def write_czml(c: Comparison, path: Path) -> None:
    """Representative trajectories, their first intercepts and the sites as CZML."""
    ends = [float(ds.attrs["impact_time_s"]) for ds in c.timelines.values()] or [3600.0]
    packets: list[dict[str, Any]] = [
        {
            "id": "document",
            "name": c.study.name,
            "version": "1.0",
            "clock": {
                "interval": f"{_iso(c)}/{_iso(c, max(ends))}",
                "currentTime": _iso(c),
                "multiplier": 10,
            },
        }
    ]
    for threat, ds in c.timelines.items():
        t = ds["time"].values
        lat, lon, alt = (ds[k].values for k in ("track_lat", "track_lon", "track_alt"))
        ok = np.isfinite(lat) & np.isfinite(lon) & np.isfinite(alt)
        samples = np.column_stack([t[ok], lon[ok], lat[ok], alt[ok]]).round(3).ravel().tolist()
        if not samples:
            continue
        packets.append(
            {
                "id": f"trajectory/{threat}",
                "name": f"{threat}: {ds.attrs['launch_area']} → {ds.attrs['target']}",
                "availability": f"{_iso(c, t[ok][0])}/{_iso(c, t[ok][-1])}",
                "position": {"epoch": _iso(c), "cartographicDegrees": samples},
                "point": {"pixelSize": 8, "color": {"rgba": [214, 39, 40, 255]}},
                "path": {"width": 2, "leadTime": 0, "material": _solid(214, 39, 40, 200)},
            }
        )
        for arch, ti in zip(ds["architecture"].values, ds["intercept_time"].values, strict=True):
            if not np.isfinite(ti):
                continue
            where = [float(np.interp(ti, t[ok], v[ok])) for v in (lon, lat, alt)]
            packets.append(
                {
                    "id": f"intercept/{threat}/{arch}",
                    "name": f"first intercept of {threat} by {arch} at t = {ti:.0f} s",
                    "availability": f"{_iso(c, ti)}/{_iso(c, t[ok][-1])}",
                    "position": {"cartographicDegrees": [round(v, 3) for v in where]},
                    "point": {"pixelSize": 12, "color": {"rgba": [31, 119, 180, 255]}},
                }
            )
    for s in sites(c):
        packets.append(
            {
                "id": f"site/{s['architecture']}/{s['kind']}/{s['name']}",
                "name": f"{s['name']} ({s['kind']}, {s['architecture']}): {s['detail']}",
                "position": {"cartographicDegrees": [s["lon_deg"], s["lat_deg"], 0.0]},
                "point": {"pixelSize": 6, "color": {"rgba": [255, 215, 0, 255]}},
            }
        )
    path.write_text(json.dumps(packets, allow_nan=False), encoding="utf-8")


def footprint_grid(ds: xr.Dataset) -> xr.Dataset:
    """A footprint Dataset with CF-1.8 attributes (units, long_name) on every variable."""
    out = ds.copy()
    for name, var in out.data_vars.items():
        var.attrs.setdefault("long_name", _LONG_NAMES.get(str(name), str(name)))
        if name == "intercept_altitude":
            var.attrs["units"] = "m"
        elif name != "city_country":
            var.attrs.setdefault("units", "1")
    out["lat"].attrs.update(units="degrees_north", long_name="latitude", standard_name="latitude")
    out["lon"].attrs.update(units="degrees_east", long_name="longitude", standard_name="longitude")
    out.attrs = {
        **ds.attrs,
        "Conventions": "CF-1.8",
        "title": f"openbmd footprints over {ds.attrs.get('region', '')}",
    }
    return out


def write_grids(c: Comparison, path: Path) -> None:
    """Every region's footprint as a group named after the region (netCDF-4, h5netcdf)."""
    root = xr.Dataset(attrs={"Conventions": "CF-1.8", "title": f"openbmd {c.study.name}",
                             "regions": ",".join(c.footprints)})  # fmt: skip
    root.to_netcdf(path, mode="w", engine="h5netcdf")
    for region, ds in c.footprints.items():
        grid = footprint_grid(ds)
        grid.to_netcdf(path, mode="a", group=region, engine="h5netcdf")


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _fmt(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return "" if np.isnan(v) else float(v)
    return "" if v is None else v


def population_rows(c: Comparison) -> list[list[Any]]:
    """(region, threat, architecture, country, population, threatened, defended) rows."""
    rows = []
    for region, ds in c.footprints.items():
        if "city" not in ds.coords:
            continue
        country = ds["city_country"].values
        pop = ds["city_population"].values.astype(float)
        for i, threat in enumerate(ds["threat"].values):
            for j, arch in enumerate(ds["architecture"].values):
                thr, dfd = ds["city_threatened"].values[i, j], ds["city_defended"].values[i, j]
                for code in sorted(set(country[i, j])):
                    here = country[i, j] == code
                    p = pop[i, j]
                    rows.append([region, str(threat), str(arch), str(code),
                                 int(p[here].sum()), int(p[here & thr].sum()),
                                 int(p[here & dfd].sum())])  # fmt: skip
    return rows


def write_tables(c: Comparison, book: Ledger, tables: Path) -> dict[str, Path]:
    """The CSV tables (see the module docstring); name → path."""
    tables.mkdir(parents=True, exist_ok=True)
    out = {name: tables / f"{name}.csv" for name in
           ("ledger", "population_by_country", "engageability", "timelines", "reach")}  # fmt: skip
    archs = list(book.architectures)
    _write_csv(out["ledger"], ["section", "label", "unit", *archs, "rule"],
               ([r.section, r.label, r.unit, *(_fmt(r.values.get(a)) for a in archs), r.rule]
                for r in book.rows))  # fmt: skip
    _write_csv(out["population_by_country"],
               ["region", "threat", "architecture", "country", "population",
                "population_threatened", "population_defended"], population_rows(c))  # fmt: skip
    eng = []
    for threat, ds in c.engageability.items():
        frac = ds["fraction"]
        for commit in frac["commit"].values:
            for speed in frac["speed"].values:
                for arch in frac["architecture"].values:
                    v = float(frac.sel(commit=commit, speed=speed, architecture=arch))
                    kms = "" if not np.isfinite(speed) else float(speed) / 1e3
                    eng.append([threat, str(commit), kms, str(arch), _fmt(v)])
    _write_csv(out["engageability"],
               ["threat", "commit", "speed_kms", "architecture", "fraction"], eng)  # fmt: skip
    cols = ("warning", "commit", "first_launch", "intercept_time", "warning_gain", "commit_gain")
    tl = []
    for threat, ds in c.timelines.items():
        for j, arch in enumerate(ds["architecture"].values):
            tl.append([threat, str(arch), ds.attrs["launch_area"], ds.attrs["target"],
                       *(_fmt(float(ds[k].values[j])) for k in cols)])  # fmt: skip
    _write_csv(out["timelines"], ["threat", "architecture", "launch_area", "target",
                                  *(f"{k}_s" for k in cols)], tl)  # fmt: skip
    reach_rows = []
    for threat, ds in c.reach.items():
        for i, place in enumerate(ds["place"].values):
            reach_rows.append([threat, str(place), str(ds["kind"].values[i]),
                               round(float(ds["distance"].values[i]) / 1e3, 3),
                               bool(ds["inside"].values[i]),
                               str(ds["nearest_launch_area"].values[i])])  # fmt: skip
    _write_csv(out["reach"], ["threat", "place", "kind", "distance_km", "inside",
                              "nearest_launch_area"], reach_rows)  # fmt: skip
    return out


def write_exports(
    comparison: Comparison, data_dir: Path, book: Ledger | None = None
) -> dict[str, str]:
    """Write every export into ``data_dir``; returns name → path relative to the report folder.

    The report folder is ``data_dir.parent``. ``book`` is the comparison's ledger (computed
    when not given).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    book = ledger(comparison) if book is None else book
    paths = {
        "footprints.geojson": data_dir / "footprints.geojson",
        "footprints.kml": data_dir / "footprints.kml",
        "trajectories.czml": data_dir / "trajectories.czml",
        "grids.nc": data_dir / "grids.nc",
    }
    features = collect_features(comparison)
    write_geojson(features, paths["footprints.geojson"])
    write_kml(features, paths["footprints.kml"], f"openbmd {comparison.study.name}")
    write_czml(comparison, paths["trajectories.czml"])
    if comparison.footprints:
        write_grids(comparison, paths["grids.nc"])
    else:
        del paths["grids.nc"]
    for name, p in write_tables(comparison, book, data_dir / "tables").items():
        paths[f"tables/{name}.csv"] = p
    base = data_dir.parent
    return {name: p.relative_to(base).as_posix() for name, p in paths.items()}

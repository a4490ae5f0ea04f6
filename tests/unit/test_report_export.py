"""Exports of the report: GeoJSON (RFC 7946 parts we emit), KML, CZML, NetCDF and CSV tables.

The Comparison is built by hand from small Datasets with a known footprint (a defended block
with an undefended hole), so the polygons can be checked exactly and the test runs in seconds.
"""

from __future__ import annotations

import csv
import json
import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from openbmd.analysis.compare import Comparison
from openbmd.analysis.ledger import ledger
from openbmd.analysis.study import Aimpoint, DefendedRegion, Study, ThreatClass
from openbmd.catalog import missile
from openbmd.catalog.architectures import architecture
from openbmd.constants import DEG
from openbmd.report.export import write_exports
from openbmd.report.features import contour_polygons
from openbmd.report.html import embed
from openbmd.report.maps import MapLayers, footprint_map
from openbmd.report.projection import conic_for

LAT = np.arange(41.0, 60.0, 2.0)  # cell centres, 2° cells: edges 40..60
LON = np.arange(1.0, 30.0, 2.0)  # edges 0..30
ARCHS = ("none", "third-site-2007")
KML = "{http://www.opengis.net/kml/2.2}"


def _defended() -> np.ndarray:
    """Cells 2..7 in lat (edges 44..56) × 3..9 in lon (edges 6..20), a hole at (4, 6)."""
    m = np.zeros((LAT.size, LON.size), dtype=bool)
    m[2:8, 3:10] = True
    m[4, 6] = False
    return m


def _footprint(study: Study) -> xr.Dataset:
    shape = (1, len(ARCHS), LAT.size, LON.size)
    defended = np.zeros(shape, dtype=bool)
    defended[0, 1] = _defended()
    cities = [p.name for p in study.aimpoints]
    n = len(cities)
    return xr.Dataset(
        {
            "defended": (("threat", "architecture", "lat", "lon"), defended),
            "threatened": (("threat", "architecture", "lat", "lon"), np.ones(shape, dtype=bool)),
            "shot_opportunities": (("threat", "architecture", "lat", "lon"), defended.astype(int)),
            "intercept_altitude": (
                ("threat", "architecture", "lat", "lon"),
                np.where(defended, 3e5, np.nan),
            ),
            "city_defended": (
                ("threat", "architecture", "city"),
                np.array([[[False] * n, [True, False]]]),
            ),
            "city_threatened": (("threat", "architecture", "city"), np.ones((1, 2, n), bool)),
            "city_population": (
                ("threat", "architecture", "city"),
                np.broadcast_to([1_000_000, 0], (1, 2, n)).copy(),
            ),
            "city_country": (
                ("threat", "architecture", "city"),
                np.broadcast_to(np.array(["PL", "PL"]), (1, 2, n)).copy(),
            ),
        },
        coords={
            "threat": ["irbm"],
            "architecture": list(ARCHS),
            "lat": LAT,
            "lon": LON,
            "city": cities,
        },
        attrs={
            "region": "box",
            "bounds_deg": [40.0, 60.0, 0.0, 30.0],
            "grid_deg": 2.0,
            "rule": "test rule",
        },
    )


def _reach() -> xr.Dataset:
    ang = np.linspace(0, 2 * np.pi, 73)
    return xr.Dataset(
        {
            "distance": ("place", [2.2e5, 7.1e5]),
            "inside": ("place", [True, False]),
            "nearest_launch_area": ("place", ["Kaliningrad", "Kaliningrad"]),
            "ring_lat": (("launch_area", "ring_point"), [54.7 + 4.3 * np.sin(ang)]),
            "ring_lon": (("launch_area", "ring_point"), [20.5 + 7.4 * np.cos(ang)]),
        },
        coords={
            "place": ["Redzikowo", "EMR"],
            "kind": ("place", ["battery", "radar"]),
            "place_lat": ("place", [54.48, 49.74]),
            "place_lon": ("place", [17.1, 13.97]),
            "launch_area": ["Kaliningrad"],
        },
        attrs={"threat": "irbm", "missile": "IRBM", "range_m": 480e3},
    )


def _timeline() -> xr.Dataset:
    t = np.arange(0.0, 1310.0, 10.0)
    track = np.linspace(0, 1, t.size)
    per_arch = {"warning": [np.nan, 70.0], "commit": [np.nan, 850.0],
                "first_launch": [np.nan, 910.0], "intercept_time": [np.nan, 1150.0],
                "warning_gain": [np.nan, 0.0], "commit_gain": [np.nan, np.inf]}  # fmt: skip
    return xr.Dataset(
        {
            "visible": (("sensor", "time"), np.vstack([t > 460, t < 130])),
            "track_lat": ("time", 38.1 + 14.0 * track),
            "track_lon": ("time", 46.3 - 25.0 * track),
            "track_alt": ("time", 1e6 * np.sin(np.pi * track)),
            "first_detection": ("sensor", [470.0, 10.0]),
            "feasible": ("architecture", [False, True]),
            **{k: ("architecture", v) for k, v in per_arch.items()},
        },
        coords={"sensor": ["Fylingdales", "SpaceIR"], "time": t, "architecture": list(ARCHS)},
        attrs={
            "threat": "irbm",
            "launch_area": "Tabriz",
            "target": "Warsaw",
            "shape": "min-energy",
            "burnout_time_s": 125.0,
            "impact_time_s": 1300.0,
        },
    )


def _engageability() -> xr.Dataset:
    frac = np.array([[[0.0, 1.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 0.5]]])  # commit, speed, arch
    return xr.Dataset(
        {"fraction": (("commit", "speed", "architecture"), frac),
         "own_commit": ("architecture", ["fire-control-track"] * 2)},
        coords={"commit": ["fire-control-track", "early-warning"], "speed": [5.4e3, 7.7e3],
                "architecture": list(ARCHS)},
        attrs={"threat": "irbm", "missile": "IRBM", "shape": "min-energy"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    threat = ThreatClass(
        "irbm", missile("IRBM"), (("Tabriz", 38.08 * DEG, 46.29 * DEG),),
        targets=(("Warsaw", 52.23 * DEG, 21.01 * DEG),),
    )  # fmt: skip
    study = Study(
        name="unit",
        epoch=datetime(2009, 9, 17, tzinfo=UTC),
        architectures=tuple(architecture(a) for a in ARCHS),
        threats=(threat,),
        regions=(DefendedRegion("box", (40.0, 60.0, 0.0, 30.0)),),
        aimpoints=(
            Aimpoint("Warsaw", 52.23, 21.01, 1_000_000, "PL"),
            Aimpoint("Redzikowo", 54.48, 17.1),
        ),
        burnout_speeds=(5.4e3, 7.7e3),
        analyses={"footprint": {"grid_deg": 2.0}},
    )
    return Comparison(
        study=study,
        footprints={"box": _footprint(study)},
        engageability={"irbm": _engageability()},
        reach={"irbm": _reach()},
        timelines={"irbm": _timeline()},
    )


@pytest.fixture(scope="module")
def exported(comparison: Comparison, tmp_path_factory: pytest.TempPathFactory) -> Path:
    report = tmp_path_factory.mktemp("report")
    paths = write_exports(comparison, report / "data")
    assert all((report / p).is_file() for p in paths.values())
    assert paths["footprints.geojson"] == "data/footprints.geojson"
    return report


# --- a validator of the RFC 7946 parts we emit ------------------------------------------------


def _check_position(p: Any) -> None:
    assert isinstance(p, list) and len(p) in (2, 3), p
    assert all(isinstance(v, int | float) and math.isfinite(v) for v in p), p
    assert -180 <= p[0] <= 180 and -90 <= p[1] <= 90, p


def _area(ring: list[list[float]]) -> float:
    x, y = np.asarray(ring).T
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _check_polygon(rings: Any) -> None:
    assert isinstance(rings, list) and rings
    for k, ring in enumerate(rings):
        assert len(ring) >= 4 and ring[0] == ring[-1], "a linear ring is closed, ≥ 4 positions"
        for p in ring:
            _check_position(p)
        # §3.1.6: exterior rings counter-clockwise, holes clockwise
        assert (_area(ring) > 0) == (k == 0), f"ring {k} winds the wrong way"


def validate_geojson(doc: Any) -> None:
    assert doc["type"] == "FeatureCollection" and isinstance(doc["features"], list)
    for f in doc["features"]:
        assert f["type"] == "Feature" and isinstance(f["properties"], dict)
        g = f["geometry"]
        kind, coords = g["type"], g["coordinates"]
        if kind == "Point":
            _check_position(coords)
        elif kind == "LineString":
            assert len(coords) >= 2
            for p in coords:
                _check_position(p)
        elif kind == "Polygon":
            _check_polygon(coords)
        elif kind == "MultiPolygon":
            assert coords
            for poly in coords:
                _check_polygon(poly)
        else:
            raise AssertionError(f"unexpected geometry type {kind}")


def test_validator_rejects_a_clockwise_exterior() -> None:
    ring = [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]  # clockwise
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                           "coordinates": [ring]}}]}  # fmt: skip
    with pytest.raises(AssertionError):
        validate_geojson(doc)


def test_contour_follows_cell_edges_and_keeps_the_hole() -> None:
    polys = contour_polygons(LAT, LON, _defended())
    assert len(polys) == 1 and len(polys[0]) == 2  # one polygon, one hole
    outer, hole = (np.asarray(r) for r in polys[0])
    assert outer[:, 0].min() == 6.0 and outer[:, 0].max() == 20.0
    assert outer[:, 1].min() == 44.0 and outer[:, 1].max() == 56.0
    # the hole is the undefended cell centred on (lon 13, lat 49), inside its edges 12..14
    assert hole[:, 0].min() >= 12.0 and hole[:, 0].max() <= 14.0
    assert hole[:, 1].min() >= 48.0 and hole[:, 1].max() <= 50.0
    assert contour_polygons(LAT, LON, np.zeros_like(_defended())) == []


def test_geojson_validates_and_names_its_features(exported: Path) -> None:
    doc = json.loads((exported / "data/footprints.geojson").read_text())
    validate_geojson(doc)
    kinds = {}
    for f in doc["features"]:
        kinds.setdefault(f["properties"]["kind"], []).append(f["properties"])
    assert {"defended", "threatened", "reach", "battery", "radar", "launch_area"} <= set(kinds)
    # only third-site-2007 defends anything; "none" has no defended polygon
    assert [p["architecture"] for p in kinds["defended"]] == ["third-site-2007"]
    assert kinds["defended"][0]["threat"] == "irbm" and kinds["defended"][0]["region"] == "box"
    assert {p["name"] for p in kinds["battery"]} == {"Redzikowo"}
    assert kinds["launch_area"] == [{"kind": "launch_area", "name": "Tabriz", "threat": "irbm"}]


def test_kml_parses_with_the_same_placemarks(exported: Path) -> None:
    root = ET.parse(exported / "data/footprints.kml").getroot()
    assert root.tag == f"{KML}kml"
    marks = root.findall(f"{KML}Document/{KML}Placemark")
    doc = json.loads((exported / "data/footprints.geojson").read_text())
    assert len(marks) == len(doc["features"])
    defended = [m for m in marks if m.findtext(f"{KML}name", "").startswith("defended")]
    assert len(defended) == 1
    polys = defended[0].findall(f"{KML}MultiGeometry/{KML}Polygon")
    assert len(polys) == 1 and len(polys[0].findall(f"{KML}innerBoundaryIs")) == 1
    text = polys[0].findtext(f"{KML}outerBoundaryIs/{KML}LinearRing/{KML}coordinates", "")
    lon, lat, alt = np.array([p.split(",") for p in text.split()], dtype=float).T
    assert lon.min() == 6.0 and lat.max() == 56.0 and (alt == 0).all()


def test_czml_is_a_document_then_packets(exported: Path) -> None:
    packets = json.loads((exported / "data/trajectories.czml").read_text())
    assert isinstance(packets, list)
    assert packets[0]["id"] == "document" and packets[0]["version"] == "1.0"
    ids = [p["id"] for p in packets]
    assert len(set(ids)) == len(ids)
    traj = next(p for p in packets if p["id"] == "trajectory/irbm")
    assert traj["position"]["epoch"] == "2009-09-17T00:00:00Z"
    samples = np.asarray(traj["position"]["cartographicDegrees"]).reshape(-1, 4)
    assert samples.shape[0] == 131 and samples[0, 1:3].tolist() == [46.3, 38.1]
    hit = next(p for p in packets if p["id"] == "intercept/irbm/third-site-2007")
    assert hit["availability"].startswith("2009-09-17T00:19:10Z/")  # 1150 s after the epoch
    assert not any(p["id"].startswith("intercept/irbm/none") for p in packets)
    assert any(p["id"] == "site/third-site-2007/battery/Redzikowo" for p in packets)


def test_netcdf_reopens_with_named_dims_and_cf_attributes(
    exported: Path, comparison: Comparison
) -> None:
    path = exported / "data/grids.nc"
    with xr.open_dataset(path, engine="h5netcdf") as root:
        assert root.attrs["Conventions"] == "CF-1.8"
    with xr.open_dataset(path, group="box", engine="h5netcdf") as ds:
        assert {"architecture", "threat", "lat", "lon"} <= set(ds.dims)
        assert ds["defended"].dims == ("threat", "architecture", "lat", "lon")
        assert ds.attrs["Conventions"] == "CF-1.8"
        assert ds["lat"].attrs["units"] == "degrees_north"
        assert ds["intercept_altitude"].attrs["units"] == "m"
        assert all("long_name" in ds[v].attrs for v in ds.data_vars)
        assert list(ds["architecture"].values) == list(ARCHS)
        assert ds["city_country"].values[0, 0].tolist() == ["PL", "PL"]
        assert ds["defended"].dtype == bool
        np.testing.assert_array_equal(
            ds["defended"].values, comparison.footprints["box"]["defended"].values
        )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_tables_have_their_headers_and_rows(exported: Path, comparison: Comparison) -> None:
    t = exported / "data/tables"
    book = ledger(comparison)
    rows = _rows(t / "ledger.csv")
    assert list(rows[0]) == ["section", "label", "unit", *ARCHS, "rule"]
    assert len(rows) == len(book.rows)
    pop = _rows(t / "population_by_country.csv")
    assert list(pop[0]) == ["region", "threat", "architecture", "country", "population",
                            "population_threatened", "population_defended"]  # fmt: skip
    defended = {r["architecture"]: int(r["population_defended"]) for r in pop}
    assert defended == {"none": 0, "third-site-2007": 1_000_000}
    eng = _rows(t / "engageability.csv")
    assert list(eng[0]) == ["threat", "commit", "speed_kms", "architecture", "fraction"]
    assert len(eng) == 8
    last = eng[-1]
    assert (last["commit"], last["speed_kms"], last["fraction"]) == ("early-warning", "7.7", "0.5")
    tl = _rows(t / "timelines.csv")
    assert list(tl[0])[:2] == ["threat", "architecture"]
    assert {"warning_s", "commit_s", "first_launch_s", "intercept_time_s", "warning_gain_s",
            "commit_gain_s"} <= set(tl[0])  # fmt: skip
    assert tl[1]["commit_s"] == "850.0" and tl[0]["commit_s"] == ""
    reach = _rows(t / "reach.csv")
    assert list(reach[0]) == ["threat", "place", "kind", "distance_km", "inside",
                              "nearest_launch_area"]  # fmt: skip
    assert (reach[0]["place"], reach[0]["distance_km"], reach[0]["inside"]) == (
        "Redzikowo", "220.0", "True")  # fmt: skip


def test_conic_projection_keeps_scale_over_europe() -> None:
    from pyproj import Geod

    m = conic_for((-11.0, 40.0, 35.0, 71.0))
    lat, lon = (a.ravel() for a in np.meshgrid(np.linspace(35, 71, 19), np.linspace(-11, 40, 18)))
    x0, y0 = m.fwd(lon, lat)
    x1, y1 = m.fwd(lon + 0.01, lat)
    *_, d = Geod(ellps="WGS84").inv(lon, lat, lon + 0.01, lat)
    k = np.hypot(x1 - x0, y1 - y0) * 1e3 / d  # km → m
    assert 0.97 < k.min() and k.max() < 1.04
    x_min, x_max, y_min, y_max = m.extent
    assert (x_min <= x0).all() and (x0 <= x_max).all()
    assert (y_min <= y0).all() and (y0 <= y_max).all()


def test_footprint_map_renders_a_png(comparison: Comparison) -> None:
    ds = comparison.footprints["box"].sel(threat="irbm", architecture="third-site-2007")
    layers = MapLayers(batteries=(("Redzikowo", 54.48, 17.1),), launch_areas=(("X", 50.0, 10.0),))
    fig = embed(footprint_map(ds, layers, "t"), "alt", "caption")
    assert fig.uri.startswith("data:image/png;base64,iVBORw0KGgo")  # the PNG signature
    assert fig.width > 0 and fig.height > 0


def test_radar_coverage_outline_reaches_its_detection_range() -> None:
    """The map's coverage outline: a sector radar gives a closed wedge at its detection range."""
    from openbmd.catalog.sensors import sensor
    from openbmd.earth import geodesic_inverse
    from openbmd.report.maps import coverage, detection_range

    emr = sensor("EMR").model
    rng = detection_range(emr, 1.0)
    # SNR falls as R^-4: at the detection range it is the threshold, just beyond it below.
    assert float(emr.snr_db(rng, 1.0)) >= emr.snr_threshold_db
    assert float(emr.snr_db(rng * 1.01, 1.0)) < emr.snr_threshold_db or rng == emr.max_range
    lat, lon = coverage(emr, 1.0)
    assert (lat[0], lon[0]) == (lat[-1], lon[-1])  # closed at the site
    d, _, _ = geodesic_inverse(emr.lat, emr.lon, np.radians(lat[1:-1]), np.radians(lon[1:-1]))
    np.testing.assert_allclose(d, rng, rtol=1e-6)

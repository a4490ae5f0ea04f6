"""Geographic features of a comparison: defended areas, reach rings, sites, launch areas.

One list of :class:`Feature` (geometry in longitude/latitude degrees, WGS-84) is built from a
:class:`~openbmd.analysis.compare.Comparison` and written both as an RFC 7946 GeoJSON
FeatureCollection and as a KML 2.2 document, so the two files always hold the same features.

Defended areas are the boolean ``defended`` grid of each region's footprint contoured at 0.5
with ``contourpy`` (matplotlib's own contouring library). The grid is padded with one ring of
undefended cells first, so every polygon closes and a defended cell at the edge of the region
is bounded half a cell beyond its centre — the cell's own edge. Exterior rings are wound
counter-clockwise and holes clockwise (RFC 7946 §3.1.6).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openbmd.analysis.compare import Comparison
from openbmd.constants import DEG

__all__ = [
    "Feature",
    "collect_features",
    "contour_polygons",
    "sites",
    "write_geojson",
    "write_kml",
]

KML_NS = "http://www.opengis.net/kml/2.2"
#: Decimal places of the coordinates written (1e-5 deg ≈ 1 m: far finer than any grid).
DIGITS = 5

Ring = list[list[float]]  # [[lon, lat], ...], closed


@dataclass(frozen=True)
class Feature:
    """A GeoJSON-like feature: ``kind`` is Point, LineString, Polygon or MultiPolygon."""

    kind: str
    coordinates: Any
    properties: dict[str, Any] = field(default_factory=dict)

    def to_geojson(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": {"type": self.kind, "coordinates": self.coordinates},
            "properties": self.properties,
        }


def _signed_area(ring: NDArray[np.float64]) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _ring(points: NDArray[np.float64], ccw: bool) -> Ring:
    pts = np.round(np.asarray(points, dtype=float), DIGITS)
    if not np.array_equal(pts[0], pts[-1]):
        pts = np.vstack([pts, pts[:1]])
    if (_signed_area(pts) > 0) != ccw:
        pts = pts[::-1]
    return pts.tolist()


def contour_polygons(
    lat: NDArray[np.float64], lon: NDArray[np.float64], mask: NDArray[np.bool_]
) -> list[list[Ring]]:
    """Polygons ``[exterior, *holes]`` around the True cells of ``mask`` (lat, lon) [deg].

    ``lat`` and ``lon`` are the (ascending, evenly spaced) cell centres.
    """
    from contourpy import FillType, contour_generator

    if not mask.any():
        return []
    d_lat = float(lat[1] - lat[0]) if lat.size > 1 else 1.0
    d_lon = float(lon[1] - lon[0]) if lon.size > 1 else 1.0
    x = np.concatenate([[lon[0] - d_lon], lon, [lon[-1] + d_lon]])
    y = np.concatenate([[lat[0] - d_lat], lat, [lat[-1] + d_lat]])
    z = np.pad(mask.astype(float), 1)
    # The 0.5 level runs halfway between a defended centre and an undefended one: on the
    # shared cell edge along the axes, cutting the corner diagonally between them.
    gen = contour_generator(x, y, z, fill_type=FillType.OuterOffset, corner_mask=False)
    filled = gen.filled(0.5, 1.5)
    points: list[Any] = list(filled[0])
    offsets: list[Any] = list(filled[1])
    out = []
    for pts, off in zip(points, offsets, strict=True):
        rings = [pts[off[i] : off[i + 1]] for i in range(len(off) - 1)]
        rings = [r for r in rings if len(r) >= 3]
        if rings:
            out.append([_ring(rings[0], ccw=True)] + [_ring(r, ccw=False) for r in rings[1:]])
    return out


def sites(c: Comparison) -> list[dict[str, Any]]:
    """Battery and radar sites of every architecture: name, kind, architecture, lat/lon [deg]."""
    out = []
    for arch in c.study.architectures:
        for b in arch.batteries:
            out.append({"name": b.site, "kind": "battery", "architecture": arch.name,
                        "lat_deg": b.lat / DEG, "lon_deg": b.lon / DEG,
                        "detail": f"{b.inventory} × {b.interceptor.name}"})  # fmt: skip
        for s in arch.sensors:
            lat, lon = getattr(s.sensor, "lat", None), getattr(s.sensor, "lon", None)
            if lat is None or lon is None:
                continue  # space-based: no site
            out.append({"name": s.name, "kind": "radar", "architecture": arch.name,
                        "lat_deg": float(lat) / DEG, "lon_deg": float(lon) / DEG,
                        "detail": f"{s.role}, {s.owner}"})  # fmt: skip
    return out


def _point(lon: float, lat: float) -> list[float]:
    return [round(float(lon), DIGITS), round(float(lat), DIGITS)]


def collect_features(c: Comparison) -> list[Feature]:
    """Every feature of the comparison (see the module docstring), in a stable order."""
    feats: list[Feature] = []
    props: dict[str, Any]
    for region, ds in c.footprints.items():
        lat, lon = ds["lat"].values, ds["lon"].values
        for threat in ds["threat"].values:
            thr = np.asarray(ds["threatened"].sel(threat=threat).values.any(axis=0))
            polys = contour_polygons(lat, lon, thr)
            if polys:
                feats.append(Feature("MultiPolygon", polys, {"kind": "threatened",
                                     "threat": str(threat), "region": region}))  # fmt: skip
            for arch in ds["architecture"].values:
                mask = ds["defended"].sel(threat=threat, architecture=arch).values
                polys = contour_polygons(lat, lon, mask)
                if polys:
                    props = {"kind": "defended", "architecture": str(arch),
                             "threat": str(threat), "region": region}  # fmt: skip
                    feats.append(Feature("MultiPolygon", polys, props))
    for threat, ds in c.reach.items():
        for i, area in enumerate(ds["launch_area"].values):
            ring = np.column_stack([ds["ring_lon"].values[i], ds["ring_lat"].values[i]])
            props = {"kind": "reach", "threat": threat, "launch_area": str(area),
                     "range_km": float(ds.attrs["range_m"]) / 1e3}  # fmt: skip
            feats.append(Feature("Polygon", [_ring(ring, ccw=True)], props))
    for s in sites(c):
        props = {k: v for k, v in s.items() if k not in ("lat_deg", "lon_deg")}
        feats.append(Feature("Point", _point(s["lon_deg"], s["lat_deg"]), props))
    for threat in c.study.threats:
        for name, a_lat, a_lon in threat.launch_areas:
            props = {"kind": "launch_area", "name": name, "threat": threat.name}
            feats.append(Feature("Point", _point(a_lon / DEG, a_lat / DEG), props))
    return feats


def write_geojson(features: list[Feature], path: Path) -> None:
    """An RFC 7946 FeatureCollection (WGS-84 longitude, latitude)."""
    doc = {"type": "FeatureCollection", "features": [f.to_geojson() for f in features]}
    path.write_text(json.dumps(doc, separators=(",", ":"), allow_nan=False), encoding="utf-8")


def _coords(points: Any) -> str:
    return " ".join(f"{p[0]},{p[1]},0" for p in points)


def _kml_polygon(parent: ET.Element, rings: list[Ring]) -> None:
    poly = ET.SubElement(parent, "Polygon")
    for j, ring in enumerate(rings):
        side = ET.SubElement(poly, "outerBoundaryIs" if j == 0 else "innerBoundaryIs")
        lr = ET.SubElement(side, "LinearRing")
        ET.SubElement(lr, "coordinates").text = _coords(ring)


_STYLES = {  # KML colours are aabbggrr
    "defended": "7fb47a1f",
    "threatened": "4f2827d6",
    "reach": "3f0000ff",
}


def write_kml(features: list[Feature], path: Path, name: str) -> None:
    """The same features as a KML 2.2 document (one Placemark each, properties as ExtendedData)."""
    root = ET.Element("kml", xmlns=KML_NS)
    doc = ET.SubElement(root, "Document")
    ET.SubElement(doc, "name").text = name
    for style, colour in _STYLES.items():
        st = ET.SubElement(doc, "Style", id=style)
        ET.SubElement(ET.SubElement(st, "PolyStyle"), "color").text = colour
        ET.SubElement(ET.SubElement(st, "LineStyle"), "color").text = "ff" + colour[2:]
    for f in features:
        pm = ET.SubElement(doc, "Placemark")
        p = f.properties
        label = " / ".join(
            str(p[k]) for k in ("kind", "name", "architecture", "threat", "launch_area") if k in p
        )
        ET.SubElement(pm, "name").text = label
        if p["kind"] in _STYLES:
            ET.SubElement(pm, "styleUrl").text = f"#{p['kind']}"
        ext = ET.SubElement(pm, "ExtendedData")
        for key, value in p.items():
            ET.SubElement(ET.SubElement(ext, "Data", name=key), "value").text = str(value)
        if f.kind == "Point":
            ET.SubElement(ET.SubElement(pm, "Point"), "coordinates").text = _coords([f.coordinates])
        elif f.kind == "Polygon":
            _kml_polygon(pm, f.coordinates)
        else:  # MultiPolygon
            multi = ET.SubElement(pm, "MultiGeometry")
            for poly in f.coordinates:
                _kml_polygon(multi, poly)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

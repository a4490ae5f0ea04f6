"""Natural Earth TopoJSON decoding (world-atlas 2.0.2) and the offline base map."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from openbmd.errors import InputError
from openbmd.report import basemap


@pytest.mark.parametrize(("resolution", "count"), [("110m", 177), ("50m", 241)])
def test_country_count(resolution, count):
    assert len(basemap.load_countries(resolution)) == count


@pytest.mark.parametrize("resolution", ["110m", "50m"])
def test_poland_bbox(resolution):
    rings = basemap.country_rings(resolution)["Poland"]
    xy = np.vstack(rings)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    # Poland spans about 14.1-24.2 E and 49.0-54.8 N
    assert lo == pytest.approx([14.1, 49.0], abs=0.2)
    assert hi == pytest.approx([24.1, 54.85], abs=0.2)


def test_rings_closed_without_forcing():
    import json
    from importlib import resources

    topo = json.loads(
        resources.files("openbmd").joinpath("data", "countries-110m.json").read_text("utf-8")
    )
    arcs = basemap.decode_arcs(topo)
    for geom in topo["objects"]["countries"]["geometries"]:
        polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        for poly in polys:
            for ring in poly:
                parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in ring]
                for a, b in itertools.pairwise(parts):
                    assert np.allclose(a[-1], b[0])  # consecutive arcs join
                assert np.allclose(parts[0][0], parts[-1][-1])  # and the ring closes
    for rings in basemap.country_rings("110m").values():
        for r in rings:
            assert r.shape[1] == 2 and len(r) >= 4
            assert np.array_equal(r[0], r[-1])


def test_stitch_reverses_negative_index():
    arcs = [
        np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]),
        np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
    ]
    ring = basemap.stitch_ring(arcs, [0, ~1])
    assert ring.tolist() == [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]


def test_unwrap_antimeridian_and_pole():
    russia = max(basemap.country_rings("110m")["Russia"], key=len)
    fill, line = basemap.unwrap_ring(russia)
    assert np.max(np.abs(np.diff(line[:, 0]))) < 180.0
    antarctica = max(basemap.country_rings("110m")["Antarctica"], key=len)
    fill, line = basemap.unwrap_ring(antarctica)
    assert fill[-2, 1] == -90.0


def test_draw_basemap_offline(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        basemap.draw_basemap(ax, (-12.0, 45.0, 35.0, 72.0))
        assert len(ax.collections) == 2
        assert ax.get_xlim() == (-12.0, 45.0)
        fig.savefig(tmp_path / "map.png")
    finally:
        plt.close(fig)
    assert (tmp_path / "map.png").stat().st_size > 1000
    with pytest.raises(InputError):
        basemap.draw_basemap(None, (10.0, 5.0, 0.0, 1.0))
    with pytest.raises(InputError):
        basemap.load_countries("10m")

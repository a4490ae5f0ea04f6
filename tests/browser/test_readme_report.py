"""The README's main job, end to end: ``openbmd analyze`` on the bundled scenario writes a
report that a real headless Chromium opens offline, and exports that the standard readers
accept. Slow (the whole default scenario: a few minutes, more on a cold numba cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xarray as xr
from test_report import inspect

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def readme_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("readme")
    # `openbmd analyze` as the README gives it: default scenario, default folder.
    proc = subprocess.run(
        [sys.executable, "-m", "openbmd", "analyze"], cwd=work, capture_output=True, text=True,
        env={**os.environ, "OPENBMD_CACHE_DIR": str(work / "cache")}, timeout=3000, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return work / "openbmd-report", proc.stdout


def test_ends_with_the_report_path(readme_report: tuple[Path, str]) -> None:
    out, stdout = readme_report
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("report: ") and str(out / "report.html") in last


def test_report_opens_offline_with_every_figure(readme_report: tuple[Path, str]) -> None:
    out, _ = readme_report
    page: dict[str, Any] = inspect(out)
    assert page["requests"] == [page["url"]]
    assert page["errors"] == []
    bad = [s for s in page["sizes"] if not (s["w"] > 0 and s["h"] > 0 and s["natural"] > 0)]
    assert bad == []
    assert len([s for s in page["sizes"] if s["tag"] == "img"]) > 20
    assert page["headers"][2:] == [
        "none", "third-site-2007", "third-site-2007-russian-radars", "joint-2009",
        "epaa-phase-1", "epaa-phase-2", "epaa-phase-3",
    ]  # fmt: skip
    assert page["shot"].stat().st_size > 10_000


def test_exports_are_readable(readme_report: tuple[Path, str]) -> None:
    data = readme_report[0] / "data"
    geo = json.loads((data / "footprints.geojson").read_text(encoding="utf-8"))
    assert geo["type"] == "FeatureCollection" and geo["features"]
    assert all(f["type"] == "Feature" and "geometry" in f for f in geo["features"])
    ET.parse(data / "footprints.kml")
    czml = json.loads((data / "trajectories.czml").read_text(encoding="utf-8"))
    assert isinstance(czml, list) and czml[0]["id"] == "document"
    with xr.open_dataset(data / "grids.nc", group="europe", engine="h5netcdf") as ds:
        assert {"architecture", "threat", "lat", "lon"} <= set(ds.dims)
        assert ds.sizes["architecture"] == 7

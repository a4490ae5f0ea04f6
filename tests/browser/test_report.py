"""The HTML report in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

A small comparison (``none`` and ``third-site-2007`` against one IRBM threat over Europe at a
4° grid) is run once per session through the scenario layer, with a small campaign over its
``uncertain:`` block (the GBI's swept speeds and a decision delay, 12 trials), written as a
report folder and opened from ``file://``: the page must make no request other than itself,
log no console error, and lay out every figure with a non-zero size. A screenshot is kept in
the pytest temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

import openbmd
from openbmd.analysis.compare import Comparison, compare
from openbmd.analysis.ledger import ledger
from openbmd.report.export import write_exports
from openbmd.report.html import render_report
from openbmd.scenario import parse_scenario
from openbmd.scenario.build import to_study
from openbmd.scenario.uncertain import campaign, write

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

SCENARIO = """\
name: browser-test
description: Two architectures against one IRBM threat over Europe (coarse grid).
epoch: 2009-09-17T00:00:00Z
threats:
  - name: iran-irbm
    missile: IRBM
    launch_areas: [Tabriz, Tehran]
    shape: min-energy
    targets: [Warsaw, Berlin]
    regions: [europe]
defended:
  regions:
    - {name: europe, lat_min_deg: 35.0, lat_max_deg: 71.0, lon_min_deg: -11.0, lon_max_deg: 40.0}
  targets: [Warsaw, Berlin]
architectures:
  - name: none
  - name: third-site-2007
sweeps:
  burnout_speed_kms: [5.4, 7.7]
  burnout_speed_interceptors: [GBI-2]
analyses:
  footprint: {grid_deg: 4.0}
  engageability: {step_s: 2.0}
  timeline: {step_s: 10.0}
uncertain:
  - path: interceptors.GBI-2.burnout_speed
    distribution: choice
    values: [5400.0, 7700.0]
    source: "MDA 2007 (5.4 km/s) vs T. Postol 2007 (7.7 km/s)"
  - path: architectures.third-site-2007.rules.decision_delay
    distribution: uniform
    low: 30.0
    high: 600.0
    source: "test range"
campaign:
  trials: 12
  footprint_grid_deg: 8.0
"""


def _need_browser() -> None:
    if not CHROMIUM.exists() and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); required when CI is set")


@pytest.fixture(scope="session")
def comparison() -> tuple[Comparison, Any, float]:
    _need_browser()
    t0 = time.perf_counter()
    sc = parse_scenario(SCENARIO, "browser-test.yaml")
    c = compare(to_study(sc))
    return c, campaign(sc)[0], time.perf_counter() - t0


@pytest.fixture(scope="session")
def report(
    comparison: tuple[Comparison, Any, float], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    c, camp, run_time = comparison
    out = tmp_path_factory.mktemp("openbmd-report")
    book = ledger(c)
    write_exports(c, out / "data", book)
    write(camp, out / "data")
    manifest = {
        "openbmd version": openbmd.__version__,
        "scenario SHA-256": hashlib.sha256(SCENARIO.encode()).hexdigest(),
        "seeds": "none (deterministic)",
        "run time (s)": run_time,
    }
    html = render_report(c, book, SCENARIO, manifest, camp)
    (out / "report.html").write_text(html, encoding="utf-8")
    return out


def inspect(report: Path) -> dict[str, Any]:
    """Open ``report/report.html`` from ``file://`` in Debian's Chromium; what it did."""
    _need_browser()
    if not os.environ.get("CI"):
        pytest.importorskip("playwright", reason="pip install playwright (the test extra)")
    from playwright.sync_api import sync_playwright

    url = (report / "report.html").as_uri()
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url, wait_until="load")
            sizes = page.evaluate(
                """() => [...document.querySelectorAll('img, svg, figure')].map(e => {
                    const r = e.getBoundingClientRect();
                    return {tag: e.tagName.toLowerCase(), alt: e.getAttribute('alt') || '',
                            w: r.width, h: r.height,
                            natural: e.tagName === 'IMG' ? e.naturalWidth * e.naturalHeight : 1,
                            complete: e.tagName === 'IMG' ? e.complete : true};
                })"""
            )
            headers = page.eval_on_selector_all(
                "#ledger-table thead th", "e => e.map(x => x.textContent)"
            )
            # The campaign section: its heading, parameter rows and charts as laid out.
            camp = page.evaluate(
                """() => {
                    const h = document.getElementById('campaign');
                    const rows = [...document.querySelectorAll('#campaign-parameters tbody tr')]
                        .map(r => [...r.cells].map(c => c.textContent));
                    const charts = [...document.querySelectorAll('figure.campaign img')]
                        .map(i => ({alt: i.alt, w: i.getBoundingClientRect().width,
                                    natural: i.naturalWidth, complete: i.complete}));
                    const nav = !!document.querySelector('nav a[href="#campaign"]');
                    return {heading: h ? h.textContent : null, rows, charts, nav};
                }"""
            )
            shot = report.parent / f"{report.name}-screenshot.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    return {"url": url, "requests": requests, "errors": errors, "sizes": sizes,
            "headers": headers, "shot": shot, "campaign": camp}  # fmt: skip


@pytest.fixture(scope="session")
def page_result(report: Path) -> dict[str, Any]:
    return inspect(report)


def test_report_loads_offline_without_console_errors(page_result: dict[str, Any]) -> None:
    assert page_result["requests"] == [page_result["url"]]
    assert page_result["errors"] == []


def test_every_figure_has_a_size(page_result: dict[str, Any]) -> None:
    sizes = page_result["sizes"]
    imgs = [s for s in sizes if s["tag"] == "img"]
    # 2 footprint maps, 1 difference map, 1 engageability chart, 1 timeline
    assert len(imgs) >= 5
    bad = [s for s in sizes if not (s["w"] > 0 and s["h"] > 0 and s["natural"] > 0
                                    and s["complete"])]  # fmt: skip
    assert bad == []


def test_ledger_has_one_column_per_architecture(page_result: dict[str, Any]) -> None:
    assert page_result["headers"][:4] == ["answer", "unit", "none", "third-site-2007"]


def test_campaign_section_shows_parameters_and_charts(page_result: dict[str, Any]) -> None:
    camp = page_result["campaign"]
    assert camp["nav"] and camp["heading"].startswith("Campaign: 12 trials")
    paths = [r[0] for r in camp["rows"]]
    assert paths == [
        "interceptors.GBI-2.burnout_speed",
        "architectures.third-site-2007.rules.decision_delay",
    ]
    assert camp["rows"][0][2] == "choice(5400, 7700)" and "Postol" in camp["rows"][0][4]
    alts = [c["alt"] for c in camp["charts"]]
    # the IRBM's engageable fraction and, over Europe, its population defended
    assert "campaign engageable_fraction iran-irbm" in alts, alts
    assert any(a.startswith("campaign population_defended europe") for a in alts), alts
    for c in camp["charts"]:
        assert c["complete"] and c["natural"] > 0 and c["w"] > 400, c


def test_screenshot_is_taken(page_result: dict[str, Any]) -> None:
    shot: Path = page_result["shot"]
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_size_and_exports(report: Path) -> None:
    assert (report / "report.html").stat().st_size < 15e6
    for name in ("footprints.geojson", "footprints.kml", "trajectories.czml", "grids.nc",
                 "campaign.nc"):  # fmt: skip
        assert (report / "data" / name).stat().st_size > 0

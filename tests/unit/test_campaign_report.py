"""The report's campaign section: absent without an ``uncertain:`` block, complete with one.

The campaign Dataset is made by :func:`campaign_dataset` from outcomes whose drivers are known
(no physics), on the synthetic comparison of ``test_report_export``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_report_export import ARCHS, comparison  # noqa: F401 (a fixture)

from openbmd.analysis.campaign import Distribution, Parameter, draw
from openbmd.analysis.campaign_stats import campaign_dataset
from openbmd.analysis.ledger import ledger
from openbmd.report.html import render_report

SPEED = Parameter(
    "interceptors.GBI-2.burnout_speed", "m/s", Distribution("uniform", (5400.0, 9000.0)),
    "MDA 2007 vs Postol 2007", quantum=100.0,
)  # fmt: skip
DELAY = Parameter(
    "architectures.*.rules.decision_delay", "s", Distribution("triangular", (30.0, 60.0, 180.0)),
    "data/interceptors.yaml",
)  # fmt: skip


@pytest.fixture(scope="module")
def campaign_ds():
    drawn, used = draw((SPEED, DELAY), seed=4, n=60)
    n = used.shape[0]
    speed = (used[:, 0] - 5400.0) / 3600.0
    frac = np.stack([np.zeros(n), np.clip(speed, 0, 1)], axis=1)[:, None, :]  # (n, 1, 2)
    pop = np.stack([np.zeros(n), 1e6 * (used[:, 1] < 90.0)], axis=1)[:, None, None, :]
    return campaign_dataset(
        (SPEED, DELAY), drawn, used,
        {"engageable_fraction": frac, "population_defended": pop, "area_defended": pop * 1e5,
         "population_threatened": np.full((n, 1, 1), 1e6),
         "area_threatened": np.full((n, 1, 1), 1e11)},
        ["irbm"], list(ARCHS), seed=4, regions=["box"], all_threats=["irbm"], grid_deg=5.0,
    )  # fmt: skip


def test_no_uncertain_block_no_campaign_section(comparison):  # noqa: F811
    html = render_report(comparison, ledger(comparison), "name: unit\n", {"seeds": "none"})
    assert 'id="campaign"' not in html and 'href="#campaign"' not in html
    assert "campaign" not in re.sub(r"<pre>.*?</pre>", "", html, flags=re.S).lower()


def test_the_campaign_section_lists_parameters_and_draws_each_outcome(
    comparison,  # noqa: F811
    campaign_ds,
):
    html = render_report(comparison, ledger(comparison), "name: unit\n", {}, campaign_ds)
    section = html[html.index('<h2 id="campaign">') : html.index('<h2 id="assumptions">')]
    assert 'href="#campaign"' in html and "60 trials" in section
    for p in (SPEED, DELAY):
        assert f"<code>{p.name}</code>" in section and p.source in section
    assert "uniform(5400, 9000)" in section and "triangular(30, 60, 180)" in section
    figures = re.findall(r'<img src="data:image/png;base64,[^"]+"[^>]*alt="([^"]+)"', section)
    # the fraction follows the speed, the population the delay: one figure each
    assert figures == [
        "campaign engageable_fraction irbm",
        "campaign population_defended box → irbm",
    ]
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", section)
    assert f"versus {SPEED.name}" in captions[0] and f"versus {DELAY.name}" in captions[1]

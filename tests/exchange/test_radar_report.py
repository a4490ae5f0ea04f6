"""Radar reports (issue 13.1): strict plots, and a `fused-only` recipient never sees a plot."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.exchange.conftest import message, post, problem_slug, setup_db, signed_get

from openbmd.exchange import entries
from openbmd.exchange.app import create_app
from openbmd.exchange.domain import Agreement, Rule
from openbmd.exchange.settings import Settings
from openbmd.exchange.store import Store

RADAR = frozenset({"radar_report"})
AGREEMENTS = [
    Agreement(
        "alpha-radar",
        "alpha",
        (Rule("bravo", RADAR, "fused-only"), Rule("charlie", RADAR, "L3")),
    )
]


def report(**plot_changes: Any) -> dict[str, Any]:
    m = message("radar_report", recipients=["bravo", "charlie"], agreement="alpha-radar")
    m["plots"] = [m["plots"][0] | plot_changes]
    return m


@pytest.fixture
def radar_client(db_url: str) -> Any:
    setup_db(db_url, AGREEMENTS)
    with TestClient(create_app(Settings(database_url=db_url))) as c:
        yield c


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"range_km": "1480"}, "range_km"),  # strict: no string → number coercion
        ({"range_km": -1.0}, "range_km"),
        ({"range_km": 1e9}, "range_km"),
        ({"azimuth_deg": 360.0}, "azimuth_deg"),
        ({"elevation_deg": 91.0}, "elevation_deg"),
        ({"sigma_range_km": 0.0}, "sigma_range_km"),
        ({"sigma_azimuth_deg": 45.0}, "sigma_azimuth_deg"),
        ({"sensor_lat_deg": 95.0}, "sensor_lat_deg"),
        ({"sensor_id": "../etc"}, "sensor_id"),
        ({"time": "yesterday"}, "time"),
        ({"time": "2026-01-01T00:00:00"}, "time"),  # no time zone
        ({"extra": 1}, "extra"),
    ],
)
def test_malformed_plots_are_problem_documents(
    radar_client: TestClient, change: dict[str, Any], field: str
) -> None:
    r = post(radar_client, report(**change))
    assert r.status_code == 422, r.text
    assert problem_slug(r) == "invalid-field"
    assert field in r.json()["detail"]


@pytest.mark.parametrize(("plots", "why"), [([], "plots"), ("plot", "plots")])
def test_report_needs_a_list_of_plots(radar_client: TestClient, plots: Any, why: str) -> None:
    msg = report()
    msg["plots"] = plots
    r = post(radar_client, msg)
    assert r.status_code == 422 and why in r.json()["detail"], r.text


def test_fused_only_recipient_never_sees_a_plot(radar_client: TestClient, db_url: str) -> None:
    msg = report()
    r = post(radar_client, msg)
    assert r.status_code == 201, r.text
    index = r.json()["index"]
    charlie = signed_get(radar_client, "charlie", "/v1/messages").json()["items"]
    assert [i["message"]["plots"] for i in charlie] == [msg["plots"]]  # L3: the plots
    bravo = signed_get(radar_client, "bravo", "/v1/messages").json()["items"]
    assert bravo == []  # fused-only: nothing of the raw report
    tags = {}
    for p in ("alpha", "bravo", "charlie"):
        page = signed_get(radar_client, p, "/v1/log/entries", start=index, end=index + 1).json()
        leaf = base64.b64decode(page["entries"][0]["leaf_b64"])
        tags[p] = entries.party_tag(base64.b64decode(page["tag_key_b64"]), index)
    held = {p for p, tag in tags.items() if any(t == tag for t, _ in entries.slots_of(leaf) or [])}
    assert held == {"alpha", "charlie"}  # sender and charlie: no slot for a bravo projection
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT count(*) FROM projections WHERE recipient = 'bravo'"
            ).scalar()
    finally:
        store.close()
    assert rows == 0

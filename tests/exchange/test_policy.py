"""Sharing policy: the matrix partner × message type × level — nothing leaks above its level."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbmd.cli.exchange_examples import example_payload
from openbmd.exchange.domain import LEVELS, Agreement, Rule
from openbmd.exchange.policy import (
    ENVELOPE_L0,
    FIELD_KIND,
    NotCovered,
    meets_threshold,
    project,
    route,
)
from openbmd.exchange.schemas import MESSAGE_TYPES, MessageAdapter

L3_ONLY = {
    "range_km",
    "apogee_km",
    "perigee_km",
    "inclination_deg",
    "position_ecef_m",
    "velocity_ecef_m_s",
    "covariance",
    "seq",
    "nonce",
    "recipients",
}


def full(msg_type: str) -> dict[str, Any]:
    m = example_payload(msg_type)
    m.update(message_id="m-1", sent_at="2030-01-01T00:00:00Z", nonce="n" * 22, seq=1)
    if msg_type == "launch_event":
        m["range_km"] = 2345.678
    MessageAdapter.validate_python(m)  # the fixture itself is valid
    return m


def _coords(obj: Any) -> list[float]:
    out: list[float] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("lat_deg", "lon_deg"):
                out.append(float(v))
            else:
                out.extend(_coords(v))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(_coords(v))
    return out


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("msg_type", MESSAGE_TYPES)
def test_projection_never_exceeds_level(msg_type: str, level: Any) -> None:
    m = full(msg_type)
    p = project(m, level)
    if level == "L3":
        assert p == m
        return
    assert set(ENVELOPE_L0) <= set(p)
    if level == "L0":
        assert set(p) == set(ENVELOPE_L0)
        return
    assert not (set(p) & L3_ONLY), set(p) & L3_ONLY
    assert set(p) <= set(ENVELOPE_L0) | set(FIELD_KIND)
    step = 1.0 if level == "L1" else 1.0 / 60.0
    for c in _coords(p):
        assert math.isclose(c / step, round(c / step), abs_tol=1e-6)
    if "azimuth_deg" in p:
        az_step = 10.0 if level == "L1" else 1.0
        assert p["azimuth_deg"] % az_step == pytest.approx(0.0, abs=1e-9)
    for area_key in ("launch_area", "impact_area"):
        area = p.get(area_key)
        if area and area["shape"] == "circle":
            rstep = 111.0 if level == "L1" else 2.0
            assert area["radius_km"] % rstep == 0 and area["radius_km"] >= m[area_key]["radius_km"]
    # exact coordinates of the original never appear below L3 (they are not on the grid)
    text = json.dumps(p)
    for c in _coords(m):
        if not math.isclose(c / step, round(c / step), abs_tol=1e-6):
            assert repr(c) not in text


def test_levels_are_nested() -> None:
    for t in MESSAGE_TYPES:
        keys = [set(project(full(t), lv)) for lv in LEVELS]
        assert keys[0] <= keys[1] <= keys[2] <= keys[3]


AGREEMENT = Agreement(
    "a",
    "alpha",
    (
        Rule("bravo", frozenset({"*"}), "L2"),
        Rule("bravo", frozenset({"launch_event"}), "L1", threshold_km=1000.0),
        Rule("charlie", frozenset({"free_text"}), "L3"),
        Rule("delta", frozenset({"launch_event"}), "L3", below_threshold="L0"),
    ),
)


@pytest.mark.parametrize(
    ("recipient", "msg_type", "fields", "expected"),
    [
        ("bravo", "free_text", {}, "L2"),
        ("bravo", "launch_event", {"apogee_km": 1500.0}, "L1"),
        ("bravo", "launch_event", {"apogee_km": 600.0, "range_km": None}, None),
        ("delta", "launch_event", {"apogee_km": 100.0, "range_km": None}, "L0"),
        ("delta", "launch_event", {"apogee_km": 501.0}, "L3"),
        ("charlie", "free_text", {}, "L3"),
    ],
)
def test_route_matrix(
    recipient: str, msg_type: str, fields: dict[str, Any], expected: str | None
) -> None:
    m = full(msg_type) | fields | {"recipients": [recipient]}
    assert route(AGREEMENT, m).get(recipient) == expected


def test_route_refuses_uncovered_and_foreign() -> None:
    with pytest.raises(NotCovered):
        route(AGREEMENT, full("track_update") | {"recipients": ["charlie"]})
    with pytest.raises(NotCovered):
        route(AGREEMENT, full("free_text") | {"sender": "bravo", "recipients": ["alpha"]})


def test_threshold_default_and_unknown() -> None:
    assert meets_threshold({"range_km": 501.0}, 500.0)
    assert not meets_threshold({"range_km": 500.0, "apogee_km": 100.0}, 500.0)
    assert meets_threshold({}, 500.0)  # neither stated: notify


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fast_canonical_json_equals_rfc8785(value: Any) -> None:
    import rfc8785

    from openbmd.exchange.policy import canonical_json

    assert canonical_json(value) == rfc8785.dumps(value)

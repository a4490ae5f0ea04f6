"""Scoring an exchange exercise against the scenario's truth (``openbmd exchange exercise``).

* **Track error** — the centre's tracker (:class:`openbmd.exchange.fusion.JointTracker`, the
  very code the fusion service runs) is replayed on the reports exactly as they were sent: once
  on every partner's (the fused track), once on each partner's alone (its own track). After
  each scan, the error of a threat is the distance from its true position to the nearest
  confirmed track, if one is within :data:`GATE_M`; only the midcourse counts (burnout to
  impact: the tracker models ballistic flight). A fused and a single-partner RMS are compared
  on the scan times where both track the threat (``*_common_m``).
* **Notifications** — each ``fused_launch_notification`` seen in full (L3) by some partner is
  matched to the threat whose truth is nearest its ``position_ecef_m`` at its ``epoch``
  (within :data:`GATE_M`). The time to notification is its ``epoch`` (the time of the last
  scan behind it) from the launch, on the scenario clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from openbmd import earth
from openbmd.analysis.exercise import Flights, inside_ellipse
from openbmd.exchange.fusion import NOTIFICATION_TYPE, JointTracker, seconds
from openbmd.tracking import state_eci2ecef

__all__ = ["GATE_M", "score_notifications", "track_errors", "track_summary"]

GATE_M = 50_000.0  # a track farther than this from a threat is not a track of it


def track_errors(
    reports: Sequence[tuple[str, list[dict[str, Any]]]], flights: Flights, clock0: float
) -> tuple[list[dict[float, float]], list[float | None]]:
    """Per threat: scan time [s, scenario clock] → position error [m] of the nearest track,
    and when a track of it first had the support the centre notifies on
    (:meth:`JointTracker.ready`) — the centre's notification time had it fused each report
    as it came.

    *reports*: ``(sender, plots)`` in the order sent; the tracker sees them one by one.
    """
    joint = JointTracker()
    n = len(flights.threat)
    errors: list[dict[float, float]] = [{} for _ in range(n)]
    ready: list[float | None] = [None] * n
    for i, (sender, plots) in enumerate(reports):
        joint.add([(i, {"sender": sender, "plots": plots})])
        b = joint.tracker.tracks
        if not b.confirmed.any():
            continue
        t = seconds(plots[0]["time"]) - clock0
        live = np.flatnonzero((flights.burnout_time <= t) & (t <= flights.impact_time))
        if not live.size:
            continue
        pos = state_eci2ecef(b.x, b.t)[:, :3]  # (K, 3)
        truth = flights.position(live, np.full(live.size, t))  # (L, 3)
        d = np.linalg.norm(pos[None, :, :] - truth[:, None, :], axis=-1)  # (L, K)
        near = np.where(b.confirmed, d, np.inf).min(axis=1)
        ok = np.isin(b.track_id, joint.ready())
        near_ready = np.where(ok, d, np.inf).min(axis=1)
        for k, dk, dr in zip(live.tolist(), near.tolist(), near_ready.tolist(), strict=True):
            if dk <= GATE_M:
                errors[k][round(t, 3)] = dk
            if dr <= GATE_M and ready[k] is None:
                ready[k] = round(t - float(flights.launch_time[k]), 3)
    return errors, ready


def _rms(values: Any) -> float | None:
    v = np.asarray(list(values), dtype=float)
    return float(np.sqrt(np.mean(v**2))) if v.size else None


def _at(series: Mapping[float, float], launch: float) -> list[dict[str, float]]:
    """The error at the first, middle and last tracked scans (s after launch)."""
    times = sorted(series)
    if not times:
        return []
    picks = dict.fromkeys([times[0], times[len(times) // 2], times[-1]])
    return [{"t_s": round(t - launch, 3), "error_m": series[t]} for t in picks]


def track_summary(
    fused: Sequence[Mapping[float, float]],
    single: Mapping[str, Sequence[Mapping[float, float]]],
    flights: Flights,
) -> list[dict[str, Any]]:
    """Per threat: the fused track's RMS and samples, each partner's own, and the comparison
    with the best single partner (lowest own RMS) on the times both track it."""
    out = []
    for k in range(len(flights.threat)):
        f = fused[k]
        own = {p: s[k] for p, s in single.items() if s[k]}
        row: dict[str, Any] = {
            "fused_rms_m": _rms(f.values()),
            "fused_scans": len(f),
            "fused_at": _at(f, float(flights.launch_time[k])),
            "single_rms_m": {p: _rms(s.values()) for p, s in sorted(own.items())},
            "best_single": None,
        }
        if own:
            best = min(own, key=lambda p: _rms(own[p].values()) or math.inf)
            common = sorted(set(f) & set(own[best]))
            row["best_single"] = {
                "partner": best,
                "rms_m": _rms(own[best].values()),
                "common_scans": len(common),
                "best_common_m": _rms(own[best][t] for t in common),
                "fused_common_m": _rms(f[t] for t in common),
            }
        out.append(row)
    return out


def _ground_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(earth.geodesic_inverse(lat1, lon1, lat2, lon2)[0]) / 1e3


def score_notifications(
    views: Mapping[str, Sequence[Mapping[str, Any]]], flights: Flights, clock0: float
) -> tuple[list[dict[str, Any] | None], int]:
    """Per threat: its first fused notification scored against truth (``None``: none), and
    the number of notifications that match no threat."""
    full: dict[int, Mapping[str, Any]] = {}
    for items in views.values():
        for it in items:
            if it["type"] == NOTIFICATION_TYPE and it["level"] == "L3":
                full.setdefault(int(it["index"]), it["message"])
    first: list[dict[str, Any] | None] = [None] * len(flights.threat)
    unmatched = 0
    for index, m in sorted(full.items()):
        t = seconds(m["epoch"]) - clock0
        live = np.flatnonzero((flights.launch_time <= t) & (t <= flights.impact_time))
        pos = np.asarray(m["position_ecef_m"])
        d = np.linalg.norm(flights.position(live, np.full(live.size, t)) - pos, axis=-1)
        if not d.size or d.min() > GATE_M:
            unmatched += 1
            continue
        k = int(live[int(np.argmin(d))])
        seen = first[k]
        if seen is not None and seen["epoch_s"] <= t - flights.launch_time[k]:
            continue
        area = m["impact_area"]
        c = area["center"]
        lat_i, lon_i = float(flights.impact_lat[k]), float(flights.impact_lon[k])
        lc = m["launch_area"]["center"]
        launch_t = seconds(m["estimated_launch_time"]) - clock0
        first[k] = {
            "index": index,
            "track_id": m["track_id"],
            "epoch_s": round(t - float(flights.launch_time[k]), 3),
            "threat_class": m["threat_class"],
            "confidence": m["confidence"],
            "reports": len(m["report_indices"]),
            "position_error_m": float(d.min()),
            "impact_error_km": _ground_km(
                math.radians(c["lat_deg"]), math.radians(c["lon_deg"]), lat_i, lon_i
            ),
            "impact_inside": inside_ellipse(area, lat_i, lon_i) <= 1.0,
            "impact_semi_major_km": area["semi_major_km"],
            "launch_time_error_s": round(launch_t - float(flights.launch_time[k]), 3),
            "launch_error_km": _ground_km(
                math.radians(lc["lat_deg"]),
                math.radians(lc["lon_deg"]),
                float(flights.launch_lat[k]),
                float(flights.launch_lon[k]),
            ),
        }
    return first, unmatched

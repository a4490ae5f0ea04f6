"""Need-to-know sharing: who receives a message, and at what level of detail (pure functions).

Levels (REFERENCES §8):

* **L0** — existence only: ``message_id``, ``sender``, ``sent_at``, ``type``, ``status``,
  ``msg_type``.
* **L1** — plus ``references``, ``agreement``, classes and kinds, every time exactly, free text,
  areas rounded to 1° (circle radii rounded *up* to a multiple of 111 km), azimuth to 10°.
* **L2** — as L1 with areas to 1′ (radii up to a multiple of 2 km) and azimuth to 1°.
* **L3** — the full signed original, unchanged (the recipient can verify the sender's signature).

Range, apogee, perigee, inclination, state vectors and covariances are L3 only; so are the
plots of a radar report. A rule of level ``fused-only`` gives its recipient nothing of the
sender's message (no view item, no commitment in the log); for radar reports it still lets the
centre's fused notifications reach that recipient (:mod:`openbmd.exchange.fusion`).
An impact ellipse is shown from L1 with its centre rounded like an area, its semi-axes rounded
up like a circle radius and its orientation like an azimuth. A field this
module does not know is L3 only (fail closed). ``seq``, ``nonce`` and ``recipients`` are L3 only.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

from openbmd.exchange.domain import FUSED_ONLY, THRESHOLD_TYPES, Agreement, Level
from openbmd.exchange.signing import canonical_json

__all__ = [
    "FIELD_KIND",
    "SALT_BYTES",
    "NotCovered",
    "canonical_json",
    "meets_threshold",
    "project",
    "projection_commitment",
    "route",
]

ENVELOPE_L0 = ("message_id", "sender", "sent_at", "type", "status", "msg_type")

#: field → kind; kinds: "l1" (shown exactly from L1), "area", "azimuth"; absent → L3 only
FIELD_KIND: dict[str, str] = {
    "references": "l1",
    "agreement": "l1",
    "missile_class": "l1",
    "event_kind": "l1",
    "confidence": "l1",
    "simulated": "l1",
    "object_name": "l1",
    "track_id": "l1",
    "related_event": "l1",
    "text": "l1",
    "acknowledged_id": "l1",
    "result": "l1",
    "detail": "l1",
    "window_start": "l1",
    "window_end": "l1",
    "launch_time": "l1",
    "impact_time": "l1",
    "detection_time": "l1",
    "estimated_launch_time": "l1",
    "epoch": "l1",
    "event_time": "l1",
    "report_indices": "l1",
    "threat_class": "l1",
    "launch_area": "area",
    "impact_area": "area",
    "azimuth_deg": "azimuth",
}

_AREA_STEP = {"L1": 1.0, "L2": 1.0 / 60.0}  # degrees
_RADIUS_STEP = {"L1": 111.0, "L2": 2.0}  # km
_AZ_STEP = {"L1": 10.0, "L2": 1.0}  # degrees


class NotCovered(Exception):
    """The agreement has no rule for a (recipient, message type) the sender addressed."""


def _round_to(x: float, step: float) -> float:
    q = math.floor(x / step + 0.5) * step
    return float(round(q, 9))


def _point(p: Mapping[str, Any], step: float) -> dict[str, float]:
    lat = min(90.0, max(-90.0, _round_to(float(p["lat_deg"]), step)))
    lon = _round_to(float(p["lon_deg"]), step)
    if lon > 180.0:
        lon -= 360.0
    return {"lat_deg": lat, "lon_deg": lon}


def _area(area: Mapping[str, Any], level: str) -> dict[str, Any]:
    step = _AREA_STEP[level]
    if area["shape"] == "circle":
        rstep = _RADIUS_STEP[level]
        radius = math.ceil(float(area["radius_km"]) / rstep) * rstep
        return {"shape": "circle", "center": _point(area["center"], step), "radius_km": radius}
    if area["shape"] == "ellipse":
        rstep = _RADIUS_STEP[level]
        return {
            "shape": "ellipse",
            "center": _point(area["center"], step),
            "semi_major_km": math.ceil(float(area["semi_major_km"]) / rstep) * rstep,
            "semi_minor_km": math.ceil(float(area["semi_minor_km"]) / rstep) * rstep,
            "orientation_deg": _round_to(float(area["orientation_deg"]), _AZ_STEP[level]) % 180.0,
            "probability": area["probability"],
        }
    return {"shape": "polygon", "points": [_point(p, step) for p in area["points"]]}


def _azimuth(az: float, level: str) -> float:
    return _round_to(float(az), _AZ_STEP[level]) % 360.0


def project(message: Mapping[str, Any], level: Level) -> dict[str, Any]:
    """The view of *message* at *level* (a new dict; the input is not modified)."""
    if level == "L3":
        return dict(message)
    out = {k: message[k] for k in ENVELOPE_L0 if k in message}
    if level == "L0":
        return out
    for key, value in message.items():
        kind = FIELD_KIND.get(key)
        if kind is None or value is None:
            continue
        if kind == "l1":
            out[key] = value
        elif kind == "area":
            out[key] = _area(value, level)
        elif kind == "azimuth":
            out[key] = _azimuth(value, level)
    return out


def meets_threshold(message: Mapping[str, Any], threshold_km: float) -> bool:
    """Range or apogee above *threshold_km*; messages stating neither count as above it."""
    values = [message.get("range_km"), message.get("apogee_km")]
    known = [float(v) for v in values if v is not None]
    return not known or max(known) > threshold_km


def route(agreement: Agreement, message: Mapping[str, Any]) -> dict[str, Level]:
    """Level per recipient of *message* under *agreement*; recipients getting nothing omitted.

    Raises :class:`NotCovered` if the sender addressed a recipient the agreement has no rule
    for (for this message type), or if the agreement is not the sender's.
    """
    if agreement.sender != message["sender"]:
        raise NotCovered(
            f"agreement {agreement.name!r} is not an agreement of {message['sender']!r}"
        )
    msg_type = message["type"]
    out: dict[str, Level] = {}
    for recipient in message["recipients"]:
        rule = agreement.rule_for(recipient, msg_type)
        if rule is None:
            raise NotCovered(
                f"agreement {agreement.name!r} has no rule for {msg_type} to {recipient!r}"
            )
        if rule.level == FUSED_ONLY:
            continue  # nothing of the message itself; fusion may use it (fusion.py)
        if msg_type in THRESHOLD_TYPES and not meets_threshold(message, rule.threshold_km):
            if rule.below_threshold == "L0":
                out[recipient] = "L0"
            continue
        out[recipient] = rule.level  # type: ignore[assignment]  # fused-only skipped above
    return out


SALT_BYTES = 16
"""Length of a projection salt (128 bits)."""


def projection_commitment(salt: bytes, projection: bytes) -> bytes:
    """SHA-256(salt ‖ projection bytes): the log's commitment to what one recipient is sent.

    Parameters
    ----------
    salt : bytes
        The recipient's :data:`SALT_BYTES` random salt of this entry.
    projection : bytes
        The RFC 8785 bytes the recipient is sent.

    Returns
    -------
    bytes
        The 32-byte commitment.
    """
    return hashlib.sha256(salt + projection).digest()

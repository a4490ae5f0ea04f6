"""Pydantic wire schemas: the eight message types, their envelope, and the API answers.

Units and conventions at this edge: angles in degrees (``*_deg``), distances in km (``*_km``)
except the ECEF state vector in m and m/s, times as RFC 3339 strings with a time zone.
Every model forbids unknown fields: the signature covers the whole message, and the sharing
policy must know what each field is before it may show it to anybody.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

__all__ = [
    "BATCH_MAX",
    "MESSAGE_MODELS",
    "MESSAGE_TYPES",
    "BatchAnswer",
    "BatchRequest",
    "ItemResult",
    "Message",
    "MessageAdapter",
    "SubmitRequest",
]

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="partner name")]
MessageId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
Nonce = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{16,128}$")]
Lat = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
Azimuth = Annotated[float, Field(ge=0.0, lt=360.0, allow_inf_nan=False)]
Km = Annotated[float, Field(gt=0.0, le=100_000.0, allow_inf_nan=False)]
MissileClass = Literal["SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "SLV", "unknown"]
# Times arrive as RFC 3339 strings: the one type parsed from a string (everything else strict).
Time = Annotated[AwareDatetime, Field(strict=False)]

# No coercion: "simulated": "no" or "apogee_km": "610" is refused, not converted.
_STRICT = ConfigDict(extra="forbid", strict=True)


class Point(BaseModel):
    """A geodetic point (WGS-84), degrees."""

    model_config = _STRICT
    lat_deg: Lat
    lon_deg: Lon


class PolygonArea(BaseModel):
    """A closed polygon: at least 4 points, the last equal to the first."""

    model_config = _STRICT
    shape: Literal["polygon"]
    points: list[Point] = Field(min_length=4, max_length=1000)

    @model_validator(mode="after")
    def _closed(self) -> PolygonArea:
        if self.points[0] != self.points[-1]:
            raise ValueError("points: polygon must be closed (last point equal to the first)")
        return self


class CircleArea(BaseModel):
    """A circle on the ground: centre and radius (> 0 km)."""

    model_config = _STRICT
    shape: Literal["circle"]
    center: Point
    radius_km: Annotated[float, Field(gt=0.0, le=20_000.0, allow_inf_nan=False)]


Area = Annotated[PolygonArea | CircleArea, Field(discriminator="shape")]


class Envelope(BaseModel):
    """Envelope after OASIS CAP 1.2 (identifier, sender, sent, status, msgType, references)."""

    model_config = _STRICT
    message_id: MessageId
    sender: Name
    sent_at: Time
    seq: int = Field(ge=1, le=2**53 - 1)
    nonce: Nonce
    status: Literal["Actual", "Exercise", "Test"]
    msg_type: Literal["Alert", "Update", "Cancel"]
    references: list[MessageId] = Field(default_factory=list, max_length=100)
    agreement: Name
    recipients: list[Name] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _envelope(self) -> Envelope:
        if len(set(self.recipients)) != len(self.recipients):
            raise ValueError("recipients: duplicate recipient")
        if self.sender in self.recipients:
            raise ValueError("recipients: the sender cannot be a recipient")
        if self.msg_type != "Alert" and not self.references:
            raise ValueError(f"references: an {self.msg_type} must reference earlier messages")
        return self


def _order(earlier: datetime | None, later: datetime | None, names: tuple[str, str]) -> None:
    if earlier is not None and later is not None and later < earlier:
        raise ValueError(f"{names[1]}: must not be before {names[0]}")


class PreLaunchNotification(Envelope):
    """Notice ahead of a launch: planned window, launch and impact areas (1988/2000 MoU)."""

    type: Literal["pre_launch_notification"]
    missile_class: MissileClass
    window_start: Time
    window_end: Time
    launch_area: Area
    impact_area: Area
    azimuth_deg: Azimuth | None = None
    range_km: Km | None = None
    apogee_km: Km | None = None

    @model_validator(mode="after")
    def _window(self) -> PreLaunchNotification:
        if self.window_end <= self.window_start:
            raise ValueError("window_end: must be after window_start")
        return self


class PostLaunchNotification(Envelope):
    """Notice after a launch: time, areas, and what was flown."""

    type: Literal["post_launch_notification"]
    missile_class: MissileClass
    launch_time: Time
    launch_area: Area
    impact_area: Area
    impact_time: Time | None = None
    azimuth_deg: Azimuth | None = None
    range_km: Km | None = None
    apogee_km: Km | None = None

    @model_validator(mode="after")
    def _times(self) -> PostLaunchNotification:
        _order(self.launch_time, self.impact_time, ("launch_time", "impact_time"))
        return self


class LaunchEvent(Envelope):
    """An early-warning detection of a launch."""

    type: Literal["launch_event"]
    detection_time: Time
    estimated_launch_time: Time
    missile_class: MissileClass
    launch_area: Area
    azimuth_deg: Azimuth
    impact_area: Area | None = None
    impact_time: Time | None = None
    range_km: Km | None = None
    apogee_km: Km | None = None
    confidence: Literal["tentative", "confirmed"]
    simulated: bool

    @model_validator(mode="after")
    def _times(self) -> LaunchEvent:
        _order(
            self.estimated_launch_time,
            self.detection_time,
            ("estimated_launch_time", "detection_time"),
        )
        _order(
            self.estimated_launch_time, self.impact_time, ("estimated_launch_time", "impact_time")
        )
        return self


Vec3 = Annotated[
    list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=3, max_length=3)
]
Vec6 = Annotated[
    list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=6, max_length=6)
]


class TrackUpdate(Envelope):
    """A track: ECEF state vector (m, m/s) at an epoch and its 6×6 covariance (SI)."""

    type: Literal["track_update"]
    track_id: Annotated[str, Field(min_length=1, max_length=64)]
    epoch: Time
    position_ecef_m: Vec3
    velocity_ecef_m_s: Vec3
    covariance: list[Vec6] = Field(min_length=6, max_length=6)
    missile_class: MissileClass | None = None
    related_event: MessageId | None = None

    @model_validator(mode="after")
    def _state(self) -> TrackUpdate:
        if math.hypot(*self.position_ecef_m) > 1e9:
            raise ValueError("position_ecef_m: farther than 1e9 m from the Earth's centre")
        if math.hypot(*self.velocity_ecef_m_s) > 1e5:
            raise ValueError("velocity_ecef_m_s: faster than 1e5 m/s")
        c = self.covariance
        for i in range(6):
            if c[i][i] < 0.0:
                raise ValueError(f"covariance: diagonal element [{i}][{i}] is negative")
            for j in range(i):
                tol = 1e-9 * max(1.0, abs(c[i][j]), abs(c[j][i]))
                if abs(c[i][j] - c[j][i]) > tol:
                    raise ValueError(f"covariance: not symmetric at [{i}][{j}]")
                if c[i][j] ** 2 > c[i][i] * c[j][j] * (1 + 1e-9) + 1e-300:
                    raise ValueError(f"covariance: |[{i}][{j}]| exceeds sqrt of the diagonal")
        return self


class Plot(BaseModel):
    """One radar plot: when, which sensor where, and what it measured (range, azimuth,
    elevation) with its standard deviations (a diagonal covariance in those coordinates)."""

    model_config = _STRICT
    time: Time
    sensor_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
    sensor_lat_deg: Lat
    sensor_lon_deg: Lon
    sensor_alt_km: Annotated[float, Field(ge=-0.5, le=40_000.0, allow_inf_nan=False)]
    range_km: Annotated[float, Field(gt=0.0, le=50_000.0, allow_inf_nan=False)]
    azimuth_deg: Azimuth
    elevation_deg: Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
    sigma_range_km: Annotated[float, Field(gt=0.0, le=1_000.0, allow_inf_nan=False)]
    sigma_azimuth_deg: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)]
    sigma_elevation_deg: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)]


class RadarReport(Envelope):
    """Raw radar plots of one partner's sensors, for the centre's fusion (issue 13.1)."""

    type: Literal["radar_report"]
    plots: list[Plot] = Field(min_length=1, max_length=500)


class SpaceEvent(Envelope):
    """A space launch, re-entry or other event in orbit."""

    type: Literal["space_event"]
    event_kind: Literal["launch", "reentry", "manoeuvre", "breakup", "other"]
    event_time: Time
    object_name: Annotated[str, Field(min_length=1, max_length=128)]
    launch_area: Area | None = None
    perigee_km: Km | None = None
    apogee_km: Km | None = None
    inclination_deg: Annotated[float, Field(ge=0.0, le=180.0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _orbit(self) -> SpaceEvent:
        if self.perigee_km is not None and self.apogee_km is not None:
            if self.apogee_km < self.perigee_km:
                raise ValueError("apogee_km: must not be below perigee_km")
        return self


class FreeText(Envelope):
    """A free-text message."""

    type: Literal["free_text"]
    text: Annotated[str, Field(min_length=1, max_length=10_000)]


class Ack(Envelope):
    """Acknowledgement (or error report) about an earlier message."""

    type: Literal["ack"]
    acknowledged_id: MessageId
    result: Literal["received", "accepted", "rejected", "error"]
    detail: Annotated[str, Field(max_length=2000)] | None = None


MESSAGE_MODELS: dict[str, type[Envelope]] = {
    "pre_launch_notification": PreLaunchNotification,
    "post_launch_notification": PostLaunchNotification,
    "launch_event": LaunchEvent,
    "track_update": TrackUpdate,
    "space_event": SpaceEvent,
    "free_text": FreeText,
    "ack": Ack,
    "radar_report": RadarReport,
}
MESSAGE_TYPES: tuple[str, ...] = tuple(MESSAGE_MODELS)

Message = Annotated[
    PreLaunchNotification
    | PostLaunchNotification
    | LaunchEvent
    | TrackUpdate
    | SpaceEvent
    | FreeText
    | Ack
    | RadarReport,
    Field(discriminator="type"),
]
MessageAdapter: TypeAdapter[Any] = TypeAdapter(Message)


class SubmitRequest(BaseModel):
    """``POST /v1/messages`` body: the message and the sender's Ed25519 signature over
    RFC 8785 canonical JSON of exactly that message object (base64)."""

    model_config = _STRICT
    message: Message
    signature: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9+/]{85}[AQgw]==$",
            description="base64 of the 64-byte Ed25519 signature",
        ),
    ]


class Accepted(BaseModel):
    """The answer to an accepted submission."""

    index: int = Field(description="position of the message's leaf in the log")
    message_id: str


class PartnerOut(BaseModel):
    """A registered partner."""

    name: str
    fingerprint: str = Field(description="hex SHA-256 of the raw Ed25519 public key")
    public_key_pem: str
    rotations: list[dict[str, str]] = Field(
        default_factory=list,
        description="every key rotation, oldest first: {partner, previous_fingerprint, "
        "public_key_pem, signature_b64} signed (RFC 8785 of the first three) by the old key",
    )


class EnrolRequest(BaseModel):
    """``POST /v1/partners``: a partner enrolling itself (the request signed by this key)."""

    model_config = _STRICT
    name: Name
    public_key_pem: str = Field(
        min_length=1, max_length=4096, description="its Ed25519 public key (SPKI PEM)"
    )


class RuleModel(BaseModel):
    """One sharing rule: what *recipient* sees of the listed message types."""

    model_config = _STRICT
    recipient: Name
    types: list[Literal["*"] | Literal[MESSAGE_TYPES]] = Field(min_length=1)  # type: ignore[valid-type]
    level: Literal["L0", "L1", "L2", "L3", "fused-only"] = Field(
        description="detail of the sender's messages; `fused-only` (radar reports): none of "
        "the raw report, only the centre's fused notifications derived from it"
    )
    threshold_km: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 500.0
    below_threshold: Literal["none", "L0"] = "none"


class AgreementModel(BaseModel):
    """A sharing agreement of one sender with its recipients."""

    model_config = _STRICT
    name: Name
    sender: Name
    rules: list[RuleModel] = Field(min_length=1)
    signature_b64: str | None = Field(
        None,
        description="the sender's Ed25519 signature over the RFC 8785 form of the agreement "
        "without this field (shown to the sender only; a recipient sees just its own rules)",
    )


class AgreementFile(BaseModel):
    """The YAML file of ``openbmd exchange agreement add``."""

    model_config = _STRICT
    agreements: list[AgreementModel] = Field(min_length=1)


class ViewItem(BaseModel):
    """One message as the caller may see it."""

    index: int
    message_id: str
    sender: str
    type: str
    level: Literal["L0", "L1", "L2", "L3", "own"]
    message: dict[str, Any]
    signature: str | None = Field(None, description="sender's signature (L3 and own only)")
    salt_b64: str | None = Field(
        None,
        description="this recipient's salt: the log entry commits to "
        "SHA-256(salt ‖ RFC 8785 bytes of message) for it (None for own messages)",
    )
    leaf_b64: str | None = Field(
        None,
        description="the exact log entry at `index`: its RFC 9162 leaf hash is provable "
        "against a signed checkpoint (GET /v1/log/proof/inclusion), and it commits to this item",
    )


class ViewPage(BaseModel):
    """A page of the caller's view, in log order."""

    items: list[ViewItem]
    next_after: int | None = Field(description="pass as ?after= to continue")


class LogEntry(BaseModel):
    """One leaf of the log."""

    index: int
    leaf_b64: str


class LogEntries(BaseModel):
    """Leaves ``[start, end)``."""

    entries: list[LogEntry]


class InclusionProof(BaseModel):
    """RFC 9162 audit path."""

    index: int
    tree_size: int
    hashes_b64: list[str]


class ConsistencyProof(BaseModel):
    """RFC 9162 consistency proof."""

    first: int
    second: int
    hashes_b64: list[str]


class CosignatureAccepted(BaseModel):
    """The answer to a stored cosignature."""

    witness: str
    tree_size: int


BATCH_MAX = 1000
"""Most items in one ``POST /v1/messages:batch``."""


class BatchRequest(BaseModel):
    """``POST /v1/messages:batch`` body: up to 1000 items, each a ``POST /v1/messages`` body
    (``SubmitRequest``: the message and the sender's signature), checked one by one."""

    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=BATCH_MAX,
        description="each item a SubmitRequest: {message, signature}",
    )


class ItemResult(BaseModel):
    """One item's answer: ``status`` 201 (accepted now) or 200 (idempotent resubmission) with
    ``index`` and ``message_id``; otherwise the problem document (``type``, ``title``,
    ``status``, ``detail``) of that item, with ``item`` its position in the request."""

    status: int
    index: int | None = None
    message_id: str | None = None
    type: str | None = None
    title: str | None = None
    detail: str | None = None
    item: int | None = None


class BatchAnswer(BaseModel):
    """One result per item, in request order."""

    results: list[ItemResult]

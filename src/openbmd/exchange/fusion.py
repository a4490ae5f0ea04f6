"""Joint tracks from every partner's radar reports, and the centre's launch notifications.

:class:`JointTracker` is the pure part: it feeds the plots of committed ``radar_report``
messages, scan by scan in time order, to one :class:`openbmd.tracking.Tracker` (all sensors of
all partners update the same tracks: centralised measurement fusion; a scan without a
track's plot is no miss — the sensor may not cover that part of the sky — so a track is
deleted once no sensor updated it for ``coast_s``), remembers which log entries supported
each track, and turns a track with enough support into a launch
notification (:func:`notification`). :class:`FusionService` is the part in the running centre:
a background task that follows the committed log — it wakes on the writer's commit notice,
which is published only after the submitters were answered, so fusion is never on the
acknowledgement path — and logs each notification as the centre's own, signed entry.

Who receives a notification (need-to-know, :func:`recipient_levels`): a partner gets it only if
*every* other partner whose reports it came from lets it see their radar reports (any level,
``fused-only`` included), at the coarsest level they grant, ``fused-only`` counting as L3 of the
fused result (the exact fused track, still none of the raw plots).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from openbmd.constants import OMEGA_EARTH
from openbmd.exchange.domain import CENTRE_SENDER, FUSED_ONLY, LEVELS, Agreement, Level, Submission
from openbmd.exchange.feed import Notifier
from openbmd.exchange.signing import canonical_json
from openbmd.exchange.store import Store, now_iso
from openbmd.exchange.writer import Writer
from openbmd.tracking import RadarModel, Tracker, eci2ecef_matrix, predict_impact, state_eci2ecef
from openbmd.tracking.batch import TrackBatch

__all__ = [
    "CENTRE_SENDER",
    "NOTIFICATION_TYPE",
    "FusionService",
    "JointTracker",
    "notification",
    "recipient_levels",
    "seconds",
]

log = logging.getLogger("openbmd.exchange")

NOTIFICATION_TYPE = "fused_launch_notification"
EARTH_RADIUS_KM = 6371.0
_CLASSES = ((1000.0, "SRBM"), (3000.0, "MRBM"), (5500.0, "IRBM"))  # ground range upper bounds


def seconds(iso: str) -> float:
    """POSIX seconds of an RFC 3339 time: the tracker's time axis (ECI = ECEF at 0)."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class JointTracker:
    """One tracker over all partners' sensors, with the log indices behind every track.

    Parameters
    ----------
    min_hits : int
        Updates a confirmed track needs before a notification is issued from it.
    coast_s : float
        A track no sensor updated for this long [s] is deleted (three revisits of a 10-s
        early-warning radar by default).
    """

    min_hits: int = 8
    tracker: Tracker = field(default_factory=Tracker)
    support: dict[int, set[int]] = field(default_factory=dict)  # track id → log indices
    coast_s: float = 30.0
    updated: dict[int, float] = field(default_factory=dict)  # track id → last update [s]
    senders: dict[int, str] = field(default_factory=dict)  # log index → sender
    latest: float = -math.inf
    dropped: int = 0  # plots older than the last scan processed (out of order)
    # per sensor: its last scan's unassigned plots and log indices (two-point initiation must
    # pair two scans of the same sensor, so each sensor keeps its own pending scan)
    _pending: dict[str, tuple[Any, set[int]]] = field(default_factory=dict)
    # notifications due: (track id, body, supporting log indices) at the scan a track first
    # became ready — not at the end of the batch, where a short track may already be deleted
    # and a long one has moved on; so a notification is the same however the log is batched
    due: list[tuple[int, dict[str, Any], frozenset[int]]] = field(default_factory=list)
    announced: set[int] = field(default_factory=set)

    def add(self, reports: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
        """Process the plots of committed radar reports ``(log index, message)``.

        Plots are grouped into scans (same sender, sensor and time) and processed in time
        order; a scan older than the last one processed is dropped (counted in ``dropped``).
        """
        scans: dict[tuple[float, str], list[tuple[int, Mapping[str, Any]]]] = {}
        for index, msg in reports:
            self.senders[index] = msg["sender"]
            for p in msg["plots"]:
                key = (seconds(p["time"]), f"{msg['sender']}/{p['sensor_id']}")
                scans.setdefault(key, []).append((index, p))
        for (t, sensor_key), plots in sorted(scans.items(), key=lambda kv: kv[0]):
            if t < self.latest:
                self.dropped += len(plots)
                continue
            self.latest = t
            self._scan(t, sensor_key, plots)
            self._announce()

    def _announce(self) -> None:
        """Queue in :attr:`due` the notification of every track ready for the first time."""
        for tid in self.ready():
            if tid in self.announced:
                continue
            body = notification(self.track(tid))
            if body is not None:  # else: retried at the next scan
                self.announced.add(tid)
                self.due.append((tid, body, frozenset(self.support[tid])))

    def take_due(self) -> list[tuple[int, dict[str, Any], frozenset[int]]]:
        """The notifications queued since the last call (and forget them)."""
        out, self.due = self.due, []
        return out

    def _scan(self, t: float, key: str, plots: list[tuple[int, Mapping[str, Any]]]) -> None:
        p0 = plots[0][1]
        sensor = RadarModel.from_geodetic(
            math.radians(p0["sensor_lat_deg"]), math.radians(p0["sensor_lon_deg"]),
            p0["sensor_alt_km"] * 1e3, p0["sigma_range_km"] * 1e3,
            math.radians(p0["sigma_azimuth_deg"]), math.radians(p0["sigma_elevation_deg"]),
        )  # fmt: skip
        z = np.array(
            [
                (p["range_km"] * 1e3, *np.radians([p["azimuth_deg"], p["elevation_deg"]]))
                for _, p in plots
            ]
        )
        indices = np.array([i for i, _ in plots])
        pending, pending_idx = self._pending.get(key, (None, set()))
        tr = self.tracker
        tr._pending = pending  # this sensor's previous scan (see the field's comment)
        before = set(tr.tracks.track_id.tolist())
        ids = tr.tracks.track_id.copy()
        # Sensors see different parts of the sky: a scan without a track's plot is no evidence
        # against the track (another sensor may hold it), so the tracker's scan-counted misses
        # and age are neutralised (step() adds one to both; they are offset first) and a track
        # is deleted instead once no sensor has updated it for ``coast_s``.
        b = tr.tracks
        tr.tracks = replace(b, misses=b.misses - 1, age=b.age - 1)
        assoc = tr.step(t, sensor, z)
        hit = [int(ids[k]) for k in assoc.track.tolist()]
        for k, m in zip(assoc.track.tolist(), assoc.meas.tolist(), strict=True):
            self.support.setdefault(int(ids[k]), set()).add(int(indices[m]))
        new = set(tr.tracks.track_id.tolist()) - before  # initiated by this scan
        for tid in new:
            self.support[tid] = set(pending_idx) | {int(i) for i in indices}
        self.updated.update(dict.fromkeys([*hit, *new], t))
        b = tr.tracks
        fresh = np.array([self.updated[int(i)] >= t - self.coast_s for i in b.track_id], bool)
        b = replace(b, age=b.age + np.isin(b.track_id, hit))  # a scan with a hit does count
        tr.tracks = b.take(fresh)
        self._pending[key] = (tr._pending, set(indices.tolist()))

    def ready(self) -> list[int]:
        """Ids of confirmed tracks with at least ``min_hits`` updates."""
        b = self.tracker.tracks
        ok = b.confirmed & (b.hits >= self.min_hits)
        return [int(i) for i in b.track_id[ok]]

    def track(self, track_id: int) -> TrackBatch:
        """The one-row batch of *track_id*."""
        b = self.tracker.tracks
        return b.take(np.flatnonzero(b.track_id == track_id))


def _ground_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _center(lat: float, lon: float) -> dict[str, float]:
    """``{lat_deg, lon_deg}`` of a point given in radians (longitude wrapped to ±180°)."""
    return {"lat_deg": math.degrees(lat), "lon_deg": (math.degrees(lon) + 180.0) % 360.0 - 180.0}


def notification(b: TrackBatch, probability: float = 0.99) -> dict[str, Any] | None:
    """The fused content of a launch notification from a one-row track batch (None if its
    predicted path does not reach the ground).

    Impact: :func:`openbmd.tracking.predict_impact` (unscented transform, ellipse of
    *probability*). Launch: the same prediction for the time-reversed state ``(r, −v)`` —
    vacuum ballistic flight is time-reversible in the inertial frame — whose ground crossing at
    ``t + τ`` is the launch at ``t − τ`` (its longitude corrected by ``2 ω⊕ τ`` for the Earth's
    rotation). This extrapolates the ballistic arc to the ground, so the launch point and time
    are biased by the powered flight (tens of km, tens of s). The threat class is from the
    ground range launch → impact (SRBM < 1000 km < MRBM < 3000 km < IRBM < 5500 km < ICBM).
    """
    imp = predict_impact(b, probability=probability)
    rev = predict_impact(replace(b, x=np.concatenate([b.x[:, :3], -b.x[:, 3:]], -1)), 0.0, 0.9)
    t = float(b.t[0])
    if not (np.isfinite(imp.lat[0]) and np.isfinite(rev.lat[0])):
        return None
    tau = float(rev.time[0]) - t
    lat_l, lon_l = float(rev.lat[0]), float(rev.lon[0]) + 2.0 * OMEGA_EARTH * tau
    lat_i, lon_i = float(imp.lat[0]), float(imp.lon[0])
    range_km = _ground_km(lat_l, lon_l, lat_i, lon_i)
    threat = next((c for bound, c in _CLASSES if range_km < bound), "ICBM")
    c = eci2ecef_matrix(t)
    w = np.array([[0.0, -OMEGA_EARTH, 0.0], [OMEGA_EARTH, 0.0, 0.0], [0.0, 0.0, 0.0]])
    jac = np.block([[c, np.zeros((3, 3))], [-w @ c, c]])  # ∂(ECEF state)/∂(ECI state)
    cov = jac @ b.P[0] @ jac.T
    x_ecef = state_eci2ecef(b.x[0], t)
    return {
        "epoch": _iso(t),
        "position_ecef_m": [float(v) for v in x_ecef[:3]],
        "velocity_ecef_m_s": [float(v) for v in x_ecef[3:]],
        "covariance": [[float(v) for v in row] for row in 0.5 * (cov + cov.T)],
        "estimated_launch_time": _iso(t - tau),
        "launch_area": {
            "shape": "circle",
            "center": _center(lat_l, lon_l),
            "radius_km": max(float(rev.semi_major[0]) / 1e3, 1.0),
        },
        "impact_time": _iso(float(imp.time[0])),
        "impact_area": {
            "shape": "ellipse",
            "center": _center(lat_i, lon_i),
            "semi_major_km": float(imp.semi_major[0]) / 1e3,
            "semi_minor_km": float(imp.semi_minor[0]) / 1e3,
            "orientation_deg": math.degrees(float(imp.orientation[0])),
            "probability": probability,
        },
        "range_km": range_km,
        "threat_class": threat,
    }


def _rule_level(agreement: Agreement | None, recipient: str, report: Mapping[str, Any]) -> int:
    """Rank in LEVELS of what *recipient* may see of fusion over *report* (−1: nothing)."""
    if agreement is None or recipient not in report["recipients"]:
        return -1
    rule = agreement.rule_for(recipient, "radar_report")
    if rule is None:
        return -1
    return len(LEVELS) - 1 if rule.level == FUSED_ONLY else LEVELS.index(rule.level)


def recipient_levels(
    reports: Mapping[int, Mapping[str, Any]], agreements: Mapping[str, Agreement]
) -> dict[str, Level]:
    """Level of a notification per recipient, from the reports it came from (see the module).

    Parameters
    ----------
    reports : Mapping[int, Mapping[str, Any]]
        Log index → the radar report message.
    agreements : Mapping[str, Agreement]
        Every registered agreement by name.
    """
    names = {r["sender"] for r in reports.values()}
    for r in reports.values():
        names.update(r["recipients"])
    out: dict[str, Level] = {}
    for name in sorted(names):
        ranks = [
            _rule_level(agreements.get(r["agreement"]), name, r)
            for r in reports.values()
            if r["sender"] != name
        ]
        rank = min(ranks, default=len(LEVELS) - 1)
        if rank >= 0:
            out[name] = LEVELS[rank]
    return out


class FusionService:
    """The centre's fusion task: follow the committed log, log notifications (see the module).

    Parameters
    ----------
    store, writer, notifier : Store, Writer, Notifier
        The running centre's.
    signer : Callable[[bytes], bytes]
        Signs bytes with the centre's key (Ed25519).
    min_hits : int
        Updates a track needs before a notification is issued.
    """

    def __init__(
        self,
        store: Store,
        writer: Writer,
        notifier: Notifier,
        signer: Callable[[bytes], bytes],
        min_hits: int = 8,
    ) -> None:
        self.store, self.writer, self.notifier, self.signer = store, writer, notifier, signer
        self.joint = JointTracker(min_hits=min_hits)
        self.cursor = -1  # last log index read
        self.reports: dict[int, dict[str, Any]] = {}
        self.issued: set[str] = set()
        self.seq = 0
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="openbmd-fusion")
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Start following the log (in the running event loop)."""
        self._task = asyncio.create_task(self._run(), name="openbmd-fusion")

    async def stop(self) -> None:
        """Stop the task and its thread."""
        self._stopping = True  # wait_for (3.11) may swallow a cancel: the loop checks this too
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        notifier = self.notifier
        await loop.run_in_executor(self.executor, self._load)
        while not self._stopping:
            seen = notifier.size
            try:
                subs = await loop.run_in_executor(self.executor, self.step)
                if subs:
                    for outcome in await self.writer.submit_many(subs):
                        if outcome.problem is not None:
                            log.warning("fusion notification refused: %s", outcome.problem)
            except Exception:  # fusion must never take the centre down
                log.exception("fusion step failed")
            await notifier.wait_beyond(max(seen, self.cursor + 1), 5.0)

    def _load(self) -> None:
        store = self.store
        self.issued = store.message_ids_of(CENTRE_SENDER)
        self.seq = store.last_seqs().get(CENTRE_SENDER, 0)

    def step(self) -> list[Submission]:
        """Read the reports committed since the last call, track, and build the new
        notifications (blocking; the fusion thread)."""
        store = self.store
        new = store.reports_after(self.cursor)
        if not new:
            return []
        self.cursor = max(self.cursor, *(i for i, _ in new))
        self.reports.update(new)
        self.joint.add(new)
        agreements = store.agreements()
        subs = []
        for tid, body, supported in self.joint.take_due():
            message_id = f"fusion-J{tid}"  # replaying the log after a restart gives the same ids
            if message_id in self.issued:
                continue
            support = sorted(supported)
            used = {i: self.reports[i] for i in support if i in self.reports}
            subs.append(self._submission(message_id, tid, used, body, agreements))
            self.issued.add(message_id)
        return subs

    def _submission(
        self,
        message_id: str,
        tid: int,
        used: Mapping[int, Mapping[str, Any]],
        body: dict[str, Any],
        agreements: Mapping[str, Agreement],
    ) -> Submission:
        statuses = {r["status"] for r in used.values()}
        self.seq += 1
        msg: dict[str, Any] = {
            "message_id": message_id,
            "sender": CENTRE_SENDER,
            "sent_at": now_iso(),
            "seq": self.seq,
            "nonce": secrets.token_urlsafe(16),
            "type": NOTIFICATION_TYPE,
            "status": "Actual" if statuses == {"Actual"} else min(statuses - {"Actual"}),
            "msg_type": "Alert",
            "track_id": f"J{tid}",
            "report_indices": sorted(used),
            "confidence": "confirmed"
            if len({r["sender"] for r in used.values()}) > 1
            else "tentative",
        } | body
        data = canonical_json(msg)
        return Submission(
            message=msg,
            canonical=data,
            body_hash=hashlib.sha256(data).digest(),
            signature=self.signer(data),
            sender=CENTRE_SENDER,
            message_id=message_id,
            seq=self.seq,
            nonce=msg["nonce"],
            type=NOTIFICATION_TYPE,
            received_at=msg["sent_at"],
            levels=recipient_levels(used, agreements),
        )

"""Plain frozen domain objects of the exchange centre (no web, no database types)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "LEVELS",
    "Agreement",
    "Cosignature",
    "Outcome",
    "Partner",
    "Rule",
    "Submission",
    "ViewRecord",
]

Level = Literal["L0", "L1", "L2", "L3"]
LEVELS: tuple[Level, ...] = ("L0", "L1", "L2", "L3")
RuleLevel = Literal["L0", "L1", "L2", "L3", "fused-only"]
CENTRE_SENDER = "@centre"
"""Sender of the centre's own log entries, signed by the log key (no partner name starts with
``@``)."""
FUSED_ONLY = "fused-only"
"""A rule level for radar reports: the recipient gets none of the raw report (no view item,
no projection in the log), only the centre's fused notifications derived from it."""
THRESHOLD_TYPES = frozenset({"pre_launch_notification", "post_launch_notification", "launch_event"})


@dataclass(frozen=True)
class Partner:
    """A registered partner and its Ed25519 public key."""

    name: str
    public_key_pem: str
    fingerprint: str
    rotations: tuple[dict[str, Any], ...] = ()  # signed statements, oldest first


@dataclass(frozen=True)
class Rule:
    """What *recipient* sees of the message *types* (``"*"``: every type) of the sender.

    For launch types (pre-/post-launch notifications, launch events) the recipient is notified
    only when the range or apogee exceeds ``threshold_km``; below it the recipient gets nothing
    (``below_threshold="none"``, the default) or existence only (``"L0"``). A message that
    states neither range nor apogee counts as above the threshold.
    """

    recipient: str
    types: frozenset[str]
    level: RuleLevel
    threshold_km: float = 500.0
    below_threshold: Literal["none", "L0"] = "none"

    def covers(self, msg_type: str) -> bool:
        """Does the rule apply to *msg_type*?"""
        return msg_type in self.types or "*" in self.types


@dataclass(frozen=True)
class Agreement:
    """A sender's sharing agreement: an ordered list of rules (specific types win over ``*``)."""

    name: str
    sender: str
    rules: tuple[Rule, ...]

    def rule_for(self, recipient: str, msg_type: str) -> Rule | None:
        """The rule for (*recipient*, *msg_type*): a rule naming the type, else a ``*`` rule."""
        wildcard = None
        for rule in self.rules:
            if rule.recipient != recipient:
                continue
            if msg_type in rule.types:
                return rule
            if "*" in rule.types and wildcard is None:
                wildcard = rule
        return wildcard

    def digest(self) -> bytes:
        """SHA-256 of the RFC 8785 form of :meth:`to_dict`: what the sender signs, and what
        each log entry routed under this agreement names (``agreement_sha256``)."""
        from openbmd.exchange.signing import canonical_json

        return hashlib.sha256(canonical_json(self.to_dict())).digest()

    def to_dict(self) -> dict[str, Any]:
        """JSON form (as stored and served)."""
        return {
            "name": self.name,
            "sender": self.sender,
            "rules": [
                {
                    "recipient": r.recipient,
                    "types": sorted(r.types),
                    "level": r.level,
                    "threshold_km": r.threshold_km,
                    "below_threshold": r.below_threshold,
                }
                for r in self.rules
            ],
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Agreement:
        """Inverse of :meth:`to_dict`."""
        rules = tuple(
            Rule(
                recipient=r["recipient"],
                types=frozenset(r["types"]),
                level=r["level"],
                threshold_km=float(r.get("threshold_km", 500.0)),
                below_threshold=r.get("below_threshold", "none"),
            )
            for r in doc["rules"]
        )
        return cls(name=doc["name"], sender=doc["sender"], rules=rules)


@dataclass(frozen=True)
class Submission:
    """A verified submission on its way to the writer.

    ``canonical`` is the RFC 8785 form of the message (what was signed and what is stored);
    ``body_hash`` its SHA-256. ``skew_problem`` is set when ``sent_at`` fell outside the skew
    window: the writer still answers an idempotent resubmission, otherwise rejects.
    """

    message: dict[str, Any]
    canonical: bytes
    body_hash: bytes
    signature: bytes
    sender: str
    message_id: str
    seq: int
    nonce: str
    type: str
    received_at: str
    skew_problem: tuple[str, str] | None = None
    # The centre's own entries (fusion.py): the recipients' levels, decided by the centre from
    # the agreements of the reports they came from; no sequence, nonce age or agreement check.
    levels: dict[str, Level] | None = None
    # The sender's projection statement, its signature, the per-level salts and projections
    # (statements.Checked): the writer logs exactly the projections the sender signed.
    statement: tuple[bytes, bytes, dict[str, bytes], dict[str, bytes]] | None = None


@dataclass(frozen=True)
class Outcome:
    """The writer's answer to one submission: an index, or a problem ``(slug, detail)``."""

    index: int | None = None
    created: bool = False
    problem: tuple[str, str] | None = None


@dataclass(frozen=True)
class ViewRecord:
    """One message in a partner's view."""

    index: int
    message_id: str
    sender: str
    type: str
    level: str
    message: dict[str, Any]
    signature: bytes | None = None
    salt: bytes | None = None  # this recipient's projection salt (None: own message, old leaf)
    leaf: bytes | None = None  # the exact log entry at ``index`` (checkable against the log)
    opening: bytes | None = None  # own message: the metadata document its leaf commits to
    statement: tuple[bytes, bytes, bytes] | None = None  # projected: (statement, sig, salt)


@dataclass(frozen=True)
class Cosignature:
    """A witness's cosignature line for one checkpoint."""

    witness: str
    tree_size: int
    root_hash: bytes
    line: str
    timestamp: int
    extra: dict[str, Any] = field(default_factory=dict)

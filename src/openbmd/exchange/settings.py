"""Configuration of the exchange service (one frozen object, built by the CLI or by tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///./openbmd-exchange.db"


@dataclass(frozen=True)
class Settings:
    """Everything :func:`openbmd.exchange.app.create_app` needs.

    ``skew_seconds``: a submission's ``sent_at`` (and a signed read's timestamp) must lie within
    ± this many seconds of the centre's clock. ``batch_max``: most messages committed in one
    group-commit transaction. ``origin``: the first line of every checkpoint (C2SP
    tlog-checkpoint), a schema-less URL naming this log. ``key_name``: the signed-note key name
    of the centre (defaults to the origin). ``verify_workers``: processes that check the
    signatures of submitted messages (started once there is load; 0: inline).
    ``key_file``: the centre's signing key (0600 PEM; default
    :func:`openbmd.exchange.keys.default_key_file` of the database). ``max_body_bytes``:
    larger request bodies get 413. ``feeds_per_partner``: most concurrent WebSocket feeds of
    one partner. ``fusion_min_hits``: updates a fused track needs before the centre issues a
    launch notification from it. ``open_enrolment``: partners may enrol themselves
    (``POST /v1/partners``, proof of possession) and post their own signed agreements
    (``POST /v1/agreements``) — :mod:`openbmd.exchange.enrolment`; ``openbmd exchange serve``
    turns it on by default only on a loopback address.
    """

    database_url: str = DEFAULT_DATABASE_URL
    skew_seconds: float = 300.0
    batch_max: int = 2000
    origin: str = "openbmd.org/exchange/log"
    key_name: str | None = None
    page_max: int = 1000
    verify_in_threadpool: bool = False
    verify_workers: int = 2
    key_file: str | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    feeds_per_partner: int = 4
    fusion_min_hits: int = 8
    open_enrolment: bool = False

    @property
    def key_path(self) -> Path:
        """The centre key file: ``key_file``, else the default for the database."""
        from openbmd.exchange.keys import default_key_file

        return Path(self.key_file) if self.key_file else default_key_file(self.database_url)

    @property
    def note_key_name(self) -> str:
        """The key name in the centre's signed-note signature lines."""
        return self.key_name or self.origin

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``OPENBMD_EXCHANGE_*`` environment variables, then *overrides*."""
        values: dict[str, object] = {}
        env = os.environ
        if "OPENBMD_EXCHANGE_DATABASE_URL" in env:
            values["database_url"] = env["OPENBMD_EXCHANGE_DATABASE_URL"]
        if "OPENBMD_EXCHANGE_SKEW_SECONDS" in env:
            values["skew_seconds"] = float(env["OPENBMD_EXCHANGE_SKEW_SECONDS"])
        if "OPENBMD_EXCHANGE_KEY_FILE" in env:
            values["key_file"] = env["OPENBMD_EXCHANGE_KEY_FILE"]
        if "OPENBMD_EXCHANGE_OPEN_ENROLMENT" in env:
            values["open_enrolment"] = env["OPENBMD_EXCHANGE_OPEN_ENROLMENT"] in ("1", "true")
        if "OPENBMD_EXCHANGE_ORIGIN" in env:
            values["origin"] = env["OPENBMD_EXCHANGE_ORIGIN"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

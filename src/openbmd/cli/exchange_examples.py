"""``openbmd exchange example`` and ``quickstart``: valid example payloads and a ready demo."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from openbmd.cli._common import emit, fail
from openbmd.cli.exchange import JSON_OPT, exchange_app, open_store
from openbmd.cli.exchange_agreements import load_signed_agreements, sign_agreement


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def example_payload(
    msg_type: str, sender: str = "alpha", recipient: str = "bravo", agreement: str | None = None
) -> dict[str, Any]:
    """A valid payload of *msg_type* (envelope fields message_id, sent_at, nonce, seq left for
    ``submit`` to fill)."""
    now = datetime.now(UTC).replace(microsecond=0)
    env: dict[str, Any] = {
        "type": msg_type,
        "sender": sender,
        "status": "Exercise",
        "msg_type": "Alert",
        "references": [],
        "agreement": agreement or f"{sender}-to-{recipient}",
        "recipients": [recipient],
    }
    square = {
        "shape": "polygon",
        "points": [
            {"lat_deg": 48.55, "lon_deg": 45.77},
            {"lat_deg": 48.55, "lon_deg": 46.27},
            {"lat_deg": 48.05, "lon_deg": 46.27},
            {"lat_deg": 48.05, "lon_deg": 45.77},
            {"lat_deg": 48.55, "lon_deg": 45.77},
        ],
    }
    impact = {"shape": "circle", "center": {"lat_deg": 46.12, "lon_deg": 48.07}, "radius_km": 37.5}
    body: dict[str, Any]
    if msg_type == "pre_launch_notification":
        body = {
            "missile_class": "IRBM",
            "window_start": _iso(now + timedelta(days=1)),
            "window_end": _iso(now + timedelta(days=1, hours=6)),
            "launch_area": square,
            "impact_area": impact,
            "azimuth_deg": 137.4,
            "range_km": 2400.0,
        }
    elif msg_type == "post_launch_notification":
        body = {
            "missile_class": "IRBM",
            "launch_time": _iso(now - timedelta(minutes=20)),
            "impact_time": _iso(now - timedelta(minutes=8)),
            "launch_area": square,
            "impact_area": impact,
            "azimuth_deg": 137.4,
            "range_km": 2400.0,
            "apogee_km": 610.0,
        }
    elif msg_type == "launch_event":
        body = {
            "detection_time": _iso(now - timedelta(seconds=50)),
            "estimated_launch_time": _iso(now - timedelta(seconds=95)),
            "missile_class": "IRBM",
            "launch_area": square,
            "azimuth_deg": 137.4,
            "impact_area": impact,
            "impact_time": _iso(now + timedelta(minutes=11)),
            "apogee_km": 610.0,
            "confidence": "tentative",
            "simulated": True,
        }
    elif msg_type == "track_update":
        diag = [2.5e5, 2.5e5, 2.5e5, 400.0, 400.0, 400.0]
        cov = [[diag[i] if i == j else 0.0 for j in range(6)] for i in range(6)]
        body = {
            "track_id": "T-0001",
            "epoch": _iso(now - timedelta(seconds=30)),
            "position_ecef_m": [3.95e6, 3.2e6, 4.9e6],
            "velocity_ecef_m_s": [-1200.0, 2100.0, 1500.0],
            "covariance": cov,
            "missile_class": "IRBM",
        }
    elif msg_type == "radar_report":
        plot = {
            "time": _iso(now - timedelta(seconds=30)),
            "sensor_id": "XBR-1",
            "sensor_lat_deg": 49.7,
            "sensor_lon_deg": 13.6,
            "sensor_alt_km": 0.6,
            "range_km": 1480.0,
            "azimuth_deg": 112.5,
            "elevation_deg": 8.2,
            "sigma_range_km": 0.05,
            "sigma_azimuth_deg": 0.05,
            "sigma_elevation_deg": 0.05,
        }
        body = {"plots": [plot]}
    elif msg_type == "space_event":
        body = {
            "event_kind": "launch",
            "event_time": _iso(now - timedelta(hours=1)),
            "object_name": "DEMO-SAT 1",
            "launch_area": square,
            "perigee_km": 400.0,
            "apogee_km": 420.0,
            "inclination_deg": 51.6,
        }
    elif msg_type == "free_text":
        body = {"text": "Exercise: please confirm receipt of the pre-launch notification."}
    elif msg_type == "ack":
        body = {
            "acknowledged_id": "00000000-0000-4000-8000-000000000000",
            "result": "received",
            "detail": "example acknowledgement",
        }
    else:
        from openbmd.exchange.schemas import MESSAGE_TYPES

        fail(f"TYPE: unknown message type {msg_type!r}; one of: {', '.join(MESSAGE_TYPES)}")
        raise AssertionError  # unreachable
    return env | body


def example_agreement(a: str = "alpha", b: str = "bravo") -> dict[str, Any]:
    """The quickstart agreement: each partner shares with the other."""
    return {
        "agreements": [
            {
                "name": f"{a}-to-{b}",
                "sender": a,
                "rules": [
                    {"recipient": b, "types": ["*"], "level": "L2"},
                    {"recipient": b, "types": ["track_update"], "level": "L3"},
                    {
                        "recipient": b,
                        "types": ["launch_event"],
                        "level": "L1",
                        "threshold_km": 500,
                        "below_threshold": "L0",
                    },
                ],
            },
            {
                "name": f"{b}-to-{a}",
                "sender": b,
                "rules": [{"recipient": a, "types": ["*"], "level": "L1"}],
            },
        ]
    }


@exchange_app.command("example")
def example_cmd(msg_type: str = typer.Argument(..., metavar="TYPE")) -> None:
    """Print a valid example payload of TYPE (pre_launch_notification, …, ack)."""
    print(json.dumps(example_payload(msg_type.replace("-", "_")), indent=2))


@exchange_app.command("quickstart")
def quickstart_cmd(
    directory: Path = typer.Argument(..., metavar="DIR"),
    database_url: str | None = typer.Option(None, "--database-url"),
    as_json: bool = JSON_OPT,
) -> None:
    """Set up a demo in DIR: keys of alpha and bravo, both registered, an agreement, examples."""
    import yaml

    from openbmd.exchange.schemas import MESSAGE_TYPES
    from openbmd.exchange.signing import load_public_key, public_key_pem, write_keypair

    if directory.exists() and not directory.is_dir():
        fail(f"DIR: {directory} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    url = database_url or f"sqlite:///{directory / 'openbmd-exchange.db'}"
    store = open_store(url)
    partners = []
    for name in ("alpha", "bravo"):
        key, pub = directory / f"{name}.key", directory / f"{name}.pub"
        if not (key.exists() and pub.exists()):
            write_keypair(directory / name)
        store.add_partner(name, public_key_pem(load_public_key(pub)))
        partners.append({"name": name, "key_file": str(key)})
    agreement_file = directory / "agreement.yaml"
    from openbmd.exchange.domain import Agreement
    from openbmd.exchange.signing import load_private_key

    docs = [
        sign_agreement(a, load_private_key(directory / f"{a.sender}.key"))
        for a in map(Agreement.from_dict, example_agreement()["agreements"])
    ]
    agreement_file.write_text(yaml.safe_dump({"agreements": docs}, sort_keys=False), "utf-8")
    for a, sig in load_signed_agreements(agreement_file):
        store.put_agreement(a, sig)
    (directory / "examples").mkdir(exist_ok=True)
    examples = []
    for t in MESSAGE_TYPES:
        path = directory / "examples" / f"{t}.json"
        # an acknowledgement answers what alpha sent bravo: bravo sends it, under bravo-to-alpha
        payload = example_payload(t, "bravo", "alpha") if t == "ack" else example_payload(t)
        path.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
        examples.append(str(path))
    store.close()
    q = shlex.quote
    base = "http://127.0.0.1:8000"
    ack = next(e for e in examples if e.endswith("ack.json"))
    first = next(e for e in examples if not e.endswith("ack.json"))
    steps = [
        f"openbmd exchange serve --database-url {q(url)}",
        f"openbmd exchange submit --url {base} --partner alpha --key-file "
        f"{q(partners[0]['key_file'])} {q(first)}",
        f"openbmd exchange inbox --url {base} --partner bravo --key-file "
        f"{q(partners[1]['key_file'])}",
        f"openbmd exchange submit --url {base} --partner bravo --key-file "
        f"{q(partners[1]['key_file'])} {q(ack)}",
        f"openbmd exchange verify --url {base} --state {q(str(directory / 'verify.json'))}",
        f"openbmd exchange witness --url {base} --key-file {q(partners[1]['key_file'])} "
        f"--name bravo --state {q(str(directory / 'witness-bravo.json'))}",
    ]
    data = {
        "database_url": url,
        "partners": partners,
        "examples": examples,
        "agreement_file": str(agreement_file),
        "next_commands": steps,
    }

    def render(d: dict[str, Any]) -> None:
        print(
            f"demo ready in {directory}: partners alpha and bravo, agreement "
            f"{agreement_file.name}, {len(examples)} examples"
        )
        print("next, in one terminal:\n  " + steps[0] + "\nthen in another:")
        for s in steps[1:]:
            print("  " + s)

    emit(data, as_json, render)

"""``openbmd exchange …``: run the Joint Data Exchange Centre and talk to it as a partner."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from openbmd.cli._common import app, emit, fail

exchange_app = typer.Typer(
    name="exchange",
    help="Joint Data Exchange Centre: serve it, register partners, submit, read, verify, witness.",
    no_args_is_help=True,
)
partner_app = typer.Typer(help="Register partners.", no_args_is_help=True)
agreement_app = typer.Typer(help="Load sharing agreements.", no_args_is_help=True)
exchange_app.add_typer(partner_app, name="partner")
exchange_app.add_typer(agreement_app, name="agreement")
app.add_typer(exchange_app, name="exchange")

DEFAULT_DB = "sqlite:///./openbmd-exchange.db"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
JSON_OPT = typer.Option(False, "--json", help="Print JSON.")
DB_OPT = typer.Option(DEFAULT_DB, "--database-url", help="sqlite:///FILE or postgresql+psycopg://…")
KEY_FILE_OPT = typer.Option(
    None,
    "--key-file",
    help="the centre's signing key (0600 PEM; default: next to a SQLite file, else in the "
    "state directory); encrypted with $OPENBMD_CENTRE_KEY_PASSPHRASE when set",
)


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


def _name(value: str, field: str) -> str:
    if not NAME.match(value):
        fail(f"{field}: {value!r} is not a partner name (lower-case letters, digits, '_', '-')")
    return value


def _store(url: str) -> Any:
    from openbmd.exchange.store import Store

    store = Store(url)
    store.migrate()
    return store


@exchange_app.command("serve")
def serve_cmd(
    database_url: str = DB_OPT,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    skew_seconds: float = typer.Option(300.0, "--skew-seconds", min=1.0),
    origin: str = typer.Option(
        "openbmd.org/exchange/log", "--origin", help="checkpoint origin line"
    ),
    key_file: Path | None = KEY_FILE_OPT,
) -> None:
    """Run the centre with uvicorn (migrates the database and creates the log key first)."""
    import uvicorn

    from openbmd.exchange.app import create_app
    from openbmd.exchange.rollback import CheckpointGuard, guard_file
    from openbmd.exchange.settings import Settings
    from openbmd.exchange.store import make_engine

    make_engine(database_url).dispose()  # a bad URL is a one-line error, not a traceback
    settings = Settings(
        database_url=database_url,
        skew_seconds=skew_seconds,
        origin=origin,
        key_file=str(key_file) if key_file else None,
    )
    preflight = _store(database_url)  # a key or state problem is a one-line error, not a trace
    try:
        preflight.centre_key(settings.key_path)
        guard = CheckpointGuard(guard_file(settings.key_path))
        guard.check(preflight.tree_size(), preflight.rebuilding_reader())
    finally:
        preflight.close()
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=5,  # idle connections are closed
        h11_max_incomplete_event_size=16 * 1024,  # request line + headers
        ws_max_size=64 * 1024,  # the feed's client sends nothing of size
        limit_concurrency=1000,
    )


@exchange_app.command("rotate-key")
def rotate_key_cmd(
    database_url: str = DB_OPT,
    key_file: Path | None = KEY_FILE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Replace the centre's signing key (stop the centre first); print the rotation statement
    signed by the old key, for partners who pinned it."""
    from openbmd.exchange.settings import Settings

    settings = Settings(database_url=database_url, key_file=str(key_file) if key_file else None)
    old_fp, new_fp, statement = _store(database_url).rotate_centre_key(settings.key_path)
    emit(
        {"old_fingerprint": old_fp, "new_fingerprint": new_fp, "statement": statement},
        as_json,
        lambda d: print(
            f"centre key rotated in {settings.key_path}; the old one is kept beside it\n"
            + d["statement"],
            end="",
        ),
    )


@exchange_app.command("keygen")
def keygen_cmd(
    out: str = typer.Option(..., "--out", help="writes OUT.key (0600), OUT.pub"),
    as_json: bool = JSON_OPT,
) -> None:
    """Generate an Ed25519 key pair."""
    from openbmd.exchange.signing import key_fingerprint, load_public_key, write_keypair

    key_path, pub_path = write_keypair(out)
    data = {
        "key_file": str(key_path),
        "public_key_file": str(pub_path),
        "fingerprint": key_fingerprint(load_public_key(pub_path)),
    }
    emit(
        data,
        as_json,
        lambda d: print(
            f"wrote {d['key_file']} and {d['public_key_file']} (fingerprint {d['fingerprint']})"
        ),
    )


@partner_app.command("add")
def partner_add_cmd(
    name: str = typer.Argument(...),
    public_key_file: Path = typer.Option(..., "--public-key-file"),
    database_url: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Register partner NAME with its public key."""
    from openbmd.exchange.signing import load_public_key, public_key_pem

    pem = public_key_pem(load_public_key(public_key_file))
    p = _store(database_url).add_partner(_name(name, "NAME"), pem)
    emit(
        {"name": p.name, "fingerprint": p.fingerprint},
        as_json,
        lambda d: print(f"partner {d['name']} registered (fingerprint {d['fingerprint']})"),
    )


@partner_app.command("sign-rotation")
def partner_sign_rotation_cmd(
    name: str = typer.Argument(...),
    key_file: Path = typer.Option(..., "--key-file", help="the partner's OLD key"),
    public_key_file: Path = typer.Option(..., "--public-key-file", help="its NEW public key"),
) -> None:
    """As partner NAME: print the rotation statement to the new key, signed by the old one
    (hand it to the operator for `partner rotate`)."""
    from openbmd.exchange.rotation import sign_rotation
    from openbmd.exchange.signing import load_private_key, load_public_key

    doc = sign_rotation(
        _name(name, "NAME"), load_private_key(key_file), load_public_key(public_key_file)
    )
    print(json.dumps(doc, indent=2, sort_keys=True))


@partner_app.command("rotate")
def partner_rotate_cmd(
    statement: Path = typer.Argument(..., help="the statement of `partner sign-rotation`"),
    database_url: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Replace a partner's key by a rotation statement signed by its current key (restart a
    running centre afterwards: it caches partner keys)."""
    store = _store(database_url)
    try:
        p = store.rotate_partner(_payload(statement))
    finally:
        store.close()
    emit(
        {"name": p.name, "fingerprint": p.fingerprint},
        as_json,
        lambda d: print(f"partner {d['name']} now has key {d['fingerprint']}"),
    )


def load_agreements(path: Path) -> list[Any]:
    """Parse and validate an agreements YAML file (``InputError`` naming the field)."""
    return [a for a, _ in load_signed_agreements(path)]


def load_signed_agreements(path: Path) -> list[tuple[Any, bytes | None]]:
    """The agreements of a YAML file with their senders' signatures (None: unsigned)."""
    import base64
    import binascii

    import yaml
    from pydantic import ValidationError

    from openbmd.exchange.domain import Agreement
    from openbmd.exchange.schemas import AgreementFile

    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        fail(f"{path}: not valid YAML: {' '.join(str(exc).split())}")
    if isinstance(doc, dict) and "agreements" not in doc:
        doc = {"agreements": [doc]}
    try:
        parsed = AgreementFile.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        fail(f"{path}: {where or 'file'}: {err['msg']}")
    out = []
    for i, a in enumerate(parsed.agreements):
        try:
            sig = base64.b64decode(a.signature_b64, validate=True) if a.signature_b64 else None
        except (binascii.Error, ValueError):
            fail(f"{path}: agreements.{i}.signature_b64: not base64")
        out.append((Agreement.from_dict(a.model_dump()), sig))
    return out


def sign_agreement(agreement: Any, key: Any) -> dict[str, Any]:
    """The agreement document with the sender's signature (``signature_b64``) added."""
    import base64

    from openbmd.exchange.signing import canonical_json, sign

    doc: dict[str, Any] = agreement.to_dict()
    signature = sign(key, canonical_json(doc))
    return doc | {"signature_b64": base64.b64encode(signature).decode("ascii")}


@agreement_app.command("sign")
def agreement_sign_cmd(
    file: Path = typer.Argument(..., help="agreements YAML"),
    partner: str = typer.Option(..., "--partner", help="the granting partner (the sender)"),
    key_file: Path = typer.Option(..., "--key-file", help="its key"),
    out: Path | None = typer.Option(None, "--out", help="default: print"),
) -> None:
    """As PARTNER: sign its agreements in FILE (others are kept as they are), so partners can
    check the centre applies exactly what the sender granted."""
    import yaml

    from openbmd.exchange.signing import load_private_key

    _name(partner, "--partner")
    key = load_private_key(key_file)
    docs = []
    for a, sig in load_signed_agreements(file):
        if a.sender == partner:
            docs.append(sign_agreement(a, key))
        else:
            keep = a.to_dict()
            if sig is not None:
                import base64

                keep["signature_b64"] = base64.b64encode(sig).decode("ascii")
            docs.append(keep)
    text = yaml.safe_dump({"agreements": docs}, sort_keys=False)
    if out is None:
        print(text, end="")
    else:
        out.write_text(text, "utf-8")


@agreement_app.command("add")
def agreement_add_cmd(
    file: Path = typer.Argument(..., help="agreements YAML"),
    database_url: str = DB_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Load (insert or replace) the agreements of FILE; every partner must be registered."""
    signed = load_signed_agreements(file)
    found = [a for a, _ in signed]
    store = _store(database_url)
    try:
        known = {p.name for p in store.partners()}
        for a in found:
            for who in [a.sender, *(r.recipient for r in a.rules)]:
                if who not in known:
                    fail(
                        f"{file}: agreement {a.name}: partner {who!r} is not registered "
                        "(openbmd exchange partner add)"
                    )
        for a, sig in signed:
            store.put_agreement(a, sig)
    finally:
        store.close()
    emit(
        {"agreements": [a.name for a in found]},
        as_json,
        lambda d: print("loaded agreements: " + ", ".join(d["agreements"])),
    )


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
    store = _store(url)
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


def _payload(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        fail(f"{path}: not JSON: {exc}")
    if not isinstance(data, dict):
        fail(f"{path}: the payload must be a JSON object")
    return data


@exchange_app.command("submit")
def submit_cmd(
    payload: Path = typer.Argument(..., metavar="PAYLOAD.json"),
    url: str = typer.Option(..., "--url"),
    partner: str = typer.Option(..., "--partner"),
    key_file: Path = typer.Option(..., "--key-file"),
) -> None:
    """Fill the envelope (message_id, sent_at, nonce, seq) when absent, sign, post, print."""
    from openbmd.exchange.client import submit_message

    answer = submit_message(url, _name(partner, "--partner"), key_file, _payload(payload))
    print(json.dumps(answer))


@exchange_app.command("inbox")
def inbox_cmd(
    url: str = typer.Option(..., "--url"),
    partner: str = typer.Option(..., "--partner"),
    key_file: Path = typer.Option(..., "--key-file"),
    after: int = typer.Option(-1, "--after", min=-1, help="last index already read"),
    as_json: bool = JSON_OPT,
) -> None:
    """Read what PARTNER was sent (signed reads); check each sender signature; exit 1 if bad."""
    from openbmd.exchange.verify import read_inbox

    items = read_inbox(url, _name(partner, "--partner"), key_file, after)

    def render(d: list[dict[str, Any]]) -> None:
        if not d:
            print(f"inbox of {partner}: nothing after index {after}")
        for i in d:
            check = {True: "signature OK", False: "BAD SIGNATURE", None: "projected, unsigned"}
            print(
                f"{i['index']:>6} {i['type']:<24} from {i['sender']:<12} {i['level']:<4} "
                f"{check[i['signature_ok']]}"
            )

    emit(items, as_json, render)
    if any(i["signature_ok"] is False for i in items):
        raise typer.Exit(1)


def _witness_keys(specs: list[str]) -> dict[str, Any]:
    """``NAME=PUBLIC_KEY_FILE`` pairs of ``--witness-key`` → {name: key}."""
    from openbmd.exchange.signing import load_public_key

    out: dict[str, Any] = {}
    for spec in specs:
        name, sep, file = spec.partition("=")
        if not sep or not NAME.match(name) or not file:
            fail(f"--witness-key: {spec!r} is not NAME=PUBLIC_KEY_FILE")
        out[name] = load_public_key(Path(file))
    return out


def _report(doc: dict[str, Any], as_json: bool, render: Any) -> None:
    """Print a check's report; exit 1 when it is not ``ok``."""
    emit(doc, as_json, render)
    if not doc["ok"]:
        raise typer.Exit(1)


@exchange_app.command("verify")
def verify_cmd(
    url: str = typer.Option(..., "--url"),
    state: Path | None = typer.Option(None, "--state", help="JSON state file"),
    log_key: Path | None = typer.Option(None, "--log-key", help="pinned log key"),
    partner: str | None = typer.Option(
        None, "--partner", help="also check what PARTNER was sent against the log"
    ),
    key_file: Path | None = typer.Option(None, "--key-file", help="PARTNER's key (signed reads)"),
    received_file: Path | None = typer.Option(
        None, "--received", help="items PARTNER saved (inbox --json output or feed frames)"
    ),
    witness_key: list[str] = typer.Option(
        [], "--witness-key", help="NAME=PUBLIC_KEY_FILE of a trusted witness (repeatable)"
    ),
    quorum: int = typer.Option(
        0, "--quorum", min=0, help="verify the latest checkpoint K of the witnesses cosigned"
    ),
    max_age: float | None = typer.Option(
        None, "--max-age", min=0.0, help="fail if the checkpoint is older (s): a frozen view"
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Verify the log independently (incremental from --state); exit 1 on any mismatch."""
    from openbmd.exchange.verify import load_received, verify_log

    if partner is not None:
        _name(partner, "--partner")
    witnesses = _witness_keys(witness_key)
    if quorum > len(witnesses):
        fail(f"--quorum: {quorum} exceeds the {len(witnesses)} --witness-key given")
    items = load_received(received_file) if received_file is not None else None
    report = verify_log(
        url,
        state,
        log_key,
        witness_keys=witnesses,
        quorum=quorum,
        max_age_s=max_age,
        partner=partner,
        partner_key=key_file,
        received_items=items,
    )

    def render(d: dict[str, Any]) -> None:
        if d["ok"]:
            seen = f", {d['items_checked']} items of {d['partner']}" if d["partner"] else ""
            print(
                f"log OK: {d['origin']} size {d['tree_size']} root {d['root_hash_b64']} "
                f"({d['entries_checked']} entries checked{seen})"
            )
        else:
            print(f"log verification FAILED: {d['reason']}")

    _report(report.to_dict(), as_json, render)


@exchange_app.command("gossip")
def gossip_cmd(
    files: list[Path] = typer.Argument(..., help="verify/witness state files or checkpoint notes"),
    log_key: Path | None = typer.Option(None, "--log-key", help="default: pinned in the states"),
    url: str | None = typer.Option(
        None, "--url", help="the centre, for consistency proofs between different sizes"
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Compare the checkpoints partners were shown; exit 1 on a split view (two trees signed
    by the centre that are not one history)."""
    from openbmd.exchange.gossip import compare_checkpoints, load_checkpoint_text, pinned_log_key
    from openbmd.exchange.signing import load_public_key

    key = load_public_key(log_key) if log_key is not None else pinned_log_key(files)
    sources = {str(f): load_checkpoint_text(f) for f in files}
    report = compare_checkpoints(sources, key, url=url)

    def render(d: dict[str, Any]) -> None:
        for line in d["problems"]:
            print(line)
        sizes = ", ".join(str(c["size"]) for c in d["checkpoints"])
        verdict = "SPLIT VIEW" if d["split"] else ("OK" if d["ok"] else "FAILED")
        print(f"gossip {verdict}: {len(d['checkpoints'])} checkpoints (sizes {sizes})")

    _report(report.to_dict(), as_json, render)


@exchange_app.command("audit")
def audit_cmd(
    database_url: str = DB_OPT,
    key_file: Path | None = KEY_FILE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Re-check the whole database offline against its log (messages, views, Merkle nodes,
    the centre's last signed checkpoint); exit 1 naming every row that does not match."""
    from openbmd.exchange.audit import audit
    from openbmd.exchange.rollback import guard_file
    from openbmd.exchange.settings import Settings
    from openbmd.exchange.store import make_engine

    make_engine(database_url).dispose()  # a bad URL is a one-line error, not a traceback
    settings = Settings(database_url=database_url, key_file=str(key_file) if key_file else None)
    report = audit(database_url, guard_file(settings.key_path))

    def render(d: dict[str, Any]) -> None:
        for line in d["problems"][:50]:
            print(line)
        if len(d["problems"]) > 50:
            print(f"… and {len(d['problems']) - 50} more")
        verdict = "OK" if d["ok"] else f"FAILED ({len(d['problems'])} problems)"
        print(
            f"audit {verdict}: {d['tree_size']} entries, {d['nodes_checked']} Merkle nodes, "
            f"{d['messages_checked']} messages, {d['projections_checked']} views checked"
        )

    _report(report.to_dict(), as_json, render)


@exchange_app.command("witness")
def witness_cmd(
    url: str = typer.Option(..., "--url"),
    key_file: Path = typer.Option(..., "--key-file"),
    name: str | None = typer.Option(None, "--name", help="default: key file stem"),
    state: Path | None = typer.Option(None, "--state", help="default: KEY_FILE.witness.json"),
) -> None:
    """Cosign the current checkpoint after checking consistency with the last one seen."""
    from openbmd.exchange.verify import run_witness

    wname = _name(name or key_file.stem, "--name")
    state_file = state or key_file.with_name(key_file.name + ".witness.json")
    line = run_witness(url, key_file, wname, state_file)
    print(line, end="")

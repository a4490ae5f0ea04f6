"""``openbmd exchange …``: run the Joint Data Exchange Centre and talk to it as a partner."""

from __future__ import annotations

import json
import re
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
DEFAULT_WORKERS = 2  # fronts + a writer process: fastest with 2 free cores (benchmarks.md)
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
JSON_OPT = typer.Option(False, "--json", help="Print JSON.")
DB_OPT = typer.Option(DEFAULT_DB, "--database-url", help="sqlite:///FILE or postgresql+psycopg://…")
KEY_FILE_OPT = typer.Option(
    None,
    "--key-file",
    help="the centre's signing key (0600 PEM; default: next to a SQLite file, else in the "
    "state directory); encrypted with $OPENBMD_CENTRE_KEY_PASSPHRASE when set",
)


def check_name(value: str, field: str) -> str:
    if not NAME.match(value):
        fail(f"{field}: {value!r} is not a partner name (lower-case letters, digits, '_', '-')")
    return value


def open_store(url: str) -> Any:
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
    workers: int = typer.Option(
        DEFAULT_WORKERS,
        "--workers",
        min=1,
        max=64,
        help="HTTP worker processes; with 2 or more they feed one writer process "
        "(1: everything in one process)",
    ),
    verify_workers: int | None = typer.Option(
        None,
        "--verify-workers",
        min=0,
        max=64,
        help="signature-checking processes per HTTP process (default: 2 with --workers 1, "
        "else 0: each front checks in its own process)",
    ),
    open_enrolment: bool | None = typer.Option(
        None,
        "--open-enrolment/--no-open-enrolment",
        help="let partners enrol themselves (POST /v1/partners, signed by the new key) and post "
        "their own signed agreements; default: on only when --host is a loopback address",
    ),
) -> None:
    """Run the centre with uvicorn (migrates the database and creates the log key first)."""
    import uvicorn

    from openbmd.exchange.app import create_app
    from openbmd.exchange.enrolment import is_loopback
    from openbmd.exchange.rollback import CheckpointGuard, guard_file
    from openbmd.exchange.settings import Settings
    from openbmd.exchange.store import make_engine

    make_engine(database_url).dispose()  # a bad URL is a one-line error, not a traceback
    settings = Settings(
        database_url=database_url,
        skew_seconds=skew_seconds,
        origin=origin,
        key_file=str(key_file) if key_file else None,
        verify_workers=verify_workers if verify_workers is not None else (2 if workers == 1 else 0),
        open_enrolment=is_loopback(host) if open_enrolment is None else open_enrolment,
    )
    preflight = open_store(database_url)  # a key or state problem is a one-line error, not a trace
    try:
        preflight.centre_key(settings.key_path)
        guard = CheckpointGuard(guard_file(settings.key_path))
        guard.check(preflight.tree_size(), preflight.rebuilding_reader())
    finally:
        preflight.close()
    options: dict[str, Any] = {
        "log_level": "info",
        "access_log": False,
        "timeout_graceful_shutdown": 5,
        "timeout_keep_alive": 5,  # idle connections are closed
        "h11_max_incomplete_event_size": 16 * 1024,  # request line + headers
        "ws_max_size": 64 * 1024,  # the feed's client sends nothing of size
        "limit_concurrency": 1000,
    }
    if workers > 1:
        from openbmd.exchange.workers import serve_workers

        serve_workers(settings, host, port, workers, options)
        return
    uvicorn.run(create_app(settings), host=host, port=port, **options)


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
    old_fp, new_fp, statement = open_store(database_url).rotate_centre_key(settings.key_path)
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
    p = open_store(database_url).add_partner(check_name(name, "NAME"), pem)
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
        check_name(name, "NAME"), load_private_key(key_file), load_public_key(public_key_file)
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
    store = open_store(database_url)
    try:
        p = store.rotate_partner(_payload(statement))
    finally:
        store.close()
    emit(
        {"name": p.name, "fingerprint": p.fingerprint},
        as_json,
        lambda d: print(f"partner {d['name']} now has key {d['fingerprint']}"),
    )


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

    answer = submit_message(url, check_name(partner, "--partner"), key_file, _payload(payload))
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

    items = read_inbox(url, check_name(partner, "--partner"), key_file, after)

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

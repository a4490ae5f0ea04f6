"""``openbmd exchange verify | gossip | audit | witness``: partners check the centre."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from openbmd.cli._common import emit, fail
from openbmd.cli.exchange import DB_OPT, JSON_OPT, KEY_FILE_OPT, NAME, check_name, exchange_app


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
    """Verify the log independently (incremental from --state); exit 1 on any mismatch.

    Without --partner: the checkpoint's signature, its consistency with the saved one, and
    witness cosignatures (the entries themselves are a signed read). With --partner and
    --key-file also every entry's hash against the root, the logged keys and agreements, and
    what PARTNER was sent."""
    from openbmd.exchange.verify import load_received, verify_log

    if partner is not None:
        check_name(partner, "--partner")
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

    wname = check_name(name or key_file.stem, "--name")
    state_file = state or key_file.with_name(key_file.name + ".witness.json")
    line = run_witness(url, key_file, wname, state_file)
    print(line, end="")

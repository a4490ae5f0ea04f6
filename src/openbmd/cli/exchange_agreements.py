"""``openbmd exchange agreement …``: load, validate and sign sharing agreements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from openbmd.cli._common import emit, fail
from openbmd.cli.exchange import DB_OPT, JSON_OPT, agreement_app, check_name, open_store


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

    check_name(partner, "--partner")
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
    from openbmd.exchange.enrolment import unregistered_parties

    store = open_store(database_url)
    try:
        known = {p.name for p in store.partners()}
        for a in found:
            for who in unregistered_parties(a, known):
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

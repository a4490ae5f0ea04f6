"""Architecture commands: ``openbmd architectures`` (the bundled, dated architectures) and
``openbmd architecture show NAME`` (one of them with every part and rule value)."""

from __future__ import annotations

from typing import Any

import typer

from openbmd.cli._architecture import JSON
from openbmd.cli._common import app, emit

architecture_app = typer.Typer(
    name="architecture", help="One bundled defence architecture.", no_args_is_help=True
)
app.add_typer(architecture_app, name="architecture")


def _render_one(a: dict[str, Any]) -> None:
    typer.echo(f"{a['name']} ({a['era']})")
    for b in a["batteries"]:
        typer.echo(
            f"  battery  {b['interceptor']:<9} at {b['site']:<22} x{b['inventory']:<3} "
            f"{b['doctrine']}, {b['burnout_speed_kms']:g} km/s"
        )
    if not a["batteries"]:
        typer.echo("  battery  none")
    for s in a["sensors"]:
        via = " via exchange" if s["via_exchange"] else ""
        typer.echo(
            f"  sensor   {s['name']:<12} {s['role']:<13} owner {s['owner']:<7} latency "
            f"{s['total_latency_s']:g} s{via}"
        )
    r = a["rules"]
    typer.echo(
        f"  rules    commit on {r['commit']}; fire control needs a cue: "
        f"{r['fire_control_needs_cue']}; track {r['track_delay_s']:g} s, cue "
        f"{r['cue_delay_s']:g} s, kill assessment {r['kill_assessment_s']:g} s"
    )
    typer.echo(f"  source   {a['source']}")


@app.command("architectures")
def architectures_cmd(as_json: bool = JSON) -> None:
    """List the bundled architectures with their batteries, sensors, rules and sources."""
    from openbmd.catalog.architectures import load_architectures

    rows = [a.to_dict() for a in load_architectures()]

    def render(rs: list[dict[str, Any]]) -> None:
        for r in rs:
            _render_one(r)

    emit(rows, as_json, render)


@architecture_app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="Architecture name (openbmd architectures)."),
    as_json: bool = JSON,
) -> None:
    """One bundled architecture: every part and rule value, and its source."""
    from openbmd.catalog.architectures import architecture

    emit(architecture(name, "--architecture").to_dict(), as_json, _render_one)

"""``openbmd scenario …`` and ``openbmd scenarios``: check, describe and copy scenario files.

``scenario check`` only reads: it prints ``OK`` and a one-line summary, or the loader's one-line
``FILE:LINE:COL: path: what (valid)`` error with exit code 2, and writes nothing.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from openbmd.cli._common import app, emit

scenario_app = typer.Typer(
    help="Scenario files: check one, print the JSON Schema, show a bundled one.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("check")
def check(
    file: Annotated[
        str, typer.Argument(help="A scenario YAML file, or a bundled scenario's name.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate a scenario file; print OK and a summary, or the first error with its line."""
    from openbmd.scenario import load_scenario

    scenario = load_scenario(file)
    data = {
        "ok": True,
        "file": file,
        "name": scenario.name,
        "threats": [t.name for t in scenario.threats],
        "architectures": [a.name for a in scenario.architectures],
        "analyses": scenario.analyses.selected(),
        "summary": scenario.summary(),
    }
    emit(data, as_json, lambda d: print(f"OK {d['file']}: {d['summary']}"))


@scenario_app.command("schema")
def schema() -> None:
    """Print the scenario file's JSON Schema (for editors)."""
    from openbmd.scenario import Scenario

    doc = Scenario.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "openbmd scenario"
    print(json.dumps(doc, indent=2, ensure_ascii=False))


@scenario_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A bundled scenario (see `openbmd scenarios`).")],
) -> None:
    """Print a bundled scenario's YAML, to copy and edit."""
    from openbmd.scenario.load import bundled_path

    print(bundled_path(name).read_text(encoding="utf-8"), end="")


@app.command("scenarios")
def scenarios(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the bundled scenarios."""
    from openbmd.scenario import bundled_scenarios, load_scenario

    rows = []
    for name in bundled_scenarios():
        sc = load_scenario(name)
        rows.append({"name": name, "description": sc.description, "summary": sc.summary()})

    def render(items: list[dict[str, str]]) -> None:
        for row in items:
            print(f"{row['name']}: {row['description']}")

    emit(rows, as_json, render)

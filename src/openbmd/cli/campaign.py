"""``openbmd campaign``: Monte Carlo over a scenario's ``uncertain:`` block.

Serial, in a process pool or on a Dask cluster (a local one on 127.0.0.1, or ``--scheduler``);
the Dataset is the same for each. Writes ``campaign.nc`` (or, with ``--format zarr`` or an
``--out`` ending in ``.zarr``, a Zarr store) and ``summary.json`` into ``--out``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from openbmd.cli._common import _jsonable, app, emit, fail


def _bar(quiet: bool) -> Any:
    if quiet:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("chunks"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


def _render(data: dict[str, Any]) -> None:
    print(
        f"{data['scenario']}: {data['trials']} trials, seed {data['seed']}, "
        f"{data['executor']} ({data['timing']['wall_s']:.1f} s) -> {data['output']}"
    )
    for p in data["parameters"]:
        q = f", used on a {p['quantum']:g} {p['units']} grid" if p["quantum"] else ""
        print(f"  {p['path']} [{p['units']}] ~ {p['distribution']}{q}")
    print(f"outcomes, mean and {data['ci_method']}:")
    for o in data["outcomes"]:
        if o["mean"] is None:
            continue
        lo, hi = o["ci95"]
        top = max(o["sobol_first"].items(), key=lambda kv: kv[1] or 0.0)
        lead = f"; most sensitive to {top[0]} (S1 {top[1]:.2f})" if top[1] else ""
        scale, unit = (1e-6, " M") if o["outcome"] == "population_defended" else (1.0, "")
        if o["outcome"] == "area_defended":
            scale, unit = 1e-6, " km2"
        where = " / ".join(o[k] for k in ("region", "threat") if k in o)
        print(
            f"  {o['outcome']:<20} {where:<28} {o['architecture']:<30} "
            f"{o['mean'] * scale:.3g}{unit} [{lo * scale:.3g}, {hi * scale:.3g}]{lead}"
        )
    print(f"footprint: {data['footprint']}")


@app.command("campaign")
def campaign_cmd(
    scenario: Annotated[str, typer.Argument(help="A scenario file or bundled scenario.")] = (
        "europe-2009"
    ),
    trials: Annotated[
        int | None,
        typer.Option("--trials", help="Number of trials (default: the scenario's, 100)."),
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="serial, processes or dask.")
    ] = "serial",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="A Dask scheduler, tcp://HOST:PORT.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Processes or local Dask workers.")] = 2,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="SeedSequence root of the trials (default: the scenario's, 0)."
        ),
    ] = None,
    out: Annotated[
        str, typer.Option("--out", help="Folder for campaign.nc (or .zarr), summary.json.")
    ] = "openbmd-campaign",
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="netcdf or zarr (default: zarr if --out ends in .zarr)."),
    ] = None,
    no_footprint: Annotated[
        bool, typer.Option("--no-footprint", help="Skip the footprint question per trial.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Draw the scenario's uncertain parameters and answer its engageability question per trial."""
    from openbmd.analysis.campaign import EXECUTORS
    from openbmd.analysis.campaign_stats import campaign_summary
    from openbmd.scenario import load_scenario
    from openbmd.scenario.uncertain import FORMATS, campaign, output_format, write

    if trials is not None and trials < 1:
        fail(f"{trials} must be at least 1", "--trials")
    if fmt is not None and fmt not in FORMATS:
        fail(f"{fmt!r} is not one of {', '.join(FORMATS)}", "--format")
    if workers < 1:
        fail(f"{workers} must be at least 1", "--workers")
    if seed is not None and seed < 0:
        fail(f"{seed} must be >= 0 (a SeedSequence entropy)", "--seed")
    if executor not in EXECUTORS:
        fail(f"{executor!r} is not one of {', '.join(EXECUTORS)}", "--executor")
    if scheduler is not None and executor != "dask":
        fail("needs --executor dask", "--scheduler")
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        fail(f"{scheduler!r} is not an address such as tcp://127.0.0.1:8786", "--scheduler")
    sc = load_scenario(scenario)
    if not sc.uncertain:
        fail(f"{scenario} has no uncertain: block (nothing to draw)", "scenario")
    bars = _bar(as_json)
    task: list[Any] = []

    def progress(done: int, total: int) -> None:
        if bars is None:
            return
        if not task:
            task.append(bars.add_task("chunks", total=total))
        bars.update(task[0], completed=done, total=total)

    if bars is not None:
        bars.start()
    try:
        # Local workers share the fly-out fans kept on disk by `openbmd analyze`; workers of a
        # remote cluster keep their own (they may not see this machine's disk).
        from openbmd.cli.analyze import cache_dir

        store = None if scheduler else str(cache_dir() / "fans")
        ds, timing = campaign(
            sc, trials, seed, executor, scheduler=scheduler, workers=workers, progress=progress,
            fan_store=store, footprint=not no_footprint,
        )  # fmt: skip
    except OSError as exc:  # an unreachable scheduler
        fail(f"cannot reach the scheduler: {exc}", "--scheduler")
    finally:
        if bars is not None:
            bars.stop()
    path = write(ds, out, fmt)
    # A .zarr --out is the store itself: the summary goes beside it, not into it.
    summary = path.with_suffix(".summary.json") if path == Path(out) else Path(out) / "summary.json"
    data = {
        "scenario": sc.name,
        "executor": executor,
        "timing": timing,
        "output": str(path),
        "format": output_format(out, fmt),
        **campaign_summary(ds),
    }
    summary.write_text(json.dumps(_jsonable(data), indent=2) + "\n")
    emit(data, as_json, _render)

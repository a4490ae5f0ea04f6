"""``openbmd analyze``: run a scenario's analyses and write the offline report, atomically.

The report folder is written under a temporary name beside ``--out`` and renamed into place
only when complete, so an interrupted run (Ctrl-C, an error) leaves no half report; an older
report at ``--out`` is replaced only then. A folder that is not an openbmd report is never
replaced. Results and the rendered report are cached by content (the scenario text, the
openbmd version and the source and data files of the installed package): an unchanged rerun
copies them (the report keeps the manifest of the run that rendered it). ``--no-cache``
recomputes and leaves the cache alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from openbmd.cli._common import app, emit, fail

MARKER = ".openbmd-report"
DEFAULT_OUT = "openbmd-report"


def _scenario_text(scenario: str) -> tuple[str, str]:
    """(text, label) of a scenario file or bundled scenario (already validated by the loader)."""
    p = Path(scenario)
    if p.is_file():
        return p.read_text(encoding="utf-8"), str(p)
    from openbmd.scenario.load import bundled_path

    return bundled_path(scenario).read_text(encoding="utf-8"), f"{scenario} (bundled)"


def _code_digest() -> str:
    """SHA-256 over the package's source and data files (what results and the report depend
    on; the exchange centre is left out)."""
    h = hashlib.sha256()
    root = resources.files("openbmd")

    def walk(node: Any, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            name = f"{prefix}/{child.name}"
            if child.is_dir():
                if child.name not in ("__pycache__", "exchange"):
                    walk(child, name)
            elif child.name.endswith((".py", ".yaml", ".csv", ".json")):
                h.update(name.encode())
                h.update(child.read_bytes())

    walk(root, "")
    return h.hexdigest()


def cache_dir() -> Path:
    """``$OPENBMD_CACHE_DIR``, else ``$XDG_CACHE_HOME/openbmd``, else ``~/.cache/openbmd``."""
    env = os.environ.get("OPENBMD_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openbmd"


def _key(text: str) -> str:
    from openbmd import __version__

    return hashlib.sha256(f"{__version__}\n{_code_digest()}\n{text}".encode()).hexdigest()


def _cached_compare(
    key: str, scenario: Any, use_cache: bool, quiet: bool, trials: int | None, workers: int = 1
) -> tuple[Any, Any, bool]:
    """(comparison, campaign Dataset or ``None``, cache hit): computed, or from the cache."""
    from openbmd.analysis.compare import compare
    from openbmd.scenario.build import to_study

    path = cache_dir() / "analyze" / f"{key}.pickle"
    if use_cache and path.is_file():
        try:
            with path.open("rb") as fh:
                result, camp = pickle.load(fh)
            return result, camp, True
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
            pass  # a damaged or stale entry is recomputed and replaced
    with _progress(quiet) as progress:
        # Fans are a pure function of the interceptor and site: kept even under --no-cache.
        fans = cache_dir() / "fans"
        result = compare(to_study(scenario), progress, fan_store=fans)
        camp = None
        if scenario.uncertain:
            from openbmd.scenario.uncertain import campaign

            def step(done: int, total: int) -> None:
                if progress is not None:
                    progress("campaign", done, total)

            t0 = time.perf_counter()
            # The Dataset is the same in one process or several (tested), so the cache key
            # does not name the executor.
            camp, _ = campaign(
                scenario,
                trials,
                executor="processes" if workers > 1 else "serial",
                workers=workers,
                progress=step,
                fan_store=fans,
            )
            result.timings["campaign"] = time.perf_counter() - t0
    if use_cache:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                pickle.dump((result, camp), out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
    return result, camp, False


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A rich progress bar per analysis step on stderr (nothing under ``--json``)."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bars = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    tasks: dict[str, Any] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=total)
        bars.update(tasks[step], completed=done, total=total)

    with bars:
        yield update


def _check_out(out: Path) -> None:
    if out.exists() and not (out / MARKER).is_file():
        fail(f"{out} exists and is not an openbmd report; choose another folder", "--out")
    if not out.resolve().parent.is_dir():
        fail(f"{out.parent} is not a folder", "--out")


def _render(
    tmp: Path, comparison: Any, text: str, manifest: dict[str, Any], camp: Any
) -> dict[str, str]:
    from openbmd.analysis.ledger import ledger
    from openbmd.report.export import write_exports
    from openbmd.report.html import render_report

    led = ledger(comparison)
    files = write_exports(comparison, tmp / "data", book=led)
    if camp is not None:
        from openbmd.scenario.uncertain import write

        files["campaign"] = str(write(camp, tmp / "data").relative_to(tmp))
    (tmp / "scenario.yaml").write_text(text, encoding="utf-8")
    html = render_report(comparison, led, text, manifest, camp)
    (tmp / "report.html").write_text(html, encoding="utf-8")
    return files


def _write(
    out: Path,
    comparison: Any,
    text: str,
    manifest: dict[str, Any],
    rendered: Path | None,
    camp: Any = None,
) -> dict[str, str]:
    """Write the report into a temporary sibling of ``out``, then rename it into place.

    ``rendered``: a cached copy of this very report (same content key) to copy instead of
    rendering again; the copy keeps the manifest of the run that rendered it.
    """
    parent = out.resolve().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        index = _index(rendered) if rendered is not None else None
        if index is not None and rendered is not None:
            shutil.copytree(rendered, tmp, dirs_exist_ok=True)
            files = index["files"]
        else:
            files = _render(tmp, comparison, text, manifest, camp)
            marker = {"openbmd_version": manifest["openbmd_version"], "files": files}
            (tmp / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
            if rendered is not None:
                _keep(tmp, rendered)
        tmp.chmod(0o755)  # mkdtemp makes it private; a report is meant to be shared
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
            os.replace(out, old / "report")
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # Ctrl-C or an error: no half report
        raise
    where = out.resolve()  # absolute: the path printed is one to open or copy
    return {"report": str(where / "report.html"), **{k: str(where / v) for k, v in files.items()}}


def _index(folder: Path) -> dict[str, Any] | None:
    """The marker of a complete cached report, or ``None``."""
    try:
        index = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return index if isinstance(index, dict) and isinstance(index.get("files"), dict) else None


def _keep(report: Path, dest: Path) -> None:
    """Copy a finished report into the cache (under a temporary name, then renamed)."""
    with contextlib.suppress(OSError):
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".report.", dir=dest.parent))
        shutil.copytree(report, tmp, dirs_exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)


@app.command("analyze")
def analyze_cmd(
    scenario: Annotated[
        str, typer.Argument(help="A scenario file, or a bundled scenario (openbmd scenarios).")
    ] = "europe-2009",
    out: Annotated[str, typer.Option("--out", help="Report folder (replaced atomically).")] = (
        DEFAULT_OUT
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the ledger as JSON.")] = False,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Recompute the analyses even if a cached result exists (fly-out fans kept "
            "on disk are still reused: they depend only on the interceptor and site).",
        ),
    ] = False,
    trials: Annotated[
        int | None,
        typer.Option(
            "--trials",
            help="Trials of the campaign over the scenario's uncertain: block (default: its "
            "campaign.trials, 100); ignored without the block.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Processes that run the campaign's trials (default: 2, or 1 on a one-core "
            "machine; 1 runs them in this process). The results do not depend on it.",
        ),
    ] = None,
) -> None:
    """Compare the scenario's architectures and write an offline report (HTML, maps, data)."""
    from openbmd import __version__
    from openbmd.analysis.ledger import ledger
    from openbmd.scenario import load_scenario

    started = time.perf_counter()
    sc = load_scenario(scenario)  # one-line FILE:LINE:COL error, exit 2, nothing written
    if trials is not None and trials < 1:
        fail(f"{trials} must be at least 1", "--trials")
    if workers is not None and workers < 1:
        fail(f"{workers} must be at least 1", "--workers")
    n_workers = workers or min(2, os.cpu_count() or 1)
    text, label = _scenario_text(scenario)
    out_path = Path(out)
    _check_out(out_path)
    trials = (trials or sc.campaign.trials) if sc.uncertain else None
    # The campaign's trials change the results and the report: they are part of the key.
    key = _key(text if trials is None else f"{text}\n# --trials {trials}")
    comparison, camp, hit = _cached_compare(key, sc, not no_cache, as_json, trials, n_workers)
    manifest = {
        "openbmd_version": __version__,
        "scenario": label,
        "scenario_name": sc.name,
        "scenario_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "seeds": "none: every analysis of the report is deterministic (no random draws)"
        if camp is None
        else f"campaign: {camp.sizes['trial']} trials, seed {camp.attrs['seed']} "
        f"({camp.attrs['streams']}); every other analysis is deterministic",
        "generated_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cached": hit,
        "step_seconds": comparison.timings,
    }
    manifest["run_seconds"] = round(time.perf_counter() - started, 2)
    rendered = cache_dir() / "analyze" / f"{key}.report" if not no_cache else None
    paths = _write(out_path, comparison, text, manifest, rendered, camp)
    led = ledger(comparison)
    data = {"paths": paths, "manifest": manifest, "ledger": led.to_dict()}

    def render(d: dict[str, Any]) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{sc.name}: ledger (excerpt)")
        table.add_column("question")
        for a in led.architectures:
            table.add_column(a, justify="right")
        for row in led.rows:
            # The headline answers only; the report has every row.
            if row.label != "population defended" and not (
                row.label.startswith("engageable at") and row.section.startswith("russia")
            ):
                continue
            cells = [_cell(row.values.get(a), row.unit) for a in led.architectures]
            table.add_row(f"{row.section}: {row.label}", *cells)
        Console().print(table)
        took = "cached" if hit else f"{d['manifest']['run_seconds']:.0f} s"
        print(f"report: {d['paths']['report']} ({took})")

    emit(data, as_json, render)


def _cell(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "fraction":
        return f"{100 * value:.0f} %"
    return f"{value:.1f}" if isinstance(value, float) else str(value)

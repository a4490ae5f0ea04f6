"""The house is laid out by layer: every top-level module is classified, and no import circles.

The import-linter contracts in ``pyproject.toml`` check the layers with indirect imports
counted; this test makes sure that a new top-level file cannot slip past them (it must be listed
as core in the first contract, or live in a job-named folder), and that no two modules import
each other, directly or through others (strongly connected components of grimp's import graph).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest

import openbmd

PACKAGE = Path(openbmd.__file__).parent
PYPROJECT = PACKAGE.parents[1] / "pyproject.toml"
# Folders named after a job sit above the core (DESIGN §2).
JOB_FOLDERS = {"analysis", "catalog", "cli", "exchange", "report", "scenario"}
# Entry points that are neither core nor a job: the curated lazy API and ``python -m openbmd``.
ENTRY_POINTS = {"__init__", "__main__"}


def _contracts() -> list[dict[str, object]]:
    with PYPROJECT.open("rb") as fh:
        return list(tomllib.load(fh)["tool"]["importlinter"]["contracts"])


def _core_modules() -> set[str]:
    core = next(c for c in _contracts() if str(c["name"]).startswith("The physics core"))
    return {str(m).removeprefix("openbmd.") for m in core["source_modules"]}  # type: ignore[attr-defined]


def _top_level() -> set[str]:
    names = {p.stem for p in PACKAGE.glob("*.py")} - ENTRY_POINTS
    names |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    return names


def test_every_top_level_module_is_classified() -> None:
    core = _core_modules()
    unclassified = sorted(_top_level() - core - JOB_FOLDERS)
    assert not unclassified, (
        f"classify {unclassified}: add each to the core contract in pyproject.toml "
        "or move it into a job-named folder"
    )


def test_core_list_names_only_existing_modules() -> None:
    assert _core_modules() <= _top_level()


def test_core_contract_counts_indirect_imports() -> None:
    for contract in _contracts():
        if contract["type"] == "forbidden":
            assert contract.get("allow_indirect_imports") is False, contract["name"]


def test_job_folders_are_not_core() -> None:
    assert not (_core_modules() & JOB_FOLDERS)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m.startswith("openbmd"))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if not child.startswith("openbmd"):
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("openbmd")


def test_no_import_circle(graph: grimp.ImportGraph) -> None:
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_circle() -> None:
    g = grimp.ImportGraph()
    for m in ("openbmd.a", "openbmd.b", "openbmd.c"):
        g.add_module(m)
    g.add_import(importer="openbmd.a", imported="openbmd.b")
    g.add_import(importer="openbmd.b", imported="openbmd.c")
    g.add_import(importer="openbmd.c", imported="openbmd.a")
    assert _cycles(g) == [["openbmd.a", "openbmd.b", "openbmd.c"]]


def test_maps_draw_on_a_figure_without_switching_the_backend() -> None:
    """Report and CLI maps use ``matplotlib.figure.Figure``: a notebook's backend stays as it is."""
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "matplotlib.use(" in p.read_text(encoding="utf-8")
        or "matplotlib.pyplot" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []

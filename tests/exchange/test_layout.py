"""The exchange's module layout: no import circle, and from the core only errors, constants and
tracking (TYPE_CHECKING imports count, as they do for import-linter)."""

from __future__ import annotations

import grimp

ALLOWED_CORE = ("openbmd.errors", "openbmd.constants", "openbmd.tracking")


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("openbmd")


def test_no_exchange_module_imports_one_that_imports_it_back() -> None:
    graph = _graph()
    circles = [
        (m, n)
        for m in sorted(graph.modules)
        if m.startswith("openbmd.exchange")
        for n in graph.find_modules_directly_imported_by(m)
        if n.startswith("openbmd.exchange") and graph.chain_exists(importer=n, imported=m)
    ]
    assert circles == []


def test_exchange_imports_only_errors_constants_and_tracking_of_the_core() -> None:
    graph = _graph()
    # What tracking itself needs (the Earth model under its frames) comes with it; anything
    # else of the core the exchange reaches is a violation.
    tracking_needs = graph.find_upstream_modules("openbmd.tracking", as_package=True)
    reached = graph.find_upstream_modules("openbmd.exchange", as_package=True) - tracking_needs
    direct = {
        n
        for m in graph.modules
        if m.startswith("openbmd.exchange")
        for n in graph.find_modules_directly_imported_by(m)
        if n.startswith("openbmd.") and not n.startswith(("openbmd.exchange", *ALLOWED_CORE))
    }
    assert direct == set()
    outside = {
        m
        for m in reached
        if m.startswith("openbmd.")
        and not m.startswith("openbmd.exchange")
        and not m.startswith(ALLOWED_CORE)
    }
    assert outside == set()


def test_app_is_the_factory_only() -> None:
    from openbmd.exchange import app

    assert app.__all__ == ["create_app"]

"""The catalogue names a scenario may use, and the checks the schema runs on them.

Each check returns the name unchanged or raises :class:`ValueError` with a message that says
what is unknown and lists what would be valid (with a "did you mean" when one is close), so
pydantic reports it at the right field and the loader at the right line.

Bundled architecture names come from ``openbmd.catalog.architectures`` when that module
exists, else from ``data/architectures.yaml``; with neither, any name is accepted.
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Iterable
from typing import Any

__all__ = [
    "architecture_names",
    "check_architecture",
    "check_interceptor",
    "check_missile",
    "check_sensor",
    "check_site",
    "check_target",
    "did_you_mean",
]


def did_you_mean(word: str, valid: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``valid``, else ``""``."""
    close = difflib.get_close_matches(word, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _names_of(items: Iterable[Any]) -> tuple[tuple[str, ...], frozenset[str]]:
    """Display names and every accepted spelling (names and aliases, case-folded)."""
    shown: list[str] = []
    keys: set[str] = set()
    for item in items:
        shown.append(item.name)
        keys.add(item.name.casefold())
        keys.update(a.casefold() for a in getattr(item, "aliases", ()))
    return tuple(shown), frozenset(keys)


def _check(value: str, kind: str, shown: tuple[str, ...], keys: frozenset[str]) -> str:
    if value.strip().casefold() in keys:
        return value
    hint = did_you_mean(value, shown)
    raise ValueError(f"unknown {kind} {value!r}{hint}; valid: {', '.join(shown)}")


@functools.cache
def _missiles() -> tuple[tuple[str, ...], frozenset[str]]:
    from openbmd.catalog import load_missiles

    return _names_of(load_missiles())


@functools.cache
def _sites() -> tuple[tuple[str, ...], frozenset[str]]:
    from openbmd.catalog import load_sites

    return _names_of(load_sites())


@functools.cache
def _targets() -> tuple[tuple[str, ...], frozenset[str]]:
    from openbmd.catalog import load_cities, load_sites

    shown, keys = _names_of(load_sites())
    cities, city_keys = _names_of(load_cities())
    extra = tuple(c for c in cities if c.casefold() not in keys)
    return shown + extra, keys | city_keys


@functools.cache
def _interceptors() -> tuple[tuple[str, ...], frozenset[str]]:
    from openbmd.catalog.interceptors import load_interceptors

    return _names_of(load_interceptors())


@functools.cache
def _sensors() -> tuple[tuple[str, ...], frozenset[str]]:
    from openbmd.catalog.sensors import load_sensors

    return _names_of(load_sensors())


def check_missile(value: str) -> str:
    return _check(value, "missile", *_missiles())


def check_site(value: str) -> str:
    return _check(value, "site", *_sites())


def check_target(value: str) -> str:
    return _check(value, "site or city", *_targets())


def check_interceptor(value: str) -> str:
    return _check(value, "interceptor", *_interceptors())


def check_sensor(value: str) -> str:
    return _check(value, "sensor", *_sensors())


def _from_catalogue_module() -> tuple[str, ...] | None:
    try:
        module = importlib.import_module("openbmd.catalog.architectures")
    except ModuleNotFoundError:
        return None
    for attr in ("architecture_names", "list_architectures", "load_architectures"):
        fn = getattr(module, attr, None)
        if callable(fn):
            return tuple(str(getattr(a, "name", a)) for a in fn())
    return None


def _from_data_file() -> tuple[str, ...] | None:
    from importlib import resources

    from openbmd.catalog._yaml import read_data_yaml

    if not resources.files("openbmd").joinpath("data", "architectures.yaml").is_file():
        return None
    doc = read_data_yaml("architectures.yaml")
    entries = doc.get("architectures", [])
    if isinstance(entries, dict):
        return tuple(str(k) for k in entries)
    return tuple(str(e["name"]) for e in entries if isinstance(e, dict) and "name" in e)


@functools.cache
def architecture_names() -> tuple[str, ...] | None:
    """The bundled architectures' names, or ``None`` when the catalogue has none yet."""
    return _from_catalogue_module() or _from_data_file()


def check_architecture(value: str) -> str:
    shown = architecture_names()
    if shown is None:
        return value
    return _check(value, "architecture", shown, frozenset(s.casefold() for s in shown))

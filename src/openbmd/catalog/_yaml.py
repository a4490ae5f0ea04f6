"""The one YAML helper of the catalogues: read a data file, fetch typed fields, look up names.

The catalogue layer reads YAML and validates it, so the core never has to. Every problem is
reported as :class:`~openbmd.errors.ScenarioError` naming the file and field.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from openbmd.errors import ScenarioError, UnknownNameError


def read_data_yaml(filename: str) -> dict[str, Any]:
    """Read one YAML file shipped in ``openbmd/data``."""
    path = resources.files("openbmd").joinpath("data", filename)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"data/{filename}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ScenarioError(f"data/{filename}: expected a mapping at the top level")
    return doc


def require(entry: dict[str, Any], key: str, where: str, kind: type = float) -> Any:
    """Fetch ``entry[key]`` converted to ``kind``, or raise naming ``where.key``."""
    if key not in entry:
        raise ScenarioError(f"{where}: missing field {key!r}")
    try:
        return kind(entry[key])
    except (TypeError, ValueError) as exc:
        raise ScenarioError(
            f"{where}.{key}: {entry[key]!r} is not a valid {kind.__name__}"
        ) from exc


def find_by_name(items: Any, name: str, kind: str, field: str) -> Any:
    """Find ``name`` (case-insensitive) among objects with a ``name`` and optional ``aliases``.

    Raises :class:`UnknownNameError` naming ``field`` and listing the valid names.
    """
    key = name.strip().casefold()
    for item in items:
        if key == item.name.casefold() or key in (
            a.casefold() for a in getattr(item, "aliases", ())
        ):
            return item
    valid = ", ".join(item.name for item in items)
    raise UnknownNameError(f"{field}: unknown {kind} {name!r}; valid: {valid}")


def check_unique_names(items: Any, where: str, kind: str) -> None:
    """Reject a catalogue whose names repeat (case-insensitive)."""
    names = [item.name.casefold() for item in items]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{where}: {kind} names must be unique")

"""The one YAML helper of the catalogues: read a data file, fetch typed fields, look up names.

The catalogue layer reads YAML and validates it, so the core never has to. Every problem is
reported as :class:`~openbmd.errors.ScenarioError` naming the file and field.
"""

from __future__ import annotations

import unicodedata
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


def fold_name(name: str) -> str:
    """The lookup key of a name: stripped, casefolded, accents removed (NFKD).

    ``"Zürich"``, ``"Zurich"`` and ``" zurich "`` share one key.
    """
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def find_by_name(items: Any, name: str, kind: str, field: str) -> Any:
    """Find ``name`` among objects with a ``name`` and optional ``aliases``.

    Matching ignores case and accents (:func:`fold_name`).

    Parameters
    ----------
    items : iterable
        Catalogue entries with ``name`` and, optionally, ``aliases``.
    name : str
        The name the user gave.
    kind : str
        What is looked up (``"missile"``, ``"place"``), for the message.
    field : str
        Field path of the value (``missile``, ``sensors[1]``), carried as ``exc.field``.

    Raises
    ------
    UnknownNameError
        Naming ``field`` and listing the valid names.
    """
    key = fold_name(name)
    items = tuple(items)
    for item in items:
        if key == fold_name(item.name) or key in (
            fold_name(a) for a in getattr(item, "aliases", ())
        ):
            return item
    valid = ", ".join(item.name for item in items)
    raise UnknownNameError(field=field, message=f"unknown {kind} {name!r}; valid: {valid}")


def entries(doc: dict[str, Any], filename: str, key: str, parse: Any) -> list[Any]:
    """Parse every entry of the list ``doc[key]`` with ``parse(entry, where)``.

    ``where`` names the entry for error messages: ``data/FILENAME: key[i]``.
    """
    return [parse(e, f"data/{filename}: {key}[{i}]") for i, e in enumerate(doc.get(key, []))]


def check_unique_names(items: Any, where: str, kind: str) -> None:
    """Reject a catalogue whose names repeat (ignoring case and accents)."""
    names = [fold_name(item.name) for item in items]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{where}: {kind} names must be unique")


def value_with_range(
    entry: dict[str, Any], key: str, where: str, ranges: dict[str, Any], default: Any = None
) -> float:
    """A number, or the ``value`` of ``{value, range}`` (recording the range in ``ranges``).

    Catalogue parameters that are disputed or not public carry their documented range next to
    the value used; the loader checks the value lies inside it and keeps the range for sweeps.
    """
    if key not in entry:
        if default is None:
            raise ScenarioError(f"{where}: missing field {key!r}")
        return float(default)
    raw = entry[key]
    if isinstance(raw, dict):
        v = require(raw, "value", f"{where}.{key}")
        if "range" in raw:
            lo, hi = pair(raw["range"], f"{where}.{key}.range")
            if not lo <= v <= hi:
                raise ScenarioError(
                    f"{where}.{key}: value {v:g} lies outside its range [{lo:g}, {hi:g}]"
                )
            ranges[key] = (lo, hi)
        return float(v)
    return float(require(entry, key, where))


def pair(raw: Any, where: str) -> tuple[float, float]:
    """An ``[LO, HI]`` pair of floats with ``LO <= HI``, or raise naming ``where``."""
    try:
        lo, hi = (float(x) for x in raw)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{where}: expected [LO, HI], got {raw!r}") from exc
    if lo > hi:
        raise ScenarioError(f"{where}: LO {lo:g} is above HI {hi:g}")
    return lo, hi

"""A missile class from a small YAML file of its own (``--missile-file``).

The file holds one mapping with the fields of an entry of ``data/missiles.yaml`` (units in the
key names); :func:`openbmd.catalog.missiles.missile_from_entry` parses it, so the catalogue and
a custom vehicle have one parser. What this module adds is the location: every problem becomes
one line ``FILE:LINE: field: what``, the line found by walking the YAML node tree along the
field path the parser names, and an unknown key (a typo) is refused at its own line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from openbmd.catalog.missiles import missile_from_entry
from openbmd.errors import InputError, ScenarioError
from openbmd.missiles import Missile

__all__ = ["missile_from_file"]

_STAGE_KEYS = {
    "gross_mass_kg", "propellant_mass_kg", "burn_time_s", "diameter_m", "isp_s", "thrust_n",
    "exit_area_m2",
}  # fmt: skip
_KEYS = {
    "name", "class", "aliases", "propellant", "thrust_termination", "source", "rv_mass_kg",
    "rv_beta_kg_m2", "nominal_range_km", "vertical_time_s", "kick_time_s", "drag", "stages",
}  # fmt: skip
# Core names in the parser's messages → the YAML key they come from.
_CORE_KEYS = {
    "gross_mass": "gross_mass_kg", "propellant_mass": "propellant_mass_kg",
    "burn_time": "burn_time_s", "diameter": "diameter_m", "isp": "isp_s", "thrust": "thrust_n",
    "rv_mass": "rv_mass_kg", "rv_beta": "rv_beta_kg_m2", "drag_mach": "drag", "drag_cd": "drag",
}  # fmt: skip
_ROOT = "missile"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _child(node: yaml.Node, step: str | int) -> yaml.Node | None:
    """The value node at key ``step`` of a mapping or index ``step`` of a sequence."""
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for k, v in node.value:
            if k.value == step:
                return v
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step]
    return None


def _steps(path: str) -> list[str | int]:
    return [int(i) if i else n for n, i in re.findall(r"([A-Za-z_]\w*)|\[(\d+)\]", path)]


def _locate(root: yaml.Node, path: str) -> int:
    """Line of the deepest node along ``path`` (``stages[1].isp_s``) that the file has."""
    node, line = root, _line(root)
    for step in _steps(path):
        nxt = _child(node, step)
        if nxt is None:
            break
        if isinstance(node, yaml.MappingNode):  # the key's own line
            line = next(_line(k) for k, _ in node.value if k.value == step)
        else:
            line = _line(nxt)
        node = nxt
    return line


def _unknown_keys(entry: dict[str, Any]) -> str | None:
    """Path of the first key that is not a field of a missile entry, or None."""
    for key in entry:
        if key not in _KEYS:
            return str(key)
    for j, st in enumerate(entry.get("stages") or []):
        for key in st if isinstance(st, dict) else ():
            if key not in _STAGE_KEYS:
                return f"stages[{j}].{key}"
    return None


def _field_of(message: str) -> str:
    """The field path a parser message names (after the ``missile`` root), refined by the
    missing key or the core quantity it mentions."""
    paths = re.findall(rf"\b{_ROOT}((?:\.[A-Za-z_]\w*|\[\d+\])*)", message)
    path = max(paths, key=len).lstrip(".") if paths else ""
    last = _steps(path)[-1:] if path else []
    if last and isinstance(last[0], str) and (last[0] in _KEYS or last[0] in _STAGE_KEYS):
        return path
    missing = re.search(r"missing field '(\w+)'", message)
    core = re.search(r"\b(" + "|".join(_CORE_KEYS) + r")\b", message)
    key = missing.group(1) if missing else (_CORE_KEYS[core.group(1)] if core else "")
    return ".".join(p for p in (path, key) if p)


def missile_from_file(path: str | Path) -> Missile:
    """The missile class defined in the YAML file ``path``.

    Raises :class:`~openbmd.errors.ScenarioError` with one line ``FILE:LINE: field: what`` for a
    missing or unreadable file, invalid YAML, an unknown key or an invalid value.
    """
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{label}:1: cannot read the missile file ({exc})") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        entry = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{label}:{line}: not valid YAML: {what}") from exc
    if root is None or not isinstance(entry, dict):
        raise ScenarioError(
            f"{label}:1: {_ROOT}: expected a mapping with the fields of a data/missiles.yaml entry"
        )
    bad = _unknown_keys(entry)
    if bad is not None:
        raise ScenarioError(
            f"{label}:{_locate(root, bad)}: {_ROOT}.{bad}: unknown field (valid: "
            f"{', '.join(sorted(_STAGE_KEYS if bad.startswith('stages[') else _KEYS))})"
        )
    try:
        return missile_from_entry(entry, _ROOT)
    except (InputError, KeyError, TypeError, ValueError) as exc:
        field = _field_of(str(exc))
        what = str(exc).split(": ")[-1] if ": " in str(exc) else str(exc)
        shown = f"{_ROOT}.{field}" if field else _ROOT
        raise ScenarioError(f"{label}:{_locate(root, field)}: {shown}: {what}") from exc

"""Load a scenario file; every problem becomes one line ``FILE:LINE:COL: path: what (valid)``.

The YAML is composed into nodes first (they keep their line and column), checked for duplicate
keys, then constructed and validated by :class:`~openbmd.scenario.schema.Scenario`. A pydantic
error's location is walked through the node tree to the line it came from; an unknown key is
reported at the key with a "did you mean" drawn from the fields valid at that place.
"""

from __future__ import annotations

import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from openbmd.errors import ScenarioError
from openbmd.scenario.names import did_you_mean
from openbmd.scenario.schema import (
    TAGS,
    ArchitectureRef,
    InlineArchitecture,
    InlineMissile,
    LatLon,
    Scenario,
)
from openbmd.scenario.uncertain import check_uncertain

__all__ = ["bundled_path", "bundled_scenarios", "load_scenario", "parse_scenario"]

#: The model behind each union tag, for walking a location through the schema.
_TAG_MODELS: dict[str, type[BaseModel] | None] = {
    "by-name": None,
    "point": LatLon,
    "inline": None,  # InlineMissile or InlineArchitecture, decided by the field
    "bundled": ArchitectureRef,
}
_INLINE_BY_FIELD: dict[str, type[BaseModel]] = {
    "missile": InlineMissile,
    "architectures": InlineArchitecture,
}


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as text (the schema parses the epoch itself)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``openbmd/data/scenarios``."""
    folder = resources.files("openbmd").joinpath("data", "scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def bundled_path(name: str) -> Any:
    """The resource of a bundled scenario, or raise listing the bundled ones."""
    if name not in bundled_scenarios():
        hint = did_you_mean(name, bundled_scenarios())
        raise ScenarioError(
            f"{name}: no such file or bundled scenario{hint} "
            f"(bundled: {', '.join(bundled_scenarios())})"
        )
    return resources.files("openbmd").joinpath("data", "scenarios", f"{name}.yaml")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file, or a bundled scenario by name."""
    p = Path(path)
    if p.is_file():
        label = str(path)
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            line = p.read_bytes()[: exc.start].count(b"\n") + 1
            raise ScenarioError(
                f"{label}:{line}:1: scenario: not UTF-8 text (byte {exc.start}; save as UTF-8)"
            ) from exc
        except OSError as exc:
            raise ScenarioError(f"{label}: cannot be read ({exc.strerror})") from exc
        return parse_scenario(text, label)
    if p.exists():
        raise ScenarioError(f"{path}: not a file")
    name = str(path)
    if name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name:
        raise ScenarioError(f"{path}: no such file")
    if name not in bundled_scenarios():
        raise ScenarioError(
            f"{path}: no such file (nor a bundled scenario: {', '.join(bundled_scenarios())})"
        )
    return parse_scenario(bundled_path(name).read_text(encoding="utf-8"), f"{name}.yaml")


def _where(label: str, mark: Any) -> str:
    return f"{label}:{mark.line + 1}:{mark.column + 1}"


def _compose(text: str, label: str) -> tuple[yaml.Node, Any]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(
                f"{label}:1:1: scenario: the file is empty (expected a mapping with name, "
                "epoch, threats, architectures)"
            )
        _check_duplicates(node, label)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(exc.problem or exc.context or "invalid syntax").split())
        where = _where(label, mark) if mark is not None else f"{label}:1:1"
        raise ScenarioError(f"{where}: scenario: not valid YAML: {what}") from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{label}:1:1: scenario: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return node, data


def _check_duplicates(root: yaml.Node, label: str, path: str = "") -> None:
    stack: list[tuple[yaml.Node, str]] = [(root, path)]
    seen_nodes: set[int] = set()
    while stack:
        node, where = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, Any] = {}
            for key, value in node.value:
                k = key.value if isinstance(key, yaml.ScalarNode) else id(key)
                child = f"{where}.{k}" if where else str(k)
                if k in first and k != "<<":
                    raise ScenarioError(
                        f"{_where(label, key.start_mark)}: {child}: duplicate key {k!r} "
                        f"(first given at line {first[k].start_mark.line + 1}; keep one)"
                    )
                first[k] = key
                stack.append((value, child))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node.value))


def _child(node: yaml.Node, item: Any, as_key: bool = False) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(item):
                return key if as_key else value
    if isinstance(node, yaml.SequenceNode) and isinstance(item, int):
        if 0 <= item < len(node.value):
            return node.value[item]
    return None


def _unwrap(tp: Any) -> list[Any]:
    """The plain types inside ``Annotated``, ``Optional`` and unions."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(tp) for t in _unwrap(a)]
    return [tp]


def _step(tp: Any, item: Any, field: str) -> Any:
    """The type at ``item`` below type ``tp`` (``None`` when unknown)."""
    for t in _unwrap(tp):
        if isinstance(item, int) and typing.get_origin(t) is list:
            return typing.get_args(t)[0]
        if isinstance(t, type) and issubclass(t, BaseModel) and isinstance(item, str):
            for name, info in t.model_fields.items():
                if item in (name, info.alias):
                    return info.annotation
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the last item of ``loc`` (for listing its valid fields)."""
    tp: Any = Scenario
    field = ""
    for item in loc[:-1]:
        if item in TAGS:
            tp = _TAG_MODELS[item] or _INLINE_BY_FIELD.get(field)
            continue
        tp = _step(tp, item, field)
        if isinstance(item, str):
            field = item
        if tp is None:
            return None
    models = [t for t in _unwrap(tp) if isinstance(t, type) and issubclass(t, BaseModel)]
    return models[0] if len(models) == 1 else None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for item in loc:
        if item in TAGS:
            continue
        out += f"[{item}]" if isinstance(item, int) else (f".{item}" if out else str(item))
    return out or "scenario"


def _message(err: Any) -> str:
    kind, msg = err["type"], str(err["msg"])
    if kind == "missing":
        return "required field is missing"
    if msg.startswith(("Value error, ", "Assertion failed, ")):
        return msg.split(", ", 1)[1]
    got = err.get("input")
    if kind.endswith(("_type", "_parsing")) or kind in ("literal_error", "enum"):
        return f"{msg[0].lower()}{msg[1:]} (got {got!r})"
    bounds = {
        "greater_than_equal": "≥",
        "less_than_equal": "≤",
        "greater_than": ">",
        "less_than": "<",
    }
    if kind in bounds:
        limit = next(iter(err.get("ctx", {}).values()), "?")
        return f"{got!r} is out of range (valid: {bounds[kind]} {limit})"
    return f"{msg[0].lower()}{msg[1:]}"


def _error_line(err: Any, root: yaml.Node, label: str) -> tuple[int, int, str]:
    loc = tuple(err["loc"])
    real = tuple(i for i in loc if i not in TAGS)
    node: yaml.Node = root
    for depth, item in enumerate(real):
        last = depth == len(real) - 1
        nxt = _child(node, item, as_key=last and err["type"] == "extra_forbidden")
        if nxt is None:
            break
        node = nxt
    mark = node.start_mark
    path = _path(loc)
    if err["type"] == "extra_forbidden":
        model = _model_at(loc)
        valid = list(model.model_fields) if model else []
        valid = [model.model_fields[v].alias or v for v in valid] if model else []
        key = str(loc[-1])
        hint = did_you_mean(key, valid)
        text = f"unknown key {key!r}{hint}" + (f"; valid: {', '.join(valid)}" if valid else "")
    else:
        text = _message(err)
    return mark.line, mark.column, f"{_where(label, mark)}: {path}: {text}"


def parse_scenario(text: str, label: str = "<scenario>") -> Scenario:
    """Validate scenario YAML ``text``; ``label`` names the file in errors."""
    if not text.strip():
        raise ScenarioError(
            f"{label}:1:1: scenario: the file is empty (expected a mapping with name, epoch, "
            "threats, architectures)"
        )
    root, data = _compose(text, label)
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{_where(label, root.start_mark)}: scenario: expected a mapping at the top level "
            f"(name, epoch, threats, architectures), got a {type(data).__name__}"
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        # The earliest error in the file; a missing field only when nothing else is wrong,
        # since a misspelt key also makes its correct spelling "missing".
        errors = exc.errors()
        first = min(errors, key=lambda e: (e["type"] == "missing", _error_line(e, root, label)))
        raise ScenarioError(" ".join(_error_line(first, root, label)[2].split())) from None
    bad = check_uncertain(scenario)
    if bad is not None:
        err = {"type": "value_error", "loc": bad[0], "msg": f"Value error, {bad[1]}"}
        raise ScenarioError(" ".join(_error_line(err, root, label)[2].split()))
    return scenario

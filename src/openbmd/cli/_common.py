"""Shared plumbing of the command line: the root app, error handling, output, places."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
import typer

from openbmd.errors import InputError, OpenBMDError, UnknownNameError

app = typer.Typer(
    name="openbmd",
    help="Reproducible open-literature analysis of ballistic missile defence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _exception_family(name: str) -> tuple[type[BaseException], ...]:
    """The click exception class ``name`` — from click, and from the copy newer Typer vendors."""
    found: list[type[BaseException]] = [getattr(click.exceptions, name)]
    try:
        from typer._click import exceptions as vendored  # Typer ≥ 0.29 ships its own click
    except ImportError:  # pragma: no cover - older Typer uses click itself
        return tuple(found)
    if hasattr(vendored, name):
        found.append(getattr(vendored, name))
    return tuple(found)


_NO_ARGS = _exception_family("NoArgsIsHelpError")
_USAGE = _exception_family("UsageError")
_ABORT: tuple[type[BaseException], ...] = (*_exception_family("Abort"), typer.Abort)
_EXIT: tuple[type[BaseException], ...] = (*_exception_family("Exit"), typer.Exit)


def fail(message: str) -> None:
    """Raise the one-line user error that :func:`main` turns into exit code 2."""
    raise InputError(message)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; map user errors to one line on stderr and exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=args, prog_name="openbmd", standalone_mode=False)
    except _NO_ARGS as exc:
        ctx = getattr(exc, "ctx", None)
        print(ctx.get_help() if ctx else str(exc))
        return 0
    except _USAGE as exc:
        # Click's usage errors already name the option; keep them to one line.
        message = exc.format_message()  # type: ignore[attr-defined]
        print(f"openbmd: error: {_one_line(message)}", file=sys.stderr)
        return 2
    except _ABORT:
        print("openbmd: aborted", file=sys.stderr)
        return 130
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0))
    except OpenBMDError as exc:
        print(f"openbmd: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        print(f"openbmd: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    return int(rv) if isinstance(rv, int) else 0


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _jsonable(obj.item())
    if hasattr(obj, "tolist"):
        return _jsonable(obj.tolist())
    return obj


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON (``--json``) or through ``render`` for people."""
    if as_json:
        print(json.dumps(_jsonable(data), indent=2))
    else:
        render(data)


def parse_float_list(text: str, field: str) -> list[float]:
    """Parse ``"1,2.5,3"`` into floats, naming ``field`` on error."""
    out: list[float] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(float(part))
        except ValueError:
            fail(f"{field}: {part!r} is not a number")
    if not out:
        fail(f"{field}: expected a comma-separated list of numbers, got {text!r}")
    return out


def check_lat_lon(lat_deg: float, lon_deg: float, field: str) -> None:
    """Reject a latitude outside [-90, 90] or a longitude outside [-180, 360]."""
    if not math.isfinite(lat_deg) or not -90.0 <= lat_deg <= 90.0:
        fail(f"{field}: latitude {lat_deg:g} is outside [-90, 90] degrees")
    if not math.isfinite(lon_deg) or not -180.0 <= lon_deg <= 360.0:
        fail(f"{field}: longitude {lon_deg:g} is outside [-180, 360] degrees")


def parse_place(text: str, field: str) -> tuple[str, float, float]:
    """Resolve a catalogue place name or ``LAT,LON`` (degrees) to ``(label, lat_deg, lon_deg)``."""
    from openbmd.catalog import load_sites

    text = text.strip()
    if "," in text:
        parts = text.split(",")
        if len(parts) != 2:
            fail(f"{field}: {text!r} is not LAT,LON (two numbers in degrees, e.g. 35.69,51.39)")
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            fail(f"{field}: {text!r} is not LAT,LON (two numbers in degrees, e.g. 35.69,51.39)")
        check_lat_lon(lat, lon, field)
        return text, lat, lon
    sites = load_sites()
    key = text.casefold()
    for site in sites:
        if site.name.casefold() == key:
            return site.name, site.lat_deg, site.lon_deg
    names = ", ".join(s.name for s in sites)
    raise UnknownNameError(f"{field}: unknown place {text!r}; use LAT,LON or one of: {names}")

"""Shared plumbing of the command line: the root app, error handling, output, places, seeds.

The library names a bad value by its field path (``exc.field``: ``missile``, ``sensors[1]``,
``batteries[0].interceptor.burnout_speed``); :func:`flag_for` maps the path to the option a
user typed, so the one error handler in :func:`main` prints ``--missile: …`` and exits 2.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click
import numpy as np
import typer

from openbmd.errors import InputError, OpenBMDError

app = typer.Typer(
    name="openbmd",
    help="Reproducible open-literature analysis of ballistic missile defence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[dB]" is a unit, not Rich markup
)

#: Field paths whose option is not simply ``--`` + the path's first name with ``_`` → ``-``.
FIELD_FLAGS: dict[str, str] = {
    "interceptor.burnout_speed": "--burnout-speed-kms",
    "burnout_speed": "--burnout-speed-kms",
    "apogee": "--apogee-km",
    "rcs": "--rcs-m2",
    "places": "--sites",
}


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


def fail(message: str, field: str | None = None) -> NoReturn:
    """Raise the one-line user error that :func:`main` turns into exit code 2.

    ``field`` is a field path or an option (``--site``); without it ``message`` must name
    the option itself, as older call sites do (``"--shape: …"``).
    """
    raise InputError(message, field=None if field is None else field_path(field))


def positive(value: float, option: str, what: str = "") -> None:
    """Reject a value that is not a finite positive number, naming ``option``."""
    if not math.isfinite(value) or value <= 0.0:
        fail(f"{value:g} is invalid; {what or 'it'} must be a positive number", option)


def field_path(name: str) -> str:
    """The field path of an option or path: ``--launch-area`` → ``launch_area``."""
    return name[2:].replace("-", "_") if name.startswith("--") else name


def _options() -> set[str]:
    """Every long option of every command of :data:`app`."""
    found: set[str] = set()
    stack = [typer.main.get_command(app)]
    while stack:
        cmd = stack.pop()
        found.update(o for p in cmd.params for o in getattr(p, "opts", ()) if o.startswith("--"))
        stack.extend(getattr(cmd, "commands", {}).values())
    return found


def flag_for(field: str | None) -> str | None:
    """The option a field path came from, or ``None`` when no option matches.

    ``sensors[2]`` → ``--sensors``; ``launch_area`` → ``--launch-area``;
    ``interceptor.burnout_speed`` → ``--burnout-speed-kms`` (:data:`FIELD_FLAGS`).
    """
    if not field:
        return None
    path = re.sub(r"\[\d*\]", "", field)
    names = path.split(".")
    for k in range(len(names), 0, -1):
        flag = FIELD_FLAGS.get(".".join(names[-k:]))
        if flag:
            return flag
    flag = "--" + names[0].replace("_", "-")
    return flag if flag in _options() else None


def describe(exc: OpenBMDError) -> str:
    """The one line the CLI prints for ``exc``: the option it names, then what was wrong."""
    field = getattr(exc, "field", None)
    flag = flag_for(field)
    text = f"{flag}: {exc.message}" if flag and isinstance(exc, InputError) else str(exc)
    return _one_line(text)


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
        print(f"openbmd: error: {describe(exc)}", file=sys.stderr)
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
    """Reject a point off the globe (see :func:`openbmd.catalog.places.check_lat_lon`)."""
    from openbmd.catalog.places import check_lat_lon as check

    check(lat_deg, lon_deg, field_path(field))


def parse_place(text: str, field: str) -> tuple[str, float, float]:
    """A site, a city or ``LAT,LON`` → ``(label, lat_deg, lon_deg)`` (:func:`catalog.place`)."""
    from openbmd.catalog.places import place

    p = place(text, field_path(field))
    return p.name, p.lat_deg, p.lon_deg


def parse_places(text: str, field: str) -> list[tuple[str, float, float]]:
    """A list of places → ``[(label, lat_deg, lon_deg)]`` (:func:`catalog.parse_places`)."""
    from openbmd.catalog.places import parse_places as parse

    return [(p.name, p.lat_deg, p.lon_deg) for p in parse(text, field_path(field))]


SEED_HELP = (
    "Seed of the random draws (an integer >= 0). The same seed gives the same numbers; "
    "the answer reports the seed it used."
)


def rng_from_seed(seed: int, field: str = "--seed") -> np.random.Generator:
    """The one place the CLI makes a generator: ``numpy.random.default_rng(seed)``.

    The library never seeds; commands that draw take ``--seed`` and pass this generator on.
    """
    if seed < 0:
        fail(f"{seed} is negative; give an integer >= 0", field)
    return np.random.default_rng(seed)


MISSILE_FILE_HELP = (
    "A missile defined in a YAML file: the fields of a data/missiles.yaml entry "
    "(docs/examples/missile.yaml). Replaces --missile."
)


def missile_file_option() -> Any:
    """The ``--missile-file`` option (a fresh OptionInfo per command)."""
    return typer.Option(None, "--missile-file", help=MISSILE_FILE_HELP, dir_okay=False)


def resolve_missile(missile: str | None, missile_file: Any, default: str | None = None) -> Any:
    """The threat class: from ``--missile-file`` when given, else ``--missile`` by name.

    Both at once is refused unless ``--missile`` is only at its ``default``; neither at once
    names ``--missile``. A bad file raises one line ``FILE:LINE: field: what``.
    """
    if missile_file is not None:
        if missile is not None and missile != default:
            fail("give either --missile or --missile-file, not both", "--missile-file")
        from openbmd.catalog.missile_file import missile_from_file

        return missile_from_file(missile_file)
    if missile is None:
        fail("a missile class is required: give --missile NAME or --missile-file FILE", "--missile")
    from openbmd import catalog

    return catalog.missile(missile)

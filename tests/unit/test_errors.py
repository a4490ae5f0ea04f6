"""Errors carry a machine-readable field path; the CLI maps it to its flag (issue 11, item 7)."""

from __future__ import annotations

import pickle

import pytest

from openbmd import catalog
from openbmd.catalog.interceptors import interceptor
from openbmd.catalog.sensors import sensors_by_names
from openbmd.cli._common import describe, flag_for
from openbmd.errors import InputError, OpenBMDError, OutOfRangeError, UnknownNameError


def test_input_error_keeps_field_and_reads_field_colon_message() -> None:
    exc = InputError(field="batteries[0].interceptor.burnout_speed", message="must be > 0")
    assert isinstance(exc, OpenBMDError) and isinstance(exc, ValueError)
    assert exc.field == "batteries[0].interceptor.burnout_speed"
    assert exc.message == "must be > 0"
    assert str(exc) == "batteries[0].interceptor.burnout_speed: must be > 0"


def test_old_call_sites_still_work() -> None:
    exc = InputError("--shape: 'x' is not one of min-energy")
    assert exc.field is None and str(exc) == "--shape: 'x' is not one of min-energy"


def test_field_survives_pickling() -> None:  # errors cross process pools
    for exc in (UnknownNameError(field="missile", message="unknown"), OutOfRangeError("far")):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and back.field == exc.field and str(back) == str(exc)


@pytest.mark.parametrize(
    ("lookup", "field"),
    [
        (lambda: catalog.missile("nope"), "missile"),
        (lambda: interceptor("nope"), "interceptor"),
        (lambda: catalog.site("nope"), "site"),
        (lambda: catalog.city("nope"), "city"),
        (lambda: catalog.place("nope", "launch"), "launch"),
        (lambda: sensors_by_names("EMR,nope"), "sensors[1]"),
        (lambda: sensors_by_names(""), "sensors"),
    ],
)
def test_catalogue_errors_name_a_path_not_a_flag(lookup, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        lookup()
    assert info.value.field == field
    assert "--" not in str(info.value).split(":")[0]


@pytest.mark.parametrize(
    ("field", "flag"),
    [
        ("missile", "--missile"),
        ("sensors[2]", "--sensors"),
        ("launch_area", "--launch-area"),
        ("from[1]", "--from"),
        ("batteries[0].interceptor.burnout_speed", "--burnout-speed-kms"),
        ("no_such_option", None),
        (None, None),
    ],
)
def test_flag_for(field: str | None, flag: str | None) -> None:
    assert flag_for(field) == flag


def test_describe_names_the_flag_or_falls_back_to_the_path() -> None:
    assert describe(UnknownNameError(field="sensors[1]", message="unknown sensor 'x'")) == (
        "--sensors: unknown sensor 'x'"
    )
    assert describe(InputError(field="rng", message="pass a generator")) == (
        "rng: pass a generator"
    )
    assert describe(InputError("--grid-deg: bad")) == "--grid-deg: bad"

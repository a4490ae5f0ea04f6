"""``--missile-file``: a missile class from a YAML file, one parser with the catalogue, and
one-line FILE:LINE errors naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from openbmd import catalog
from openbmd.catalog._yaml import read_data_yaml
from openbmd.catalog.missile_file import missile_from_file
from openbmd.catalog.missiles import missile_from_entry
from openbmd.cli import main
from openbmd.errors import ScenarioError

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "missile.yaml"


def _entry(name: str) -> dict:
    return next(e for e in read_data_yaml("missiles.yaml")["missiles"] if e["name"] == name)


def _write(tmp_path: Path, entry: dict, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(entry, sort_keys=False), encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_catalogue_entry_written_to_a_file_is_the_catalogue_missile(tmp_path: Path) -> None:
    for name in ("IRBM", "Topol-M", "Shahab-3"):
        assert missile_from_file(_write(tmp_path, _entry(name))) == catalog.missile(name)


def test_the_documented_example_parses_as_the_catalogue_would(tmp_path: Path) -> None:
    m = missile_from_file(EXAMPLE)
    entry = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert m == missile_from_entry(entry, "missile")
    assert m.name == "Fitted-ICBM" and len(m.stages) == 2 and m.thrust_termination


def test_trajectory_from_a_file_flies_as_the_named_class(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _write(tmp_path, _entry("IRBM"))
    place = ("--launch", "Tabriz", "--target", "Berlin", "--json")
    code, by_name, _ = _run(capsys, "trajectory", "--missile", "IRBM", *place)
    assert code == 0
    code, by_file, _ = _run(capsys, "trajectory", "--missile-file", str(path), *place)
    assert code == 0
    assert json.loads(by_file) == json.loads(by_name)


def test_engage_takes_a_missile_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _write(tmp_path, _entry("IRBM"))
    args = ("engage", "--site", "Redzikowo", "--interceptor", "GBI-2", "--launch", "Tabriz",
            "--target", "Berlin", "--sensors", "EMR,TPY-2,SpaceIR", "--json")  # fmt: skip
    code, by_name, _ = _run(capsys, *args, "--missile", "IRBM")
    assert code == 0
    code, by_file, _ = _run(capsys, *args, "--missile-file", str(path))
    assert code == 0
    assert json.loads(by_file) == json.loads(by_name)


GOOD = "\n".join(
    [
        "name: X",
        "thrust_termination: true",
        "nominal_range_km: 8000",
        "rv_mass_kg: 1000",
        "rv_beta_kg_m2: 5000",
        "stages:",
        "  - {gross_mass_kg: 26000, propellant_mass_kg: 23400, burn_time_s: 120,"
        " diameter_m: 1.7, isp_s: 290}",
        "  - {gross_mass_kg: 7000, propellant_mass_kg: 6200, burn_time_s: 100,"
        " diameter_m: 1.7, isp_s: 310}",
        "",
    ]
)


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        (", burn_time_s: 100", "", 8, "missile.stages[1].burn_time_s"),  # missing
        ("propellant_mass_kg: 6200", "propellant_mass_kg: 8000", 8, "stages[1].propellant_mass_kg"),
        ("isp_s: 310", "isp_s: fast", 8, "missile.stages[1].isp_s"),
        ("rv_mass_kg: 1000", "rv_mass_kg: -5", 4, "missile.rv_mass_kg"),
        ("rv_beta_kg_m2: 5000", "rv_beta_kg: 5000", 5, "missile.rv_beta_kg"),  # a typo
        ("thrust_termination: true\n", "", 1, "missile.thrust_termination"),
        (
            "diameter_m: 1.7, isp_s: 310",
            "diameter_m: 1.7, isp_s: 310, isp_vac: 1",
            8,
            "stages[1].isp_vac",
        ),
        ("name: X", "name: [X", 2, "not valid YAML"),
    ],
)
def test_a_bad_file_is_one_line_naming_file_line_and_field(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old: str,
    new: str,
    line: int,
    field: str,
) -> None:
    assert old in GOOD
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ScenarioError):
        missile_from_file(path)
    code, out, err = _run(
        capsys,
        "trajectory",
        "--missile-file",
        str(path),
        "--launch",
        "40,127",
        "--target",
        "40,130",
    )
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{path}:{line}: " in err and field in err


def test_the_good_file_of_the_bad_cases_parses(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert missile_from_file(path).name == "X"


def test_missile_and_missile_file_choices(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _write(tmp_path, _entry("IRBM"))
    place = ("--launch", "Tabriz", "--target", "Berlin")
    code, _, err = _run(
        capsys, "trajectory", "--missile", "IRBM", "--missile-file", str(path), *place
    )
    assert code == 2 and err.count("\n") == 1 and "--missile-file" in err
    code, _, err = _run(capsys, "trajectory", *place)
    assert code == 2 and "--missile" in err
    code, _, err = _run(capsys, "trajectory", "--missile-file", str(tmp_path / "none.yaml"), *place)
    assert code == 2 and f"{tmp_path / 'none.yaml'}:1: " in err

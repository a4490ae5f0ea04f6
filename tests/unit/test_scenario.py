"""Scenario files: the bundled one loads; every malformed file gives one line at the right line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from openbmd.cli import main
from openbmd.errors import ScenarioError
from openbmd.scenario import Scenario, bundled_scenarios, load_scenario, names, parse_scenario

HEAD = """\
name: t
epoch: 2009-09-17T00:00:00Z
threats:
  - name: a
    missile: Shahab-3
    launch_areas: [Tehran]
"""  # lines 1-6
ARCH = """\
architectures:
  - name: third-site-2007
"""

# (id, text, line, field path, fragment of the message)
CASES: list[tuple[str, str, int, str, str]] = [
    ("empty", "", 1, "scenario", "empty"),
    ("only-comment", "# nothing\n", 1, "scenario", "empty"),
    ("top-list", "- a\n- b\n", 1, "scenario", "expected a mapping"),
    ("top-scalar", "hello\n", 1, "scenario", "expected a mapping"),
    ("bad-yaml", "name: t\nthreats: [a, b\nepoch: x\n", 3, "scenario", "not valid YAML"),
    ("bad-indent", "name: t\n  epoch: x\n", 2, "scenario", "not valid YAML"),
    ("tab", "name: t\n\tepoch: x\n", 2, "scenario", "not valid YAML"),
    ("duplicate-top", HEAD + "name: u\n" + ARCH, 7, "name", "duplicate key 'name'"),
    (
        "duplicate-nested",
        HEAD + "    missile: Sejjil\n" + ARCH,
        7,
        "threats[0].missile",
        "first given at line 5",
    ),
    ("missing-name", HEAD.replace("name: t\n", "") + ARCH, 1, "name", "required field"),
    ("missing-architectures", HEAD, 1, "architectures", "required field"),
    (
        "unknown-top-key",
        HEAD + ARCH + "sweep:\n  burnout_speed_kms: [7]\n",
        9,
        "sweep",
        "did you mean 'sweeps'?",
    ),
    (
        "unknown-threat-key",
        HEAD + "    shap: lofted\n" + ARCH,
        7,
        "threats[0].shap",
        "did you mean 'shape'?",
    ),
    (
        "unknown-analysis",
        HEAD + ARCH + "analyses:\n  footprnt: {}\n",
        10,
        "analyses.footprnt",
        "did you mean 'footprint'?",
    ),
    (
        "unknown-option",
        HEAD + ARCH + "analyses:\n  footprint: {grid: 1}\n",
        10,
        "analyses.footprint.grid",
        "did you mean 'grid_deg'?",
    ),
    (
        "unknown-missile",
        HEAD.replace("Shahab-3", "Shahab-4") + ARCH,
        5,
        "threats[0].missile",
        "unknown missile 'Shahab-4' (did you mean 'Shahab-3'?)",
    ),
    (
        "unknown-site",
        HEAD.replace("[Tehran]", "[Tehran, Tehrn]") + ARCH,
        6,
        "threats[0].launch_areas[1]",
        "unknown site 'Tehrn'",
    ),
    (
        "unknown-city",
        HEAD + "    targets: [Warsaw, Atlantis]\n" + ARCH,
        7,
        "threats[0].targets[1]",
        "unknown site or city 'Atlantis'",
    ),
    (
        "unknown-defended-city",
        HEAD + ARCH + "defended:\n  targets:\n    - Lodz\n    - Lodzz\n",
        12,
        "defended.targets[1]",
        "did you mean 'Lodz'?",
    ),
    (
        "unknown-interceptor",
        HEAD + "architectures:\n  - name: mine\n    batteries:\n      - site: Redzikowo\n"
        "        interceptor: GBI-9\n        inventory: 10\n",
        11,
        "architectures[0].batteries[0].interceptor",
        "unknown interceptor 'GBI-9'",
    ),
    (
        "unknown-battery-site",
        HEAD + "architectures:\n  - name: mine\n    batteries:\n      - site: Redzikow\n"
        "        interceptor: GBI-2\n        inventory: 10\n",
        10,
        "architectures[0].batteries[0].site",
        "did you mean 'Redzikowo'?",
    ),
    (
        "unknown-sensor",
        HEAD + "architectures:\n  - name: mine\n    batteries: []\n    sensors:\n"
        "      - {name: EMRX, role: fire-control}\n",
        11,
        "architectures[0].sensors[0].name",
        "unknown sensor 'EMRX'",
    ),
    (
        "bad-role",
        HEAD + "architectures:\n  - name: mine\n    batteries: []\n    sensors:\n"
        "      - {name: EMR, role: shooter}\n",
        11,
        "architectures[0].sensors[0].role",
        "'early-warning', 'fire-control' or 'cue-only'",
    ),
    (
        "bad-shape",
        HEAD + "    shape: ballistic\n" + ARCH,
        7,
        "threats[0].shape",
        "'min-energy', 'lofted' or 'depressed'",
    ),
    (
        "lat-out",
        HEAD.replace("[Tehran]", "[{lat_deg: 95.0, lon_deg: 51}]") + ARCH,
        6,
        "threats[0].launch_areas[0].lat_deg",
        "95.0 is out of range (valid: ≤ 90",
    ),
    (
        "lon-out",
        HEAD.replace("[Tehran]", "[{lat_deg: 35, lon_deg: -181}]") + ARCH,
        6,
        "threats[0].launch_areas[0].lon_deg",
        "(valid: ≥ -180",
    ),
    (
        "burnout-high",
        HEAD + ARCH + "    overrides:\n      burnout_speed_kms: 13\n",
        10,
        "architectures[0].overrides.burnout_speed_kms",
        "13 is out of range (valid: ≤ 12",
    ),
    (
        "burnout-low-sweep",
        HEAD + ARCH + "sweeps:\n  burnout_speed_kms: [5.4, 0.5]\n",
        10,
        "sweeps.burnout_speed_kms[1]",
        "(valid: ≥ 1",
    ),
    (
        "negative-latency",
        HEAD + ARCH + "    overrides: {exchange_latency_s: -5}\n",
        9,
        "architectures[0].overrides.exchange_latency_s",
        "-5 is out of range (valid: ≥ 0",
    ),
    (
        "negative-sensor-latency",
        HEAD + "architectures:\n  - name: mine\n    batteries: []\n    sensors:\n"
        "      - {name: Gabala, role: early-warning, latency_s: -1}\n",
        11,
        "architectures[0].sensors[0].latency_s",
        "(valid: ≥ 0",
    ),
    (
        "seeker-fov-too-wide",
        HEAD + ARCH + "    overrides: {seeker_fov_deg: 200}\n",
        9,
        "architectures[0].overrides.seeker_fov_deg",
        "200 is out of range (valid: ≤ 180",
    ),
    (
        "wrong-type-number",
        HEAD + ARCH + "    overrides: {decision_delay_s: soon}\n",
        9,
        "architectures[0].overrides.decision_delay_s",
        "valid number (got 'soon')",
    ),
    (
        "wrong-type-bool-as-number",
        HEAD + ARCH + "    overrides: {decision_delay_s: true}\n",
        9,
        "architectures[0].overrides.decision_delay_s",
        "valid number",
    ),
    (
        "wrong-type-inventory",
        HEAD + "architectures:\n  - name: mine\n    batteries:\n      - site: Redzikowo\n"
        "        interceptor: GBI-2\n        inventory: 10.5\n",
        12,
        "architectures[0].batteries[0].inventory",
        "valid integer",
    ),
    (
        "wrong-nesting-threats",
        HEAD.replace("  - name: a", "    name: a").replace("    missile", "    missile", 1) + ARCH,
        4,
        "threats",
        "valid list",
    ),
    (
        "threats-as-string",
        "name: t\nepoch: 2009-09-17T00:00:00Z\nthreats: Shahab-3\n" + ARCH,
        3,
        "threats",
        "valid list",
    ),
    (
        "empty-threats",
        "name: t\nepoch: 2009-09-17T00:00:00Z\nthreats: []\n" + ARCH,
        3,
        "threats",
        "at least 1",
    ),
    ("name-not-string", HEAD.replace("name: t", "name: 42") + ARCH, 1, "name", "valid string"),
    (
        "epoch-not-utc",
        HEAD.replace("00:00:00Z", "00:00:00+02:00") + ARCH,
        2,
        "epoch",
        "must be UTC",
    ),
    (
        "epoch-garbage",
        HEAD.replace("2009-09-17T00:00:00Z", "yesterday") + ARCH,
        2,
        "epoch",
        "datetime",
    ),
    (
        "region-order",
        HEAD + ARCH + "defended:\n  regions:\n    - {name: r, lat_min_deg: 50, "
        "lat_max_deg: 40, lon_min_deg: 0, lon_max_deg: 10}\n",
        11,
        "defended.regions[0]",
        "lat_min_deg must be below lat_max_deg",
    ),
    (
        "inline-missile-bad-stage",
        HEAD.replace(
            "    missile: Shahab-3\n",
            "    missile:\n      name: M\n      rv_mass_kg: 500\n"
            "      rv_beta_kg_m2: 3000\n      nominal_range_km: 900\n      stages:\n"
            "        - {gross_mass_kg: 9000, propellant_mass_kg: 8000, burn_time_s: 80, "
            "diameter_m: 1, isp_s: -2}\n",
        )
        + ARCH,
        11,
        "threats[0].missile.stages[0].isp_s",
        "(valid: > 0",
    ),
    (
        "inline-missile-unknown-key",
        HEAD.replace(
            "    missile: Shahab-3\n", "    missile:\n      name: M\n      rv_mas_kg: 500\n"
        )
        + ARCH,
        7,
        "threats[0].missile.rv_mas_kg",
        "did you mean 'rv_mass_kg'?",
    ),
    (
        "architecture-unknown-key",
        HEAD + ARCH + "    overides: {}\n",
        9,
        "architectures[0].overides",
        "did you mean 'overrides'?",
    ),
    (
        "grid-too-fine",
        HEAD + ARCH + "analyses:\n  footprint: {grid_deg: 0}\n",
        10,
        "analyses.footprint.grid_deg",
        "(valid: > 0",
    ),
    (
        "sensors-outside-overrides",
        HEAD + ARCH + "    sensors: [EMR]\n",
        9,
        "architectures[0].sensors",
        "unknown key 'sensors'; valid: name, label, overrides",
    ),
    (
        "duplicate-threat-name",
        HEAD + "  - {name: a, missile: Sejjil, launch_areas: [Tabriz]}\n" + ARCH,
        4,
        "threats",
        "'a' is used twice",
    ),
    (
        "overrides-not-mapping",
        HEAD + ARCH + "    overrides: [burnout_speed_kms]\n",
        9,
        "architectures[0].overrides",
        "valid dictionary",
    ),
]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


@pytest.mark.parametrize(
    "command",
    [("scenario", "check", "s.yaml"), ("analyze", "s.yaml", "--out", "report")],
    ids=["check", "analyze"],
)
@pytest.mark.parametrize(
    ("text", "line", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_scenario_gives_one_line_at_its_line(
    text: str,
    line: int,
    path: str,
    fragment: str,
    command: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``scenario check`` and ``analyze`` alike: one line, exit 2, nothing written."""
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = _listing(tmp_path)
    code, out, err = _run(capsys, *command)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    prefix = f"openbmd: error: s.yaml:{line}:"
    assert err.startswith(prefix), err
    col, _, rest = err[len(prefix) :].partition(": ")
    assert col.isdigit(), err
    assert rest.startswith(f"{path}: "), err
    assert fragment in rest, err
    assert _listing(tmp_path) == before


def test_there_are_at_least_thirty_malformed_cases() -> None:
    assert len(CASES) >= 30


def test_unknown_architecture_lists_valid_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(names, "architecture_names", lambda: ("none", "third-site-2007"))
    (tmp_path / "s.yaml").write_text(HEAD + ARCH.replace("2007", "2008"), encoding="utf-8")
    code, _, err = _run(capsys, "scenario", "check", str(tmp_path / "s.yaml"))
    assert code == 2
    assert "s.yaml:8:11: architectures[0].name: unknown architecture 'third-site-2008'" in err
    assert "did you mean 'third-site-2007'?" in err and "valid: none, third-site-2007" in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    code, out, err = _run(capsys, "scenario", "check", str(missing))
    assert (code, out) == (2, "")
    assert err == f"openbmd: error: {missing}: no such file\n"
    assert not missing.exists()


def test_unknown_bundled_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "scenario", "show", "europe-2010")
    assert code == 2
    assert "did you mean 'europe-2009'?" in err and err.count("\n") == 1


def test_bundled_scenario_loads() -> None:
    assert "europe-2009" in bundled_scenarios()
    sc = load_scenario("europe-2009")
    assert [a.name for a in sc.architectures] == [
        "none",
        "third-site-2007",
        "third-site-2007-russian-radars",
        "joint-2009",
        "epaa-phase-1",
        "epaa-phase-2",
        "epaa-phase-3",
    ]
    assert sc.sweeps.burnout_speed_kms == [5.4, 6.3, 7.7, 8.3, 9.0]
    missiles = {t.missile for t in sc.threats}
    assert {"Shahab-3", "Sejjil", "IRBM", "ICBM-liquid", "Topol-M", "Iskander"} <= missiles
    assert sc.epoch.isoformat() == "2009-09-17T00:00:00+00:00"


def test_check_ok_prints_summary_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "scenario", "show", "europe-2009")
    (tmp_path / "copy.yaml").write_text(out, encoding="utf-8")
    before = _listing(tmp_path)
    code, out, err = _run(capsys, "scenario", "check", "copy.yaml")
    assert (code, err) == (0, "")
    assert out.startswith("OK copy.yaml: europe-2009: 6 threat(s), 7 architecture(s)")
    assert out.count("\n") == 1
    assert _listing(tmp_path) == before
    code, out, _ = _run(capsys, "scenario", "check", "copy.yaml", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_show_round_trips_through_the_loader(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "scenario", "show", "europe-2009")
    assert code == 0
    assert "REFERENCES §9" in out  # the sources travel with the copy
    assert parse_scenario(out, "shown.yaml") == load_scenario("europe-2009")


def test_scenarios_lists_bundled(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "scenarios", "--json")
    assert code == 0
    assert [r["name"] for r in json.loads(out)] == bundled_scenarios()
    code, out, _ = _run(capsys, "scenarios")
    assert out.startswith("europe-2009: ")


def test_schema_is_valid_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    code, out, _ = _run(capsys, "scenario", "schema")
    assert code == 0
    doc = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc["additionalProperties"] is False
    assert {"name", "epoch", "threats", "architectures"} <= set(doc["required"])
    # The bundled scenario (as JSON data) satisfies the schema editors will use.
    text = load_scenario("europe-2009").model_dump(mode="json", by_alias=True)
    jsonschema.Draft202012Validator(doc).validate(text)


def test_inline_definitions_validate() -> None:
    text = HEAD.replace(
        "    missile: Shahab-3\n",
        "    missile:\n      name: M\n      rv_mass_kg: 500\n      rv_beta_kg_m2: 3000\n"
        "      nominal_range_km: 900\n      class: test\n      stages:\n"
        "        - {gross_mass_kg: 9000, propellant_mass_kg: 8000, burn_time_s: 80, "
        "diameter_m: 1, isp_s: 250}\n",
    ).replace("[Tehran]", "[Tehran, {lat_deg: 35.0, lon_deg: 51.0, name: somewhere}]") + (
        "architectures:\n  - name: mine\n    batteries:\n"
        "      - {site: Redzikowo, interceptor: GBI-2, inventory: 10, doctrine: salvo,"
        " salvo_size: 2}\n"
        "    sensors:\n      - {name: Gabala, role: cue-only, owner: RU, latency_s: 60,"
        " via_exchange: true}\n"
        "    rules: {commit: early-warning, decision_delay_s: 30}\n"
    )
    sc = parse_scenario(text, "inline.yaml")
    assert sc.threats[0].missile.klass == "test"  # type: ignore[union-attr]
    arch = sc.architectures[0]
    assert arch.sensors[0].via_exchange is True  # type: ignore[union-attr]


def test_kill_vehicle_and_rcs_overrides_reach_the_architecture() -> None:
    from openbmd.scenario.build import to_study

    text = (
        HEAD
        + ARCH
        + (
            "    overrides: {min_closing_speed_kms: 4.5, divert_mps: 250, seeker_fov_deg: 0.5,"
            " rcs_m2: 0.05}\n"
        )
    )
    arch = to_study(parse_scenario(text, "kv.yaml")).architectures[0]
    for b in arch.batteries:
        icp = b.interceptor
        assert icp.min_closing_speed == 4500.0 and icp.divert == 250.0
        assert icp.seeker_fov == pytest.approx(0.5 * 3.141592653589793 / 180.0, rel=1e-12)
    radars = [s for s in arch.to_dict()["sensors"] if s["kind"] == "radar"]
    assert radars and {s["rcs_m2"] for s in radars} == {0.05}


def test_errors_are_scenario_errors_in_python() -> None:
    with pytest.raises(ScenarioError, match=r"^x\.yaml:5:14: threats\[0\]\.missile: "):
        parse_scenario(HEAD.replace("Shahab-3", "Nope") + ARCH, "x.yaml")
    assert isinstance(Scenario.model_json_schema(), dict)
    assert yaml.safe_load(HEAD) and os.sep


def test_not_utf8_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: t\n\xff\xfe\n")
    code, _, err = _run(capsys, "scenario", "check", str(bad))
    assert code == 2
    assert err == f"openbmd: error: {bad}:2:1: scenario: not UTF-8 text (byte 8; save as UTF-8)\n"
    code, _, err = _run(capsys, "scenario", "check", str(tmp_path))
    assert (code, err) == (2, f"openbmd: error: {tmp_path}: not a file\n")


def test_bare_analysis_key_runs_with_defaults_and_anchors_work() -> None:
    text = HEAD + "    targets: &east [Washington, Boston]\n" + ARCH
    text += "defended:\n  targets: *east\nanalyses:\n  footprint:\n  reach: {}\n"
    sc = parse_scenario(text, "a.yaml")
    assert sc.analyses.selected() == ["footprint", "reach"]
    assert sc.analyses.footprint is not None and sc.analyses.footprint.grid_deg == 1.0
    assert sc.defended.targets == ["Washington", "Boston"]


def test_the_column_points_at_the_bad_value() -> None:
    text = HEAD + ARCH + "sweeps:\n  burnout_speed_kms: [5, 6]\n  decision_delay_s: [-1]\n"
    with pytest.raises(ScenarioError, match=r"^a\.yaml:11:22: sweeps\.decision_delay_s\[0\]: "):
        parse_scenario(text, "a.yaml")


def test_inline_architecture_may_not_reuse_a_bundled_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "architecture_names", lambda: ("none", "third-site-2007"))
    text = HEAD + "architectures:\n  - name: third-site-2007\n    batteries: []\n"
    with pytest.raises(ScenarioError, match=r"^a\.yaml:8:11: architectures\[0\]\.name: .* bundled"):
        parse_scenario(text, "a.yaml")

"""``openbmd analyze``: the report folder appears whole or not at all, and reruns hit the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openbmd.cli import main

SMALL = """\
name: small
epoch: 2009-09-17T00:00:00Z
threats:
  - name: iran-irbm
    missile: IRBM
    launch_areas: [Tabriz, Tehran]
    targets: [Warsaw]
defended:
  regions:
    - {name: europe, lat_min_deg: 35.0, lat_max_deg: 71.0, lon_min_deg: -11.0, lon_max_deg: 40.0}
architectures:
  - name: none
  - name: third-site-2007
analyses:
  footprint: {grid_deg: 6.0}
  timeline: {}
"""


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPENBMD_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "s.yaml").write_text(SMALL, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _analyze(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["analyze", "s.yaml", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_writes_report_then_reuses_the_cache(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _analyze(capsys, "--out", "r", "--json")
    assert code == 0, err
    assert err == ""  # --json is quiet: no progress bars
    d = json.loads(out)
    assert d["manifest"]["cached"] is False
    for path in d["paths"].values():
        assert Path(path).is_file(), path
    assert {"report", "footprints.geojson", "grids.nc"} <= set(d["paths"])
    assert d["ledger"]["architectures"] == ["none", "third-site-2007"]
    assert (work / "r" / ".openbmd-report").is_file()
    assert (work / "r" / "scenario.yaml").read_text(encoding="utf-8") == SMALL
    first_html = (work / "r" / "report.html").read_bytes()
    # No uncertain: block, no campaign: no section, no data/campaign.nc, no seed.
    assert 'id="campaign"' not in first_html.decode() and "campaign" not in d["paths"]
    assert d["manifest"]["seeds"].startswith("none")
    code, out, _ = _analyze(capsys, "--out", "r", "--json")
    assert code == 0
    again = json.loads(out)
    assert again["manifest"]["cached"] is True
    assert again["ledger"] == d["ledger"]
    # The cached copy is the same report, byte for byte.
    assert Path(again["paths"]["report"]).read_bytes() == first_html
    # A changed scenario is a different cache key.
    (work / "s.yaml").write_text(SMALL.replace("grid_deg: 6.0", "grid_deg: 5.0"), encoding="utf-8")
    code, out, _ = _analyze(capsys, "--out", "r", "--json")
    assert code == 0 and json.loads(out)["manifest"]["cached"] is False
    # Without --json: a summary table and where the report is.
    code, out, _ = _analyze(capsys, "--out", "r")
    assert code == 0 and "report: " in out and "third-site-2007" in out


def test_interrupted_run_leaves_the_old_report_and_no_half_one(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _analyze(capsys, "--out", "r", "--json")[0] == 0
    before = {p: (work / "r" / p).read_bytes() for p in _listing(work / "r")
              if (work / "r" / p).is_file()}  # fmt: skip
    listing = _listing(work)

    def interrupted(*args: object, **kw: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("openbmd.report.html.render_report", interrupted)
    code, _, err = _analyze(capsys, "--out", "r", "--json", "--no-cache")
    assert code == 130, err
    assert _listing(work) == listing  # no temporary folder left behind
    assert {p: (work / "r" / p).read_bytes() for p in before} == before
    # A first run that is interrupted leaves nothing at all.
    code, _, _ = _analyze(capsys, "--out", "fresh", "--json", "--no-cache")
    assert code == 130 and not (work / "fresh").exists()


def test_refuses_to_replace_a_folder_that_is_not_a_report(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "mine").mkdir()
    (work / "mine" / "thesis.tex").write_text("keep me", encoding="utf-8")
    code, out, err = _analyze(capsys, "--out", "mine")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--out" in err and "not an openbmd report" in err
    assert (work / "mine" / "thesis.tex").read_text(encoding="utf-8") == "keep me"
    assert _listing(work / "mine") == ["thesis.tex"]


@pytest.mark.parametrize("flag", ["--trials", "--workers"])
def test_count_flags_are_checked_before_anything_runs(
    work: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    code, _, err = _analyze(capsys, "--out", "r", flag, "0")
    assert code == 2 and flag in err and err.count("\n") == 1
    assert not (work / "r").exists()

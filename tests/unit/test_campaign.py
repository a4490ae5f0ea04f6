"""Campaigns: draws per trial stream, chunking, statistics, the uncertain: block and its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from campaign_scenario import TINY

from openbmd.analysis.campaign import Distribution, Parameter, chunks, draw, run_trials
from openbmd.analysis.campaign_stats import bootstrap_ci, sobol_first, spearman
from openbmd.cli import main
from openbmd.constants import R_EARTH_MEAN
from openbmd.errors import InputError, ScenarioError
from openbmd.scenario import load_scenario, parse_scenario
from openbmd.scenario.uncertain import campaign, resolve

U = Parameter("a", "s", Distribution("uniform", (0.0, 1.0)), "test")
V = Parameter("b", "m/s", Distribution("choice", (1.0, 2.0, 3.0)), "test", quantum=None)
Q = Parameter("c", "m/s", Distribution("uniform", (5400.0, 9000.0)), "test", quantum=100.0)


def test_a_trial_draws_from_its_own_stream_whatever_the_number_of_trials():
    few, _ = draw((U, V, Q), seed=7, n=5)
    many, used = draw((U, V, Q), seed=7, n=50)
    np.testing.assert_array_equal(few, many[:5])
    other, _ = draw((U, V, Q), seed=8, n=5)
    assert not np.array_equal(few, other)
    np.testing.assert_array_equal(used[:, 2], np.round(many[:, 2] / 100.0) * 100.0)
    assert np.all((used[:, 2] >= 5400) & (used[:, 2] <= 9000))
    assert set(used[:, 1]) <= {1.0, 2.0, 3.0}


@pytest.mark.parametrize(
    ("kind", "args", "lo", "hi"),
    [
        ("uniform", (2.0, 3.0), 2.0, 3.0),
        ("normal", (0.0, 1.0), -10.0, 10.0),
        ("truncnormal", (0.0, 5.0, -1.0, 2.0), -1.0, 2.0),
        ("triangular", (1.0, 1.5, 4.0), 1.0, 4.0),
        ("loguniform", (1.0, 1000.0), 1.0, 1000.0),
        ("choice", (3.0, 4.0), 3.0, 4.0),
    ],
)
def test_each_distribution_draws_within_its_support_and_about_its_mean(kind, args, lo, hi):
    p = Parameter("x", "1", Distribution(kind, args), "t")
    x, _ = draw((p,), seed=1, n=2000)
    assert x.min() >= lo and x.max() <= hi
    expect = {
        "uniform": 2.5,
        "normal": 0.0,
        "triangular": 6.5 / 3,
        "choice": 3.5,
        "loguniform": 999.0 / np.log(1000.0),
    }
    if kind in expect:
        assert abs(x.mean() - expect[kind]) < 0.08 * max(1.0, abs(expect[kind]))
    if kind == "loguniform":  # uniform in log: half the draws below the geometric mean
        assert abs(np.mean(x < np.sqrt(1000.0)) - 0.5) < 0.05


def test_chunks_cover_every_trial_once_sorted_by_the_quantised_values():
    _, used = draw((U, Q), seed=3, n=37)
    parts = chunks(used, [False, True], 5)
    assert len(parts) == 5
    flat = np.concatenate(parts)
    np.testing.assert_array_equal(np.sort(flat), np.arange(37))
    assert np.all(np.diff(used[flat, 1]) >= 0)  # each chunk needs a few fans only


class _Square:
    """A model whose outcome is known: y = a² + b (per trial), counting its preparations."""

    token = "square-test"
    pieces = 2  # piece 0: a² (k,), piece 1: b (k,); combined they give y

    def prepare(self):
        return {"offset": 0.0}

    def evaluate(self, state, values, piece):
        return {"part": values[:, piece] ** (2 - piece) + state["offset"]}

    def combine(self, parts):
        return {"y": parts[0]["part"] + parts[1]["part"]}


def test_run_trials_puts_each_chunks_outcomes_back_in_trial_order():
    _, used = draw((U, V), seed=5, n=23)
    serial, timing = run_trials(_Square(), used, [False, False], "serial", chunk_trials=4)
    np.testing.assert_array_equal(serial["y"], used[:, 0] ** 2 + used[:, 1])
    assert timing["chunks"] == 12  # 6 chunks x 2 pieces
    with pytest.raises(InputError, match="valid: serial"):
        run_trials(_Square(), used, [False, False], "threads")


def test_spearman_and_sobol_find_the_parameter_that_drives_the_outcome():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4000, 3))
    y = np.stack([2 * x[:, 0] + x[:, 1], np.full(4000, 0.5), x[:, 2] ** 3], axis=1)
    rho = spearman(x, y)
    s1 = sobol_first(x, y)
    # Y0 = 2 X0 + X1 with uniform X: S = 4/5 and 1/5 (closed form), X2 none.
    assert s1[0, 0] == pytest.approx(0.8, abs=0.03)
    assert s1[1, 0] == pytest.approx(0.2, abs=0.03)
    assert s1[2, 0] < 0.02
    assert np.isnan(s1[:, 1]).all() and np.isnan(rho[:, 1]).all()  # a constant outcome
    assert rho[2, 2] == pytest.approx(1.0)  # monotone: rank correlation 1
    assert s1[2, 2] > 0.9
    assert abs(rho[0, 2]) < 0.05


def test_bootstrap_interval_covers_the_mean_and_shrinks_with_more_trials():
    rng = np.random.default_rng(1)
    small, big = rng.uniform(size=(50, 1)), rng.uniform(size=(2000, 1))
    ci_s, ci_b = bootstrap_ci(small, seed=0), bootstrap_ci(big, seed=0)
    assert ci_s[0, 0] < small.mean() < ci_s[0, 1]
    assert ci_b[0, 0] < 0.5 < ci_b[0, 1]
    assert (ci_b[0, 1] - ci_b[0, 0]) < (ci_s[0, 1] - ci_s[0, 0]) / 3
    np.testing.assert_array_equal(ci_s, bootstrap_ci(small, seed=0))


def test_the_bundled_scenario_resolves_its_uncertain_block():
    sc = load_scenario("europe-2009")
    params, knobs = resolve(sc)
    paths = [p.name for p in params]
    assert paths[0] == "interceptors.GBI-2.burnout_speed"
    assert params[0].quantum == 100.0 and params[0].units == "m/s"
    # the GBI flies in three architectures; the exchange latency matters in two
    assert {k.architecture for k in knobs[0]} == {
        "third-site-2007",
        "third-site-2007-russian-radars",
        "joint-2009",
    }
    assert {k.architecture for k in knobs[1]} == {"third-site-2007-russian-radars", "joint-2009"}


def test_from_catalogue_takes_the_interceptors_range_and_cites_it():
    text = TINY.split("uncertain:")[0] + (
        "uncertain:\n  - path: interceptors.GBI-2.burnout_speed\n"
        "    distribution: uniform\n    from: catalogue\n"
    )
    (p,), _ = resolve(parse_scenario(text, "c.yaml"))
    assert p.distribution.args == (5400.0, 9000.0)
    assert "Postol" in p.source and p.quantum == 100.0


def test_kill_vehicle_limits_are_drawn_from_the_catalogue_and_decide_the_trial():
    """A kill-vehicle limit is a campaign parameter like a burnout speed: its catalogue range
    is found, it reaches only the batteries firing that interceptor, and a draw beyond what
    any intercept meets (a 19 km/s minimum closing speed) turns engageable pairs off."""
    head = TINY.split("uncertain:")[0]
    text = head + (
        "uncertain:\n  - path: interceptors.GBI-2.divert\n"
        "    distribution: uniform\n    from: catalogue\n"
    )
    (p,), (knobs,) = resolve(parse_scenario(text, "kv.yaml"))
    assert p.distribution.args == (500.0, 2500.0) and p.units == "m/s"
    assert "divert_mps" in p.source and p.quantum is None
    from openbmd.catalog.architectures import architecture

    arch = architecture("epaa-phase-3")
    moved = knobs[0].apply(arch, 123.0)
    assert {b.interceptor.name: b.interceptor.divert for b in moved.batteries} == {
        b.interceptor.name: b.interceptor.divert for b in arch.batteries
    }  # epaa-phase-3 fields no GBI-2: untouched
    third = architecture("third-site-2007")
    assert {b.interceptor.divert for b in knobs[0].apply(third, 123.0).batteries} == {123.0}

    text = head.replace("footprint_grid_deg: 4.0", "footprint_grid_deg: null") + (
        "uncertain:\n  - path: architectures.third-site-2007.batteries[0].interceptor."
        "min_closing_speed\n    distribution: choice\n    values: [2000.0, 19000.0]\n"
        "    source: test\n"
    )
    ds, _ = campaign(parse_scenario(text, "kv.yaml"), trials=6, seed=1)
    f = ds.engageable_fraction.sel(threat="icbm", architecture="third-site-2007")
    used = ds.used.isel(parameter=0)
    assert set(np.unique(used.values)) == {2000.0, 19000.0}
    assert float(f.where(used > 10000.0).max()) == 0.0
    assert float(f.where(used < 10000.0).min()) > 0.0


BASE = TINY.split("uncertain:")[0] + "uncertain:\n"  # the first entry is on line 13
BAD = [
    (
        "  - path: architectures.thrid-site-2007.exchange_latency\n    distribution: uniform\n"
        "    low: 1.0\n    high: 2.0\n    source: s\n",
        13,
        "uncertain[0].path",
        "did you mean 'third-site-2007'",
    ),
    (
        "  - path: architectures.none.exchange_latency\n    distribution: uniform\n"
        "    low: 1.0\n    high: 2.0\n    source: s\n",
        13,
        "uncertain[0].path",
        "reports via the exchange",
    ),
    (
        "  - path: interceptors.SM-3-IA.burnout_speed\n    distribution: uniform\n"
        "    low: 1.0\n    high: 2.0\n    source: s\n",
        13,
        "uncertain[0].path",
        "fields",
    ),
    (
        "  - path: architectures.third-site-2007.sensors[SpaceIR].rcs\n"
        "    distribution: uniform\n    low: 1.0\n    high: 2.0\n    source: s\n",
        13,
        "uncertain[0].path",
        "space IR",
    ),
    (
        "  - path: architectures.third-site-2007.batteries[3].interceptor.burnout_speed\n"
        "    distribution: uniform\n    low: 1.0\n    high: 2.0\n    source: s\n",
        13,
        "uncertain[0].path",
        "no battery 3",
    ),
    (
        "  - path: weather.wind\n    distribution: uniform\n    low: 1.0\n    high: 2.0\n"
        "    source: s\n",
        13,
        "uncertain[0].path",
        "unknown path",
    ),
    (
        "  - path: architectures.none.rules.decision_delay\n    distribution: uniform\n"
        "    mean: 1.0\n    sd: 2.0\n    source: s\n",
        13,
        "uncertain[0]",
        "uniform needs low, high",
    ),
    (
        "  - path: architectures.none.rules.decision_delay\n    distribution: uniform\n"
        "    low: 3.0\n    high: 2.0\n    source: s\n",
        13,
        "uncertain[0]",
        "must be below high",
    ),
    (
        "  - path: architectures.none.rules.decision_delay\n    distribution: gamma\n"
        "    low: 3.0\n    high: 2.0\n    source: s\n",
        14,
        "uncertain[0].distribution",
        "'gamma'",
    ),
    (
        "  - path: architectures.none.rules.decision_delay\n    distribution: normal\n"
        "    mean: 3.0\n    sd: 2.0\n",
        13,
        "uncertain[0]",
        "source",
    ),
    (
        "  - path: architectures.none.rules.decision_delay\n    distribution: uniform\n"
        "    from: catalogue\n",
        15,
        "uncertain[0].from",
        "interceptor fields only",
    ),
    (
        "  - path: architectures.none.rules.decision_delay\n    distribution: triangular\n"
        "    low: 1.0\n    mode: 5.0\n    high: 2.0\n    source: s\n",
        13,
        "uncertain[0]",
        "mode (5) must lie",
    ),
]


@pytest.mark.parametrize(("entry", "line", "path", "fragment"), BAD)
def test_a_bad_uncertain_entry_is_one_line_at_its_place(entry, line, path, fragment):
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(BASE + entry, "bad.yaml")
    text = str(exc.value)
    assert "\n" not in text
    assert text.startswith(f"bad.yaml:{line}:"), text
    assert f": {path}: " in text, text
    assert fragment in text, text


def test_the_cli_prints_a_bad_block_as_one_line_and_exits_2(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text(BASE + BAD[0][0])
    assert main(["campaign", str(f), "--trials", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{f}:13:" in err
    assert main(["campaign", "europe-2009", "--trials", "0"]) == 2
    assert "--trials" in capsys.readouterr().err
    assert main(["campaign", "europe-2009", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--scheduler: needs --executor dask" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny():
    return parse_scenario(TINY, "tiny.yaml")


def test_a_small_campaign_gives_the_engageable_fraction_per_trial(tiny, tmp_path, capsys):
    ds, timing = campaign(tiny, trials=12, seed=3, chunk_trials=5)
    assert ds.sizes == {
        "trial": 12,
        "parameter": 3,
        "threat": 1,
        "architecture": 3,
        "bound": 2,
        "quantile": 5,
        "region": 1,
        "footprint_threat": 1,
    }
    # The footprint per trial: 2 x 2 cells of 4 deg (36-44 N, 80-72 W; no catalogued city).
    area = ds.area_defended.sel(region="east", footprint_threat="icbm")
    cells = ds.area_threatened.sel(region="east", footprint_threat="icbm")
    band = np.sin(np.radians([40.0, 44.0])) - np.sin(np.radians([36.0, 40.0]))
    exact = 2 * R_EARTH_MEAN**2 * np.radians(4.0) * band.sum()  # on the mean sphere
    assert float(cells) == pytest.approx(exact, rel=1e-12)
    assert (area.sel(architecture="none") == 0).all()
    assert (area <= cells * (1 + 1e-12)).all()
    third = area.sel(architecture="third-site-2007")
    assert third.max() > 0  # engaged early, some cells are defended
    assert third.where(delay_of(ds) > 800).max() <= third.where(delay_of(ds) < 100).min()
    assert ds.population_defended.max() == 0  # no city of data/cities.csv in the box
    f = ds.engageable_fraction.sel(threat="icbm")
    assert (f.sel(architecture="none") == 0).all()
    assert set(np.unique(f.values)) <= {0.0, 0.5, 1.0}  # two pairs
    # the decision delay reaches 900 s: late trials cannot engage, early ones can
    delay = ds.used.sel(parameter="architectures.*.rules.decision_delay")
    ts = f.sel(architecture="third-site-2007")
    assert ts.where(delay < 100).max() == 1.0 and ts.where(delay > 800).min() == 0.0
    for v in ds.data_vars.values():
        assert "units" in v.attrs
    again, _ = campaign(tiny, trials=12, seed=3, chunk_trials=12)
    xr.testing.assert_identical(ds, again)  # chunking does not change a trial
    assert timing["chunks"] == 3 * 2  # 3 chunks x (engageability + 1 footprint tile)
    out = tmp_path / "run"
    assert main(["campaign", _write(tmp_path), "--trials", "6", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["trials"] == 6 and "bootstrap" in summary["ci_method"]
    back = xr.open_dataset(out / "campaign.nc", engine="h5netcdf")
    six = campaign(tiny, trials=6, seed=0)[0].assign_attrs(scenario="tiny-campaign")
    xr.testing.assert_identical(back.load(), six)
    back.close()
    # Zarr for large runs: by the suffix of --out, or --format zarr.
    store = tmp_path / "run.zarr"
    assert main(["campaign", _write(tmp_path), "--trials", "6", "--out", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "zarr"
    assert (store / ".zmetadata").is_file() and (tmp_path / "run.summary.json").is_file()
    xr.testing.assert_identical(xr.open_zarr(store).load(), six)
    args = ["campaign", _write(tmp_path), "--trials", "6", "--out", str(tmp_path / "z")]
    assert main([*args, "--format", "zarr", "--json"]) == 0
    capsys.readouterr()
    xr.testing.assert_identical(xr.open_zarr(tmp_path / "z" / "campaign.zarr").load(), six)
    assert main([*args, "--format", "hdf4"]) == 2
    assert "--format" in capsys.readouterr().err


def delay_of(ds):
    return ds.used.sel(parameter="architectures.*.rules.decision_delay")


def _write(folder):
    p = folder / "tiny.yaml"
    p.write_text(TINY)
    return str(p)


@pytest.mark.slow
def test_processes_give_the_same_dataset_as_serial(tiny):
    serial, _ = campaign(tiny, trials=10, seed=11)
    pooled, timing = campaign(tiny, trials=10, seed=11, executor="processes", chunk_trials=3)
    xr.testing.assert_identical(serial, pooled)
    assert timing["chunks"] == 4 * 2  # 4 chunks x 2 pieces


def test_the_plots_draw_bands_and_a_tornado_on_a_figure(tiny):
    from matplotlib.figure import Figure

    from openbmd.report.campaign_plots import campaign_summary, draw_campaign, focus

    ds, _ = campaign(tiny, trials=8, seed=2)
    fig = draw_campaign(Figure(figsize=(12, 3)), ds, "icbm")
    left, mid, right = fig.axes
    assert len(left.patches) == 2 * ds.sizes["architecture"]  # two bands per architecture
    assert len(right.patches) == ds.sizes["parameter"]
    assert [t.get_text() for t in left.get_yticklabels()] == list(ds.architecture.values)
    # the middle panel: bands versus the parameter the widest-spread architecture follows most
    arch, param = focus(ds, "engageable_fraction", {"threat": "icbm"})
    assert mid.get_title() == arch and mid.get_xlabel().startswith(param)
    s1 = ds.engageable_fraction_sobol_first.sel(threat="icbm", architecture=arch)
    assert param == str(s1.idxmax().item())
    s = campaign_summary(ds)
    assert s["parameters"][2]["distribution"] == "choice(0.0001, 0.01)"
    kinds = [o["outcome"] for o in s["outcomes"]]
    assert kinds.count("engageable_fraction") == 3  # one per architecture
    # footprint lines only where something is defended: never for "none"
    fp = [o for o in s["outcomes"] if o["outcome"] != "engageable_fraction"]
    assert all(o["region"] == "east" and o["mean"] > 0 and o["architecture"] != "none" for o in fp)


def test_a_memoised_fan_answers_as_the_fan_and_hands_out_read_only_arrays():
    from openbmd.analysis import trials
    from openbmd.catalog.interceptors import interceptor
    from openbmd.interceptors import FlyoutFan
    from openbmd.trajectory import EarthModel

    rng = np.random.default_rng(0)
    az = np.linspace(0.0, 2 * np.pi, 8, endpoint=False)
    d, h = np.linspace(0.0, 2e6, 20), np.linspace(0.0, 1e6, 20)
    fan = FlyoutFan(interceptor("GBI-2").model, 0.9, 0.3, az, d, h,
                    rng.uniform(10.0, 500.0, (8, 20, 20, 7)), EarthModel())  # fmt: skip
    memo = trials._memo(fan)
    site = np.array([np.cos(0.9) * np.cos(0.3), np.cos(0.9) * np.sin(0.3), np.sin(0.9)])
    pts = 6.5e6 * site + rng.normal(0.0, 3e5, (trials.MEMO_MIN_POINTS + 5, 3))
    plain, first = fan.query(pts), memo.query(pts)
    for f in ("time", "pitch", "azimuth", "v_ecef", "cutoff"):
        np.testing.assert_array_equal(getattr(plain, f), getattr(first, f))
    assert memo.query(pts.copy()) is first  # same points, same answer, not recomputed
    with pytest.raises(ValueError, match="read-only"):
        first.time[0] = 0.0
    few = pts[:10]
    assert memo.query(few) is not memo.query(few)  # small queries are not worth a hash


def test_fans_needed_lists_one_fan_per_drawn_speed():
    from openbmd.analysis.trials import EngageabilityTrials
    from openbmd.scenario.build import to_study

    sc = load_scenario("europe-2009")
    params, knobs = resolve(sc)
    model = EngageabilityTrials(to_study(sc), knobs)
    _, used = draw(params, seed=0, n=30)
    fans = model.fans_needed(used)
    gbi = {round(i.burnout_speed) for i, _, _ in fans if i.name == "GBI-2"}
    assert gbi >= set(np.unique(used[:, 0]).round().astype(int))
    assert len(fans) == len({(i.fan_key(), la, lo) for i, la, lo in fans})

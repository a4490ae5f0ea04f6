"""``openbmd exchange exercise``: replay a scenario's threats through a running centre.

Every sensor owner of one architecture is a partner with its own Ed25519 key (made for the run
in ``--work`` or a temporary folder). The exercise enrols them over HTTP (open enrolment, on by
default for a centre on a loopback address), posts each partner's signed radar-sharing
agreement, then sends each partner's radar plots (:mod:`openbmd.analysis.exercise`) as signed
``radar_report`` messages in time order, paced on the scenario clock (``--speed`` times real
time). At the end it reads every partner's own signed view back and scores the centre's fused
notifications and tracks against the truth (:mod:`openbmd.cli._exercise_score`).

Sharing levels (per sender → recipient, radar reports): partners in the order their sensors
appear in the architecture; everyone shares its plots in full (L3) with every other partner,
except with the last one: the first partner grants it ``fused-only`` (it gets the centre's
notifications, none of the plots) and the others L1 (coarse; no plots either). In
``joint-2009``: US ⇄ UK in full, Russia → both in full, US → Russia fused-only, UK → Russia L1.
"""

from __future__ import annotations

import math
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from openbmd.cli._common import emit, fail, rng_from_seed
from openbmd.cli.exchange import JSON_OPT, check_name, exchange_app

RADAR = "radar_report"
STAGGER_S = 60.0  # between the launches of consecutive threat classes


def sharing_levels(partners: list[str]) -> dict[str, dict[str, str]]:
    """sender → recipient → level of radar reports (see the module)."""
    last = partners[-1]
    out: dict[str, dict[str, str]] = {}
    for i, sender in enumerate(partners):
        out[sender] = {}
        for recipient in partners:
            if recipient == sender:
                continue
            coarse = recipient == last and sender != last
            out[sender][recipient] = ("fused-only" if i == 0 else "L1") if coarse else "L3"
    return out


def _post_signed(http: Any, url: str, path: str, key: Any, partner: str, doc: Any) -> Any:
    from openbmd.exchange import auth
    from openbmd.exchange.client import request

    headers = auth.sign_request(key, partner, "POST", path)
    return request(http, "POST", url, path, json=doc, headers=headers)


def setup_partners(
    http: Any, url: str, names: dict[str, str], work: Path
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Enrol each partner with a new key and post its signed agreement; the keys and levels."""
    from openbmd.cli.exchange_agreements import sign_agreement
    from openbmd.exchange.domain import Agreement, Rule
    from openbmd.exchange.signing import load_private_key, public_key_pem, write_keypair

    keys: dict[str, Any] = {}
    for name in names.values():
        key_path, _ = write_keypair(work / name)
        keys[name] = load_private_key(key_path)
        doc = {"name": name, "public_key_pem": public_key_pem(keys[name].public_key())}
        _post_signed(http, url, "/v1/partners", keys[name], name, doc)
    levels = sharing_levels(list(names.values()))
    for sender, rules in levels.items():
        agreement = Agreement(
            f"{sender}-radar",
            sender,
            tuple(Rule(r, frozenset({RADAR}), lvl) for r, lvl in rules.items()),  # type: ignore[arg-type]
        )
        doc = sign_agreement(agreement, keys[sender])
        _post_signed(http, url, "/v1/agreements", keys[sender], sender, doc)
    return keys, levels


def group_reports(plots: Any, records: list[dict[str, Any]]) -> list[tuple[float, str, list[int]]]:
    """``(scenario time, partner, plot indices)`` of each report: one per partner and scan
    time, in time order (plots are sorted by time)."""
    out: list[tuple[float, str, list[int]]] = []
    seen: dict[tuple[float, str], int] = {}
    for i in range(len(plots)):
        key = (float(plots.time[i]), str(plots.partner[i]))
        if key not in seen:
            seen[key] = len(out)
            out.append((key[0], key[1], []))
        out[seen[key]][2].append(i)
    return out


def replay(
    http: Any,
    url: str,
    keys: dict[str, Any],
    reports: list[tuple[str, list[dict[str, Any]]]],
    at: list[float],
    speed: float,
) -> float:
    """Send *reports* ``(sender, plots)`` in order, report *i* at scenario time ``at[i]``
    (paced at *speed*; 0 or inf: at once); the wall time it took [s]."""
    from openbmd.exchange.client import submit_message

    started = time.monotonic()
    seq: Counter[str] = Counter()
    names = list(keys)
    for (sender, plots), t in zip(reports, at, strict=True):
        if 0.0 < speed < math.inf:
            delay = started + (t - at[0]) / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        seq[sender] += 1
        payload = {
            "seq": seq[sender],
            "type": RADAR,
            "status": "Exercise",
            "msg_type": "Alert",
            "references": [],
            "agreement": f"{sender}-radar",
            "recipients": [n for n in names if n != sender],
            "plots": plots,
        }
        submit_message(url, sender, keys[sender], payload, client=http)
    return time.monotonic() - started


def read_views(
    http: Any,
    url: str,
    keys: dict[str, Any],
    notified: Callable[[dict[str, list[dict[str, Any]]]], int],
    expect: int,
    settle_s: float,
    timeout_s: float,
) -> dict[str, list[dict[str, Any]]]:
    """Every partner's signed view, once *notified* (views → threats with a notification)
    reaches *expect* and the number of notifications has then not changed for *settle_s*, or
    after *timeout_s* (the fusion service follows the log after the acknowledgements, at its
    own pace)."""
    from openbmd.exchange.client import fetch_view
    from openbmd.exchange.fusion import NOTIFICATION_TYPE

    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while True:
        views = {p: fetch_view(url, p, k, client=http) for p, k in keys.items()}
        n = sum(i["type"] == NOTIFICATION_TYPE for v in views.values() for i in v)
        now = time.monotonic()
        if n != last:
            last, since = n, now
        elif (now - since >= settle_s and notified(views) >= expect) or now > deadline:
            return views
        time.sleep(0.25)


def received(views: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """Per partner: counts of what it received (others' messages) by ``type level``."""
    return {
        p: dict(
            sorted(Counter(f"{i['type']} {i['level']}" for i in v if i["level"] != "own").items())
        )
        for p, v in views.items()
    }


def run_exercise(
    scenario: str,
    url: str,
    speed: float,
    architecture: str | None,
    work: Path,
    seed: int,
    tag: str,
    settle_s: float = 3.0,
) -> dict[str, Any]:
    """The whole exercise; the result document of ``--json``."""
    import httpx

    from openbmd.analysis.exercise import (
        exercise_architecture,
        fly_threats,
        partner_name,
        plot_records,
        radar_plots,
    )
    from openbmd.cli._exercise_score import score_notifications, track_errors, track_summary
    from openbmd.exchange.client import fetch_partners
    from openbmd.scenario.build import to_study
    from openbmd.scenario.run import resolve_scenario
    from openbmd.sensors import SpaceIR

    study = to_study(resolve_scenario(scenario))
    arch = exercise_architecture(study, architecture)
    fetch_partners(url)  # an unreachable centre fails now, not after the flights are computed
    flights = fly_threats(study.threats, stagger_s=STAGGER_S)
    plots = radar_plots(arch, flights, rng_from_seed(seed))
    radars = [s.owner for s in arch.sensors if not isinstance(s.sensor, SpaceIR)]
    owners = [o for o in dict.fromkeys(partner_name(o) for o in radars) if o in plots.partner]
    names = {o: check_name(f"{o}-{tag}" if tag else o, "--tag") for o in owners}
    clock0 = float(math.floor(time.time()))  # the exercise clock: scenario t = 0 at this POSIX s
    records = plot_records(plots, clock0)
    groups = group_reports(plots, records)
    reports = [(names[p], [records[i] for i in idx]) for _, p, idx in groups]
    with httpx.Client(timeout=30.0) as http:
        keys, levels = setup_partners(http, url, names, work)
        wall = replay(http, url, keys, reports, [t for t, _, _ in groups], speed)
        # the same tracker, locally, says how many threats the centre should notify
        fused, ready = track_errors(reports, flights, clock0)
        views = read_views(
            http,
            url,
            keys,
            lambda v: sum(n is not None for n in score_notifications(v, flights, clock0)[0]),
            sum(r is not None for r in ready),
            settle_s,
            timeout_s=120.0,
        )
    single = {p: track_errors([r for r in reports if r[0] == p], flights, clock0)[0] for p in keys}
    tracks = track_summary(fused, single, flights)
    notes, unmatched = score_notifications(views, flights, clock0)
    seen_by = {
        k: sorted({names[str(p)] for p in plots.partner[plots.threat == k]})
        for k in range(len(flights.threat))
    }
    threats = [
        {
            "threat": flights.threat[k],
            "launch_area": flights.launch_area[k],
            "target": flights.target[k],
            "launch_s": float(flights.launch_time[k]),
            "impact_s": float(flights.impact_time[k]),
            "seen_by": seen_by[k],
            "notification": notes[k],
            "ready_s": ready[k],
            **tracks[k],
        }
        for k in range(len(flights.threat))
    ]
    return {
        "scenario": study.name,
        "architecture": arch.name,
        "centre": url,
        "speed": speed,
        "seed": seed,
        "partners": names,
        "sharing": levels,
        "rules": {
            "flights": "one per threat class: first launch area → target in reach, launched "
            f"{STAGGER_S:g} s apart",
            "sensors": "radars of the architecture, midcourse plots (after burnout); space IR "
            "only cues fire-control radars that need a cue",
            "clock": f"plot times = {clock0:.0f} (POSIX) + scenario seconds",
        },
        "reports_sent": len(reports),
        "plots_sent": len(plots),
        "replay_wall_s": wall,
        "unmatched_notifications": unmatched,
        "threats": threats,
        "received": received(views),
    }


def _km(v: float | None) -> str:
    return "—" if v is None else f"{v / 1e3:.2f}"


def render(d: dict[str, Any]) -> None:
    """The short table of the plain output."""
    print(
        f"exercise {d['scenario']} / {d['architecture']} at {d['centre']}: "
        f"{d['reports_sent']} reports ({d['plots_sent']} plots) in {d['replay_wall_s']:.1f} s"
    )
    print(
        f"{'threat':<22}{'seen by':<30}{'notified':>9}{'fused km':>9}{'best single':>24}"
        f"{'impact km':>10} in"
    )
    for t in d["threats"]:
        n = t["notification"]
        b = t["best_single"]
        best = (
            "—"
            if b is None
            else f"{b['partner']} {_km(b['best_common_m'])}/{_km(b['fused_common_m'])}"
        )
        print(
            f"{t['threat']:<22}{','.join(t['seen_by']) or '—':<30}"
            f"{'—' if n is None else format(n['epoch_s'], '.0f') + ' s':>9}"
            f"{_km(t['fused_rms_m']):>9}{best:>24}"
            f"{'—' if n is None else format(n['impact_error_km'], '.1f'):>10} "
            f"{'' if n is None else ('yes' if n['impact_inside'] else 'no')}"
        )
    print("best single: own RMS / fused RMS on the scans both track (km); notified: s after launch")
    for p, counts in d["received"].items():
        print(f"{p} received: " + (", ".join(f"{k} ×{v}" for k, v in counts.items()) or "nothing"))


@exchange_app.command("exercise")
def exercise_cmd(
    scenario: str = typer.Argument(..., help="a scenario file, or a bundled scenario's name"),
    centre: str = typer.Option(..., "--centre", help="the centre's base URL (exchange serve)"),
    speed: float = typer.Option(
        10.0, "--speed", help="scenario seconds per wall second; 0 or inf: as fast as possible"
    ),
    architecture: str | None = typer.Option(
        None, "--architecture", help="default: the one where most partners share radar data"
    ),
    work: Path | None = typer.Option(None, "--work", help="keep the partners' keys here"),
    seed: int = typer.Option(2009, "--seed", help="radar noise"),
    tag: str | None = typer.Option(
        None, "--tag", help="partner names are OWNER-TAG (default: a random tag per run)"
    ),
    as_json: bool = JSON_OPT,
    out: Path | None = typer.Option(None, "--out", help="also write the JSON result here"),
) -> None:
    """Replay SCENARIO's threats as each partner's radars see them through the centre at
    --centre (signed reports, paced on the scenario clock) and score the fused notifications
    and tracks against the truth, and what each partner received. Plot times are the start
    time plus scenario seconds; the centre fuses on one clock, so run one exercise at a time
    (a later one's plots must be newer than the last ones the centre fused)."""
    import json

    if not (speed >= 0.0):
        fail(
            f"{speed!r} is invalid; give scenario seconds per second ≥ 0 (0 or inf: at once)",
            "--speed",
        )
    if not centre.startswith(("http://", "https://")):
        fail(f"{centre!r} is not an http(s) URL", "--centre")
    tag = secrets.token_hex(2) if tag is None else tag
    with tempfile.TemporaryDirectory(prefix="openbmd-exercise-") as tmp:
        folder = work if work is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        result = run_exercise(scenario, centre.rstrip("/"), speed, architecture, folder, seed, tag)
    if out is not None:
        out.write_text(json.dumps(result, indent=2, default=str) + "\n", "utf-8")
    emit(result, as_json, render)

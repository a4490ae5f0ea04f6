"""The report: one self-contained HTML file (Jinja2) that opens from ``file://`` offline.

:func:`render_report` lays out, in order: the ledger (one column per architecture, each row's
rule on hover and as a numbered footnote); per region × threat × architecture with anything
threatened a footprint map, then difference maps against the first architecture that defends
anything there; engageability versus burnout speed per commit rule; a detection-and-track
timeline per representative threat; reach maps of the short-range threats; with a campaign
(the scenario's ``uncertain:`` block), its parameters with their distributions and sources
and, per outcome, quantile bands and a tornado chart of sensitivities; every assumption with
its source; the scenario text; the reproducibility manifest.

Figures are PNGs at 80 dpi embedded as ``data:`` URIs, drawn on bare matplotlib ``Figure``
objects (never pyplot); the page has no script, no external style sheet, font or image, so it
makes no request beyond itself.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from openbmd.analysis import compare as compare_module
from openbmd.analysis import timeline as timeline_module
from openbmd.analysis.compare import Comparison
from openbmd.analysis.ledger import Ledger
from openbmd.constants import DEG
from openbmd.report.charts import engageability_chart, timeline_chart
from openbmd.report.export import population_rows
from openbmd.report.features import sites
from openbmd.report.maps import MapLayers, coverage, difference_map, footprint_map, reach_map
from openbmd.scenario import build as build_module
from openbmd.sensors import Radar

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Embedded", "embed", "render_report"]


@dataclass(frozen=True)
class Embedded:
    """An embedded figure: a ``data:`` URI, its size [px], alt text and caption."""

    uri: str
    width: int
    height: int
    alt: str
    caption: str


def embed(fig: Figure, alt: str, caption: str = "") -> Embedded:
    """Render ``fig`` to a base64 PNG (the figure is cleared afterwards).

    The image is quantised to a 256-colour palette (no dithering): maps and charts have few
    colours, and an 8-bit PNG is 2–3× smaller than the RGBA one, which keeps the report of the
    bundled scenario well under the ~15 MB a browser opens comfortably.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    buf = io.BytesIO()
    try:
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        h, w = rgba.shape[:2]
        img = Image.fromarray(rgba).convert("RGB")
        img.quantize(256, dither=Image.Dither.NONE).save(buf, format="PNG", optimize=True)
    finally:
        fig.clear()
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return Embedded(uri, w, h, alt, caption)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "—"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def _layers(c: Comparison, ds: xr.Dataset, threat: str, arch_name: str) -> MapLayers:
    """Cities (with their state under this architecture), launch areas and sites to draw."""
    where = {p.name: p for p in c.study.aimpoints}
    cities = []
    if "city" in ds.coords:
        for name, dfd, thr, pop in zip(
            ds["city"].values, ds["city_defended"].values, ds["city_threatened"].values,
            ds["city_population"].values, strict=True,
        ):  # fmt: skip
            p = where.get(str(name))
            if p is not None:
                cities.append((p.name, p.lat_deg, p.lon_deg, bool(dfd), bool(thr), int(pop)))
    th = next(t for t in c.study.threats if t.name == threat)
    arch = next(a for a in c.study.architectures if a.name == arch_name)
    radars = [(s["name"], s["lat_deg"], s["lon_deg"]) for s in sites(c)
              if s["kind"] == "radar" and s["architecture"] == arch_name]  # fmt: skip
    return MapLayers(
        cities=tuple(cities),
        launch_areas=tuple((n, la / DEG, lo / DEG) for n, la, lo in th.launch_areas),
        batteries=tuple((b.site, b.lat / DEG, b.lon / DEG) for b in arch.batteries),
        radars=tuple(radars),
        named=frozenset(t[0] for t in th.targets) | {p.name for p in c.study.aimpoints
                                                      if p.population == 0},
        coverage=tuple((s.name, *coverage(s.sensor, s.rcs)) for s in arch.sensors
                       if isinstance(s.sensor, Radar)),
    )  # fmt: skip


def _by_country(c: Comparison) -> list[dict[str, Any]]:
    """Per region × threat: threatened and defended population (millions) by country."""
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    for region, threat, arch, code, _pop, thr, dfd in population_rows(c):
        if thr <= 0:
            continue
        t = tables.setdefault((region, threat), {"region": region, "threat": threat, "rows": {}})
        row = t["rows"].setdefault(code, {"threatened": thr / 1e6, "defended": {}})
        row["defended"][arch] = dfd / 1e6
    return [
        {**t, "rows": sorted(t["rows"].items(), key=lambda kv: -kv[1]["threatened"])}
        for t in tables.values()
    ]


def _caption(c: Comparison, arch_name: str, rule: str) -> str:
    arch = next(a for a in c.study.architectures if a.name == arch_name)
    sensors = (
        "; ".join(
            f"{s.name} ({s.role}, {s.owner}{', via exchange' if s.via_exchange else ''})"
            for s in arch.sensors
        )
        or "none"
    )
    batteries = "; ".join(f"{b.inventory} × {b.interceptor.name} at {b.site}"
                          for b in arch.batteries) or "none"  # fmt: skip
    return (
        f"Batteries: {batteries}. Sensors: {sensors}. Commit rule: {arch.rules.commit}. "
        f"Rule: {rule}. Dashed: each radar's field of regard out to its detection range for "
        "its catalogued RCS (free space; the horizon, which hides low targets, is not drawn). "
        "Base map: Natural Earth (public domain), Lambert conformal conic fitted to the region."
    )


def _maps(c: Comparison) -> list[dict[str, Any]]:
    """One section per region × threat with anything threatened: maps and difference maps."""
    sections = []
    for region, ds in c.footprints.items():
        for threat in (str(t) for t in ds["threat"].values):
            sub = ds.sel(threat=threat)
            if not bool(sub["threatened"].any()):
                continue
            archs = [str(a) for a in sub["architecture"].values]
            maps = []
            for arch in archs:
                a = sub.sel(architecture=arch)
                fig = footprint_map(a, _layers(c, a, threat, arch), f"{arch}: {threat} → {region}")
                maps.append(embed(fig, f"map {arch} {threat} {region}",
                                  _caption(c, arch, ds.attrs.get("rule", ""))))  # fmt: skip
            base = next((x for x in archs if bool(sub["defended"].sel(architecture=x).any())), None)
            diffs, same = [], []
            for arch in archs:
                if base is None or arch == base:
                    continue
                a, b = sub.sel(architecture=arch), sub.sel(architecture=base)
                if np.array_equal(a["defended"].values, b["defended"].values):
                    same.append(arch)
                    continue
                fig = difference_map(a, b, _layers(c, a, threat, arch),
                                     f"{arch} − {base}: {threat} → {region}")  # fmt: skip
                diffs.append(embed(fig, f"difference {arch} minus {base}",
                                   f"Cells defended by {arch} and not by {base} (gained) and "
                                   f"the reverse (lost)."))  # fmt: skip
            sections.append({"region": region, "threat": threat, "maps": maps, "base": base,
                             "diffs": diffs, "same": same})  # fmt: skip
    return sections


def _assumptions(c: Comparison) -> dict[str, Any]:
    s = c.study
    missiles: dict[str, dict[str, Any]] = {}
    for t in s.threats:
        m = t.missile
        missiles.setdefault(m.name, {"name": m.name, "class": m.klass,
                                     "nominal_range_km": m.nominal_range / 1e3,
                                     "propellant": m.propellant, "source": m.source})  # fmt: skip
    options = {
        "analyses": s.analyses,
        "burnout_speeds_kms": [v / 1e3 for v in s.burnout_speeds],
        "swept_interceptors": s.swept_interceptors or "every battery",
        "exchange_latencies_s": list(s.exchange_latencies),
        "decision_delays_s": list(s.decision_delays),
        "epoch": s.epoch.isoformat(),
    }
    threats = [{"name": t.name, "missile": t.missile.name, "shape": t.shape,
                "launch_areas": ", ".join(a[0] for a in t.launch_areas),
                "targets": ", ".join(x[0] for x in t.targets) or "—",
                "regions": ", ".join(t.regions) if t.regions is not None else "all"}
               for t in s.threats]  # fmt: skip
    rules = [
        ("openbmd.analysis.compare", compare_module.__doc__ or ""),
        ("openbmd.scenario.build", build_module.__doc__ or ""),
        ("openbmd.analysis.timeline", timeline_module.__doc__ or ""),
    ]
    return {
        "architectures": [a.to_dict() for a in s.architectures],
        "missiles": list(missiles.values()),
        "threats": threats,
        "options": {k: _fmt(v) if not isinstance(v, dict) else v for k, v in options.items()},
        "rules": rules,
        "regions": [{"name": r.name, "bounds_deg": r.bounds_deg} for r in s.regions],
    }


def _campaign(ds: xr.Dataset | None) -> dict[str, Any] | None:
    """The campaign section: parameters, method notes and one figure per outcome."""
    if ds is None:
        return None
    from matplotlib.figure import Figure

    from openbmd.report.campaign_plots import LABELS, draw_outcome, focus, outcome_cells

    figures = []
    for outcome, cell in outcome_cells(ds):
        arch, param = focus(ds, outcome, cell)
        what = " → ".join(cell.values())
        label = LABELS[outcome][0]
        fig = draw_outcome(Figure(figsize=(12, 3.6), dpi=80), ds, outcome, **cell)
        figures.append(
            embed(
                fig,
                f"campaign {outcome} {what}",
                f"{label.capitalize()}, {what}: left, 5-95 % and 25-75 % of the trials and "
                f"the median per architecture; middle, the same versus {param} (equal-count "
                f"bins) for {arch}, whose outcome spreads most; right, each parameter's "
                f"first-order Sobol index for {arch}, green where the outcome rises with it "
                "(Spearman ρ > 0), red where it falls.",
            )
        )
    params = [
        {
            "path": str(p),
            "units": str(ds.parameter_units.sel(parameter=p).item()),
            "distribution": str(ds.distribution.sel(parameter=p).item()),
            "quantum": float(ds.quantum.sel(parameter=p)),
            "source": str(ds.source.sel(parameter=p).item()),
        }
        for p in ds.parameter.values
    ]
    notes = {k: ds.attrs[k] for k in ("streams", "ci_method", "sensitivity_method",
                                      "quantisation", "footprint")}  # fmt: skip
    return {"trials": ds.sizes["trial"], "seed": ds.attrs["seed"], "parameters": params,
            "notes": notes, "figures": figures}  # fmt: skip


def render_report(
    comparison: Comparison,
    ledger: Ledger,
    scenario_text: str,
    manifest: dict[str, Any],
    campaign: xr.Dataset | None = None,
) -> str:
    """The whole report as one HTML string (see the module docstring).

    ``campaign``: the Dataset of :func:`openbmd.scenario.uncertain.campaign` (``None``: the
    scenario has no ``uncertain:`` block, and the report no campaign section).
    """
    from jinja2 import Environment, PackageLoader, select_autoescape

    c = comparison
    env = Environment(
        loader=PackageLoader("openbmd.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    engage = [embed(engageability_chart(ds, f"{t}: engageable fraction"), f"engageability {t}",
                    "Launch area × target pairs in reach with at least one feasible intercept, "
                    "per commit rule applied to every architecture.")
              for t, ds in c.engageability.items()]  # fmt: skip
    timelines = [embed(timeline_chart(ds, f"{t}: {ds.attrs['launch_area']} → "
                                          f"{ds.attrs['target']}"), f"timeline {t}",
                       f"Representative trajectory of {t} ({ds.attrs['shape']}). Bars: when each "
                       "sensor sees it; marks: each architecture's first warning, commit, first "
                       "launch and first intercept.")
                 for t, ds in c.timelines.items()]  # fmt: skip
    reach = [embed(reach_map(ds, f"{t}: {ds.attrs['range_m'] / 1e3:g} km from each launch area"),
                   f"reach {t}", "Red: within the missile's nominal range of a launch area.")
             for t, ds in c.reach.items()]  # fmt: skip
    sections: dict[str, list[Any]] = {}
    for i, row in enumerate(ledger.rows):
        sections.setdefault(row.section, []).append((i + 1, row))
    by_country = _by_country(c)
    template = env.get_template("report.html.j2")
    return template.render(
        study=c.study,
        ledger=ledger,
        sections=sections,
        maps=_maps(c),
        engage=engage,
        timelines=timelines,
        reach=reach,
        assumptions=_assumptions(c),
        by_country=by_country,
        scenario_text=scenario_text,
        manifest=manifest,
        timings=c.timings,
        campaign=_campaign(campaign),
    )

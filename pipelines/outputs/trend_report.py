"""The trend report: sections built from pipelines.outputs.trends, rendered as one self-contained HTML page.

A section is a dict {title, notes, plots: [(caption, base64 PNG)], tables: [see `table`]}. Plots are embedded as data: URIs and the page loads nothing from anywhere; every
text that reaches the page (ids, routes, hubs from the input files) goes through Jinja's
autoescaping, and matplotlib's mathtext is off while plotting so a `$` in a label is just a character.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import io

import pandas as pd
from jinja2 import Environment, select_autoescape

from pipelines.io import tracking
from pipelines.io.context import RunContext
from pipelines.io.workspace import Workspace
from pipelines.outputs import trends
from pipelines.outputs.lists import neutralise

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1150px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f2f2f2}td.t,th.t{text-align:left}.note{color:#555;font-size:92%}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}figure{margin:0}figcaption{font-size:90%;color:#444}
</style></head><body>
<h1>{{ title }}</h1>
<table>{% for k, v in overview %}<tr><th class="t">{{ k }}</th><td class="t">{{ v }}</td></tr>{% endfor %}</table>
{% for s in sections %}<section>
<h2>{{ s.title }}</h2>
{% for n in s.notes %}<p class="note">{{ n }}</p>{% endfor %}
{% for caption, png in s.plots %}<figure><img alt="{{ caption }}" src="data:image/png;base64,{{ png }}"><figcaption>{{ caption }}</figcaption></figure>{% endfor %}
{% for t in s.tables %}<h3>{{ t.caption }}</h3>
<table><tr>{% for c in t.columns %}<th class="{{ t.align[loop.index0] }}">{{ c }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr>{% for cell in row %}<td class="{{ t.align[loop.index0] }}">{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endfor %}
</section>{% endfor %}
</body></html>
"""


def render_html(title: str, overview: list[tuple[str, str]], sections: list[dict]) -> str:
    """The page; all text is escaped by the template engine."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(_TEMPLATE).render(title=title, overview=overview, sections=sections)


def cell(value) -> str:
    """A table cell as text: numbers rounded, missing as '', formula-like text neutralised for spreadsheets."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, float):  # 4 significant digits: a share of 0.00003 must not show as 0.0000
        return f"{value:.4g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def table(caption: str, pdf: pd.DataFrame, columns: list[str]) -> dict:
    """A table for the template: text columns left-aligned, numbers right-aligned."""
    align = ["" if pd.api.types.is_numeric_dtype(pdf[c]) else "t" for c in columns]
    rows = [[cell(v) for v in row] for row in pdf[columns].itertuples(index=False, name=None)]
    return {"caption": caption, "columns": columns, "rows": rows, "align": align}


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plain_text(plot):
    """Runs a plot function with mathtext off: a hub or group named `$x$` is drawn as typed, not as TeX."""
    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)
    return wrapper


def _figure(panels: int = 1, height: float = 3.2):
    from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI backend

    fig = Figure(figsize=(5.2 * panels, height))
    return fig, fig.subplots(1, panels, squeeze=False)[0]


@_plain_text
def lines_png(pdf: pd.DataFrame, group: str, panels: list[tuple[str, str]]) -> str:
    """One panel per (column, label): a line per group over the buckets."""
    fig, axes = _figure(len(panels))
    for ax, (column, label) in zip(axes, panels):
        for name, part in pdf.groupby(group, sort=True):
            ax.plot(part["bucket"], part[column], marker="o", markersize=3, label=str(name))
        ax.set_ylabel(label)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes[-1].legend(fontsize=7, loc="best")
    return _png(fig)


@_plain_text
def bars_png(labels: list[str], values: list[float], xlabel: str, threshold: float | None = None) -> str:
    fig, axes = _figure(1, height=0.28 * len(labels) + 1.2)
    ax = axes[0]
    ax.barh([str(x) for x in labels][::-1], [0.0 if v is None or pd.isna(v) else v for v in values][::-1])
    if threshold is not None:
        ax.axvline(threshold, color="red", linestyle=":", label=f"warning {threshold}")
        ax.legend(fontsize=7)
    ax.set_xlabel(xlabel)
    return _png(fig)


@_plain_text
def stacked_png(pdf: pd.DataFrame, x: str, group: str, value: str, ylabel: str) -> str:
    wide = pdf.pivot_table(index=x, columns=group, values=value, aggfunc="sum", fill_value=0).sort_index()
    fig, axes = _figure(1)
    bottom = [0.0] * len(wide)
    for name in wide.columns:
        axes[0].bar([str(i) for i in wide.index], wide[name], bottom=bottom, label=str(name))
        bottom = [b + v for b, v in zip(bottom, wide[name])]
    axes[0].set_ylabel(ylabel)
    axes[0].tick_params(axis="x", labelrotation=30, labelsize=8)
    axes[0].legend(fontsize=7)
    return _png(fig)


@_plain_text
def performance_png(perf: pd.DataFrame) -> str:
    nights = perf[perf["night"] != "all nights"]
    fig, axes = _figure(1)
    ax = axes[0]
    ax.plot(nights["night"], nights["mean_score"].astype(float), marker="o", label="mean score (expected rate)")
    ax.plot(nights["night"], nights["observed_rate"].astype(float), marker="s", label="observed seizure rate")
    ax.plot(nights["night"], nights["precision_at_capacity"].astype(float), marker="^", label="precision at capacity")
    ax.set_ylabel("RANDOM control sample")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    ax.legend(fontsize=7)
    return _png(fig)


def feature_columns(rcfg: dict) -> list[str]:
    """The feature-table columns the report reads: all it keeps in memory of a large period."""
    drift = rcfg["drift_features"]
    wanted = ["consignment_id", "lodged_date", "dest_region", "last_hub", "hs_group", *rcfg["emerging"]["route_columns"],
              *drift["numeric"], *drift["categorical"]]
    return list(dict.fromkeys(wanted))


def build_sections(ctx: RunContext, period: trends.Period, input_root: str) -> list[dict]:
    """Every section of the report, stage by stage."""
    rcfg, progress = ctx.settings["report"], ctx.progress
    bucket = rcfg["bucket"]
    recent_from = trends.split_day(period.first, period.last, int(rcfg["emerging"]["recent_days"]))
    sections = []
    with progress.stage("seizures and hit rates by destination region"):
        sections.append(group_section(period, bucket, "dest_region", None, "Seizures and hit rates by destination region"))
    with progress.stage("seizures and hit rates by hub and by HS group"):
        hubs = trends.top_values(period.features, "last_hub", int(rcfg["top_hubs"]))
        sections.append(group_section(period, bucket, "last_hub", hubs, "By last transit hub"))
        groups = trends.top_values(period.features, "hs_group", int(rcfg["top_hs_groups"]))
        sections.append(group_section(period, bucket, "hs_group", groups, "By HS group"))
    with progress.stage("emerging routes and parties"):
        sections.append(emerging_section(ctx.spark, period, input_root, rcfg["emerging"], recent_from))
    with progress.stage("model performance on the RANDOM control sample"):
        sections.append(performance_section(period, float(rcfg["performance"]["capacity"])))
    with progress.stage("feature drift"):
        sections.append(drift_section(period, ctx.settings, ctx.workspace, recent_from))
    with progress.stage("selection mix"):
        sections.append(selection_section(period))
    return sections


def group_section(period: trends.Period, bucket: str, column: str, keep: list[str] | None, title: str) -> dict:
    over_time = trends.rates_over_time(period.features, period.outcomes, [column], bucket,
                                       keep={column: keep} if keep else None)
    totals = trends.rates_over_time(period.features, period.outcomes, [column], None, keep={column: keep} if keep else None)
    if column == "dest_region":  # every region is shown, a quiet one as zeros
        totals = totals.set_index(column).reindex(trends.REGIONS, fill_value=0).reset_index()
        totals["hit_rate"] = (totals["seized"] / totals["inspected"].where(totals["inspected"] > 0)).astype(float)
    plot = lines_png(over_time, column, [("consignments", "consignments"), ("seized", "seizures"),
                                         ("hit_rate", "hit rate (seized / inspected)")])
    notes = [f"Buckets: {'weeks starting on Monday (the first and last may be partial)' if bucket == 'week' else 'days'}, "
             "by lodging day. Hit rate = seizures / inspections of consignments lodged in the bucket, counting "
             f"the latest outcome known on {period.last}; an uninspected consignment is unknown, not clean."]
    if keep:
        notes.append(f"The {len(keep)} busiest values are shown; the rest are summed as {trends.LUMPED}.")
    return {"title": title, "notes": notes, "plots": [(f"{title}, per {bucket}", plot)],
            "tables": [table(f"Whole period by {column}", totals, [column, "consignments", "inspected", "seized", "hit_rate"])]}


def emerging_section(spark, period: trends.Period, input_root: str, ecfg: dict, recent_from) -> dict:
    if recent_from <= period.first:
        return {"title": "Emerging routes and parties", "plots": [], "tables": [], "notes": [
            "A one-day period has no earlier part to compare with: choose a longer --from/--to."]}
    min_recent, top = int(ecfg["min_recent"]), int(ecfg["top"])
    route_cols = list(ecfg["route_columns"])
    routes = trends.emerging(trends.with_inspection_flags(period.features, period.outcomes, route_cols), route_cols,
                             recent_from, min_recent, top)
    parties = trends.emerging(
        trends.party_frame(spark, input_root, period.features, period.outcomes, list(ecfg["party_columns"]),
                           period.feature_days), ["role", "party_id"], recent_from, min_recent, top, within=["role"])
    shown = ["earlier", "recent", "earlier_share", "recent_share", "lift", "inspected", "seized"]
    return {"title": "Emerging routes and parties", "plots": [],
            "notes": [f"Recent part: consignments lodged {recent_from}..{period.last}; earlier part: {period.first}.."
                      f"{recent_from - dt.timedelta(days=1)}. Share = the key's consignments over all consignments "
                      "of that part (for a party: over those naming a party in that role); lift = recent share / "
                      "earlier share (blank: not seen in the earlier part). Keys with at least "
                      f"{min_recent} recent consignments, at most {top} per table."],
            "tables": [table(f"Routes ({' / '.join(route_cols)})", routes, route_cols + shown),
                       table("Parties", parties, ["role", "party_id"] + shown)]}


def performance_section(period: trends.Period, capacity: float) -> dict:
    title = "Model performance on the RANDOM control sample"
    if not period.nights:
        return {"title": title, "plots": [], "tables": [], "notes": [
            f"This period has no nightly scores (no nightly run stored for {period.first}..{period.last}), so "
            "model performance over time cannot be measured: it is measured only on scores as they were produced "
            "each night by `shiprisk nightly`, never on scores recomputed afterwards."]}
    perf = trends.random_sample_performance(period.scores, period.outcomes, capacity)
    notes = [f"Nightly scores of {len(period.nights)} night(s), as produced that night, against the consignments "
             f"inspected as RANDOM control sample with an outcome known on {period.last}. Only this uniform sample "
             f"estimates what a ranking finds in a whole day. Precision at capacity: seizure rate among the top "
             f"{capacity:g} share by score of a night's RANDOM rows (k rows)."]
    labelled = int(perf.loc[perf["night"] == "all nights", "random_labelled"].iloc[0])
    if labelled == 0:
        notes.append("No RANDOM inspection of a scored night has an outcome yet: outcomes arrive days after "
                     "lodging; report on a later --to to measure these nights.")
    plots = [("RANDOM control sample, night by night", performance_png(perf))] if labelled else []
    return {"title": title, "notes": notes, "plots": plots,
            "tables": [table("Per night", perf, list(perf.columns))]}


def drift_section(period: trends.Period, cfg: dict, workspace: Workspace, recent_from) -> dict:
    rcfg = cfg["report"]
    found = trends.model_run(cfg, workspace)
    reference = None
    if found is not None:
        try:
            reference = tracking.load_dict(found[1], "drift_reference.json")
        except Exception:  # an older model without a stored profile: the within-period drift still stands
            reference = None
    feats = rcfg["drift_features"]
    drift = trends.feature_drift(period.features, recent_from, list(feats["numeric"]), list(feats["categorical"]),
                                 int(rcfg["psi_bins"]), reference)
    threshold = float(cfg["monitoring"]["psi_warning"])
    worst = drift[["psi_recent_vs_earlier", "psi_vs_training"]].astype(float).max(axis=1)  # NaN-skipping
    flagged = sorted(drift.loc[worst > threshold, "feature"])
    notes = [f"Population stability index (PSI) of the consignments lodged {recent_from}..{period.last} against "
             f"those lodged before, and against the champion model's training profile "
             f"({'version ' + found[0] if reference else 'not available: column blank'}). Above {threshold}: flagged.",
             f"Flagged: {', '.join(flagged)}." if flagged else "No feature above the warning level."]
    plots = []
    if drift["psi_recent_vs_earlier"].notna().any():
        plots.append(("PSI, recent vs earlier part", bars_png(list(drift["feature"]), list(drift["psi_recent_vs_earlier"]),
                                                              "PSI recent vs earlier", threshold)))
    else:
        notes.append(f"No features lodged before {recent_from} in this period: no recent-against-earlier comparison.")
    return {"title": "Drift of key features", "notes": notes, "plots": plots,
            "tables": [table("PSI per feature", drift, list(drift.columns))]}


def selection_section(period: trends.Period) -> dict:
    title = "Selection mix"
    if not period.nights:
        return {"title": title, "plots": [], "tables": [], "notes": [
            "No nightly lists in this period (no nightly run stored): run `shiprisk nightly` for its days."]}
    mix = trends.selection_mix(period.scores)
    return {"title": title, "plots": [("Selected consignments by basis, per night",
                                       stacked_png(mix, "night", "selection_basis", "selected", "selected"))],
            "notes": ["Why each listed consignment was chosen: PROFILE (an analyst rule), MODEL (score), RANDOM "
                      "(the control sample), EXPLORATION (uncertain or novel)."],
            "tables": [table("Selected per night and basis", mix, ["night", "selection_basis", "selected"])]}


COVERAGE_COLUMNS = ["night", "office", "listed", "with_result", "inspected", "seized", "hit_rate",
                    "random_listed", "random_inspected", "random_pending", "skipped_controls"]


def coverage_section(rows: list[dict] | None) -> dict:
    """How far each office worked each night's list, from the workbench's recorded results."""
    title = "Coverage of the lists by recorded results"
    if rows is None:
        return {"title": title, "plots": [], "tables": [], "notes": [
            "No result was recorded in the inspector workbench of this workspace (`shiprisk serve`, "
            "`shiprisk outcomes import`); outcomes read from the input root are counted above."]}
    pdf = pd.DataFrame(rows, columns=[*COVERAGE_COLUMNS, "control_sample_intact"])
    skipped = pdf[~pdf["control_sample_intact"].astype(bool)] if len(pdf) else pdf
    pdf["skipped_controls"] = pdf["skipped_controls"].map(len) if len(pdf) else pdf["skipped_controls"]
    notes = ["Listed = RED list and AMBER queue. Hit rate = seized / inspected among the listed rows with a "
             "result. A RANDOM control row recorded NOT_INSPECTED is a skipped control: the control sample is "
             "then no longer random, and evaluations on it lean toward what was easy to inspect."]
    if len(skipped):
        notes.append("Control sample NOT intact on: " + ", ".join(
            f"{r.night} {r.office}" for r in skipped.itertuples()) + ".")
    return {"title": title, "plots": [], "notes": notes,
            "tables": [table("Per night and office", pdf, COVERAGE_COLUMNS)]}

"""Evaluation report as JSON and a self-contained HTML page with embedded plots."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from jinja2 import Environment, select_autoescape

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:90%}
img{max-width:100%;border:1px solid #eee}
</style></head><body>
<h1>{{ title }}</h1>
<p class="note">{{ subtitle }}</p>
<h2>Headline</h2>
<table><tr><th>metric</th><th>value</th></tr>
{% for k, v in headline.items() %}<tr><td>{{ k }}</td><td>{{ "%.4f"|format(v) }}</td></tr>{% endfor %}
</table>
<h2>At capacity</h2>
<table><tr><th>view</th><th>capacity</th><th>k</th><th>precision</th><th>recall</th><th>value captured</th><th>oracle precision</th></tr>
{% for row in capacity_rows %}<tr><td>{{ row.view }}</td><td>{{ row.capacity }}</td><td>{{ row.k }}</td>
<td>{{ row.precision }}</td><td>{{ row.recall }}</td><td>{{ row.value_captured }}</td><td>{{ row.oracle }}</td></tr>{% endfor %}
</table>
<p class="note">inspected: all consignments with an outcome (biased by the old targeting);
random: the RANDOM control sample only (unbiased estimate); truth: synthetic ground truth, oracle = ranking by the true probability.</p>
{% if week_rows %}<h2>By week of lodging (headline capacity)</h2>
<table><tr><th>view</th><th>week from</th><th>consignments</th><th>k</th><th>precision</th><th>oracle precision</th><th>ratio to oracle</th></tr>
{% for row in week_rows %}<tr><td>{{ row.view }}</td><td>{{ row.week }}</td><td>{{ row.n }}</td><td>{{ row.k }}</td>
<td>{{ row.precision }}</td><td>{{ row.oracle }}</td><td>{{ row.ratio }}</td></tr>{% endfor %}
</table>
<p class="note">A model decays as patterns move: a falling precision from week to week says retrain sooner.
inspected: labelled rows of the week (consignments = outcomes); truth: every consignment of the week.</p>{% endif %}
<h2>Baselines</h2>
<table><tr><th>baseline</th><th>value</th></tr>
{% for k, v in baselines.items() %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}
</table>
{% for name, png in plots.items() %}<h2>{{ name }}</h2><img alt="{{ name }}" src="data:image/png;base64,{{ png }}">{% endfor %}
</body></html>
"""


def _fmt(value):
    return "" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def capacity_rows(report: dict) -> list[dict]:
    rows = []
    for view in ("inspected", "random", "truth"):
        for cap, m in ((report.get(view) or {}).get("at_capacity") or {}).items():
            rows.append({"view": view, "capacity": cap, "k": m.get("k"), "precision": _fmt(m.get("precision")),
                         "recall": _fmt(m.get("recall")), "value_captured": _fmt(m.get("value_captured")),
                         "oracle": _fmt(m.get("oracle_precision"))})
    return rows


def week_rows(report: dict) -> list[dict]:
    return [{"view": view, "week": w["week"], "n": w["n"], "k": w["k"], "precision": _fmt(w.get("precision")),
             "oracle": _fmt(w.get("oracle_precision")), "ratio": _fmt(w.get("ratio_to_oracle"))}
            for view, weeks in (report.get("by_week") or {}).items() for w in weeks]


def plot_pngs(report: dict) -> dict[str, str]:
    """Precision at capacity and reliability plots, as base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = {}
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for view in ("inspected", "random", "truth"):
        caps = (report.get(view) or {}).get("at_capacity") or {}
        xs = [float(c) for c in caps]
        ys = [caps[c].get("precision") for c in caps]
        if xs and all(y is not None for y in ys):
            ax.plot(xs, ys, marker="o", label=view)
        if view == "truth" and caps:
            ax.plot(xs, [caps[c].get("oracle_precision") for c in caps], "k--", label="oracle")
    ax.set_xlabel("capacity (share of a day's consignments)")
    ax.set_ylabel("precision")
    ax.legend()
    plots["precision at capacity"] = _png(fig, plt)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], "k:", label="perfect")
    for view in ("inspected", "random"):
        curve = (report.get(view) or {}).get("reliability") or []
        if curve:
            ax.plot([r["mean_score"] for r in curve], [r["observed_rate"] for r in curve], marker="o", label=view)
    ax.set_xlabel("mean score")
    ax.set_ylabel("observed seizure rate")
    ax.legend()
    plots["reliability"] = _png(fig, plt)
    fig, ax = plt.subplots(figsize=(5, 4))
    for view in ("inspected", "random"):
        curve = (report.get(view) or {}).get("pr_curve") or []
        if curve:
            ax.plot([r["recall"] for r in curve], [r["precision"] for r in curve], label=view)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.legend()
    plots["precision-recall"] = _png(fig, plt)
    importances = report.get("permutation_importance") or []
    if importances:
        top = importances[:15][::-1]
        fig, ax = plt.subplots(figsize=(6, 0.3 * len(top) + 1))
        ax.barh([r["feature"] for r in top], [r["importance"] for r in top])
        ax.set_xlabel("drop in PR-AUC when shuffled (hold-out, inspected rows)")
        plots["permutation importance"] = _png(fig, plt)
    return plots


def _png(fig, plt) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def write_report(report: dict, headline: dict, out_dir: str, title: str, subtitle: str) -> tuple[str, str]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "evaluation.json"
    json_path.write_text(json.dumps({"headline": headline, **report}, indent=2, default=str), encoding="utf-8")
    plots = plot_pngs(report)
    for name, png in plots.items():  # also as files, for MLflow's artifact view
        (out / f"{name.replace(' ', '_')}.png").write_bytes(base64.b64decode(png))
    env = Environment(autoescape=select_autoescape(default=True))
    html = env.from_string(_TEMPLATE).render(
        title=title, subtitle=subtitle, headline=headline, capacity_rows=capacity_rows(report),
        week_rows=week_rows(report),
        baselines={k: _fmt(v) for k, v in report.get("baselines", {}).items()}, plots=plots,
    )
    html_path = out / "evaluation.html"
    html_path.write_text(html, encoding="utf-8")
    return str(json_path), str(html_path)

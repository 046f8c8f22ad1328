"""The model card: what a risk team needs to know before trusting a version."""
from __future__ import annotations

from models.factory import describe_left_out


def _f(x) -> str:
    return "n/a" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def _selection_bias(info: dict) -> str:
    if int(info["n_random_rows"] or 0) == 0:
        return ("- Selection bias: outcomes exist only for inspected consignments. The training window has no RANDOM "
                f"control rows, so their weight ({info['random_sample_weight']}x) changed nothing: the fit follows "
                "whatever chose the inspections. If every consignment was inspected there is no selection to correct; "
                "otherwise the scores inherit the old targeting's blind spots.")
    return ("- Selection bias: outcomes exist only for inspected consignments, mostly chosen by the old targeting. "
            f"RANDOM control rows are weighted {info['random_sample_weight']}x so the fit leans towards the population's "
            "pattern; the unbiased estimate of performance is the RANDOM-only view below. What it changes: scores rank "
            "consignments unlike the old targeting's picks higher than a model fitted on inspections alone; it cannot "
            "remove the bias where the old targeting never looked and the control sample is thin.")


def _unavailable_notes(report: dict) -> list[str]:
    """One line per view and reason for the metrics an evaluation view could not give."""
    lines = []
    n_consignments = report.get("n_consignments")
    inspected = report.get("inspected") or {}
    if n_consignments and inspected.get("n") == n_consignments:
        lines.append(f"- Every one of the {n_consignments} hold-out consignments was inspected: the inspected view "
                     "covers the whole population and is unbiased.")
    for view, label in (("inspected", "Inspected"), ("random", "RANDOM-only")):
        by_reason: dict[str, list[str]] = {}
        for metric, reason in ((report.get(view) or {}).get("unavailable") or {}).items():
            by_reason.setdefault(reason, []).append(metric)
        lines += [f"- {label} view: {', '.join(metrics)} unavailable ({reason})." for reason, metrics in by_reason.items()]
    return lines


def _weekly_lines(report: dict) -> list[str]:
    """The hold-out week by week at the headline capacity: decay shows as a falling precision."""
    weeks = [(view, w) for view, rows in (report.get("by_week") or {}).items() for w in rows]
    if not weeks:
        return []
    lines = ["## Hold-out by week (headline capacity)", "",
             "| view | week from | consignments | k | precision | oracle precision | ratio to oracle |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {view} | {w['week']} | {w['n']} | {w['k']} | {_f(w.get('precision'))} | "
              f"{_f(w.get('oracle_precision'))} | {_f(w.get('ratio_to_oracle'))} |" for view, w in weeks]
    return [*lines, ""]


def _selection_lines(selection: dict | None) -> list[str]:
    """The hyper-parameter search of the training run (info["selection"]), when it ran."""
    if not selection:
        return []
    chosen = ", ".join(f"{k}={v}" for k, v in (selection.get("chosen") or {}).items())
    candidates = selection.get("candidates") or []
    lines = ["## Model selection", "",
             f"- Chosen on a time-ordered validation split by {selection.get('metric', 'n/a')}: {chosen or 'n/a'}.",
             f"- {len(candidates)} candidates tried in {_f(selection.get('spent_seconds'))} s of a "
             f"{_f(selection.get('budget_seconds'))} s budget."]
    if candidates:
        lines += ["", f"| candidate | {selection.get('metric', 'score')} |", "|---|---|"]
        best_first = sorted(candidates, key=lambda c: -(c.get("score") if c.get("score") is not None else float("-inf")))
        lines += [f"| {', '.join(f'{k}={v}' for k, v in c.items() if k != 'score')} | {_f(c.get('score'))} |"
                  for c in best_first]
    return [*lines, ""]


def render_model_card(info: dict, report: dict, features: list, left_out: dict[str, str] | None = None,
                      measured: dict | None = None) -> str:
    """Markdown from the training run's parameters, evaluation report and feature registry.

    `left_out`: {feature: reason} of the columns the fitted model left out
    (models.factory.left_out_features); listed under Features when given.
    `measured`: {"worlds": ..., "ablation": ...} figures measured apart from the run (see
    measured_sections), rendered in the card's marked block so a regenerated card keeps them.
    """
    listed, left_out = left_out is not None, left_out or {}
    random_view = report.get("random") or {}
    lines = [
        f"# Model card: {info['name']} version {info['version']}",
        "",
        f"Generated from MLflow run `{info['run_id']}` (git commit `{info['git_commit']}`).",
        "",
        "## Data windows",
        f"- Fitted on consignments lodged {info['train_from']} to {info['train_to']} with a known outcome "
        f"({info['n_train_rows']} rows, {info['n_train_positives']} seizures, {info['n_random_rows']} from the RANDOM control sample).",
        f"- Evaluated on consignments lodged {info['holdout_from']} to {info['holdout_to']}, never seen in fitting; "
        "only outcomes inspected before the hold-out began were used to fit.",
        f"- Feature registry version `{info['feature_registry_version']}`; input digest `{info['input_digest']}`.",
        "",
        "## Method",
        "- One scikit-learn Pipeline: feature columns without signal in the training rows left out, ordinal encoding "
        "of categories, HistGradientBoostingClassifier with native categorical splits, then "
        f"{info['calibration_method']} calibration fitted on the most recent share of the training rows (a later window).",
        _selection_bias(info),
        "",
        "## Metrics at inspection capacity (hold-out)",
        "",
        "| view | capacity | precision | recall | value captured | oracle precision |",
        "|---|---|---|---|---|---|",
    ]
    for view in ("inspected", "random", "truth"):
        for cap, m in ((report.get(view) or {}).get("at_capacity") or {}).items():
            lines.append(f"| {view} | {cap} | {_f(m.get('precision'))} | {_f(m.get('recall'))} | "
                         f"{_f(m.get('value_captured'))} | {_f(m.get('oracle_precision'))} |")
    b = report.get("baselines", {})
    lines += [
        "",
        f"ROC-AUC (inspected / RANDOM): {_f(report['inspected'].get('roc_auc'))} / {_f(random_view.get('roc_auc'))}; "
        f"PR-AUC: {_f(report['inspected'].get('pr_auc'))} / {_f(random_view.get('pr_auc'))}; "
        f"Brier: {_f(report['inspected'].get('brier'))} / {_f(random_view.get('brier'))}.",
        "",
    ]
    notes = _unavailable_notes(report)
    lines += notes + ([""] if notes else [])
    lines += [
        "Baselines: legacy rules (RISK selections of the old targeting) hit rate "
        f"{_f(b.get('legacy_rules_hit_rate'))} on {_f(b.get('legacy_rules_inspections'))} inspections"
        + (f", precision against the truth {_f(b.get('legacy_rules_truth_precision'))}" if "legacy_rules_truth_precision" in b else "")
        + f"; random selection hit rate {_f(b.get('random_hit_rate'))} on {_f(b.get('random_inspections'))} inspections.",
        "",
        *_weekly_lines(report),
        *_selection_lines(info.get("selection")),
        "## Features",
        "",
        "| feature | family | meaning | window |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{f.name}`{' (left out)' if f.name in left_out else ''} | {f.family} | {f.meaning} | {f.window} |"
              for f in features if f.model_input]
    if left_out:
        lines += ["", f"Features left out of this fit: {describe_left_out(left_out)}. They carry no signal in the "
                      "training rows; the model ignores them when scoring."]
    elif listed:
        lines += ["", "Features left out of this fit: none."]
    lines += [
        "",
        "## Known limits",
        "- The RANDOM-only view rests on few seizures in a short hold-out: read its precision with its count.",
        "- The truth view exists only for synthetic data; on real data the RANDOM view is the honest one.",
        "- Parties, routes and brands never seen before get no history: the selection's exploration share exists for them.",
        "- Scores are calibrated on the training window's base rate; a change in the seizure rate shifts them (watch drift).",
    ]
    card = "\n".join(lines) + "\n"
    return with_measured_sections(card, measured_sections(**measured)) if measured else card


# The measured sections live between these markers: figures measured apart from any training run
# (other worlds, ablation), kept from their JSON under docs/measured/ when the card is regenerated.
MEASURED_BEGIN = ("<!-- measured: begin. Rendered from docs/measured/*.json (python -m pipelines.devtools.worlds --card, "
                  "shiprisk ablation --card); re-render after copying a regenerated card with "
                  "python -m pipelines.devtools.worlds --refresh-card docs/model_card.md -->")
MEASURED_END = "<!-- measured: end -->"


def _p(x, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _signed(x) -> str:
    return "n/a" if x is None else f"{x:+.3f}" if x else "0.000"


def render_worlds_table(figures: dict) -> str:
    """Markdown of pipelines.devtools.worlds' figures: one row per world (its nights pooled), then the commands."""
    sizes = figures["sizes"]
    lines = [f"Trained on {sizes['train_days']} days, then the {sizes['nights']} following nights scored by "
             f"`shiprisk nightly`; {sizes['per_day']} consignments a day (seed {sizes['seed']}). Precision against "
             "the generator's truth of each night's top k by score (k = 1 % or 5 % of the night's consignments), "
             "of the oracle's top k by the true probability, and of the legacy rules' RISK picks (at their own "
             "volume, shown as a share of the nights' consignments).",
             "",
             "| world | nights | consignments | P@1% | oracle P@1% | ratio to oracle | P@5% | oracle P@5% | "
             "ratio to oracle | legacy rules precision (share picked) | P@1% / legacy |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for world, result in figures["worlds"].items():
        if "failed" in result:
            lines.append(f"| {world} | failed: {result['failed']} |" + " |" * 9)
            continue
        a = result["all_nights"]
        c1, c5 = a["at_capacity"]["0.01"], a["at_capacity"]["0.05"]
        share = None if a.get("legacy_share") is None else 100 * a["legacy_share"]
        lines.append(f"| {world} | {len(result['nights'])} | {a['n']} | {_p(c1['precision'])} | "
                     f"{_p(c1['oracle_precision'])} | {_p(c1['ratio_to_oracle'], 2)} | {_p(c5['precision'])} | "
                     f"{_p(c5['oracle_precision'])} | {_p(c5['ratio_to_oracle'], 2)} | "
                     f"{_p(a['legacy_precision'])} ({_p(share, 1)} %) | {_p(c1['ratio_to_legacy'], 1)} |")
    lines += ["", "Commands run (in this order, per world):", ""]
    for world, result in figures["worlds"].items():
        lines += [f"- {world}:", "", "```", *result["commands"], "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def render_ablation_table(result: dict) -> str:
    """Markdown of `shiprisk ablation`: the full model first, then each family left out and what it costs."""
    full, cap = result["full"], f"{100 * result['capacity']:g} %"
    lines = [f"Fitted on {result['fit'][0]}..{result['fit'][1]}, measured on the hold-out "
             f"{result['holdout'][0]}..{result['holdout'][1]} at {cap} capacity. Loss = full model minus the model "
             "without the family: positive means the family helps; near zero on both views marks a family to question.",
             "",
             f"| family left out | columns | P@{cap} inspected | loss | P@{cap} truth | loss |",
             "|---|---|---|---|---|---|",
             f"| (none: full model) | {result['n_columns']} | {_p(full['labelled'])} | | {_p(full['truth'])} | |"]
    lines += [f"| {r['family']} | {r['columns']} | {_p(r['without_labelled'])} | {_signed(r['loss_labelled'])} | "
              f"{_p(r['without_truth'])} | {_signed(r['loss_truth'])} |" for r in result["families"]]
    if full.get("oracle") is not None:
        lines += ["", f"Oracle precision at {cap} on the hold-out (ranking by the true probability): {_p(full['oracle'])}."]
    return "\n".join(lines) + "\n"


def measured_sections(worlds: dict | None = None, ablation: dict | None = None) -> str:
    """The marked block: "Other worlds" and "Feature family ablation", from their figures when known."""
    lines = [MEASURED_BEGIN, "## Other worlds", ""]
    if worlds and worlds.get("note"):
        lines += [f"_{worlds['note']}_", ""]
    lines += [render_worlds_table(worlds) if worlds else "Not measured yet: `python -m pipelines.devtools.worlds "
              "--out DIR --card docs/model_card.md`.\n", "## Feature family ablation", ""]
    if ablation and ablation.get("note"):
        lines += [f"_{ablation['note']}_", ""]
    lines += [render_ablation_table(ablation) if ablation else "Not measured yet: `shiprisk ablation --input R "
              "--workspace W --from D1 --to D2 --card docs/model_card.md`.\n", MEASURED_END]
    return "\n".join(lines) + "\n"


def with_measured_sections(card: str, block: str) -> str:
    """The card with its marked block replaced by `block` (appended when the card has none)."""
    # By the marker's fixed start: a block written under an older wording of the marker is still found.
    begin, end = card.find(MEASURED_BEGIN.split(".")[0]), card.find(MEASURED_END)
    if begin >= 0 and end > begin:
        return card[:begin] + block.rstrip("\n") + card[end + len(MEASURED_END):]
    return card.rstrip("\n") + "\n\n" + block

"""The model card: what a risk team needs to know before trusting a version."""
from __future__ import annotations


def _f(x) -> str:
    return "n/a" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def render_model_card(info: dict, report: dict, features: list) -> str:
    """Markdown from the training run's parameters, evaluation report and feature registry."""
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
        "- One scikit-learn Pipeline: ordinal encoding of categories, HistGradientBoostingClassifier with native "
        "categorical splits, then " + f"{info['calibration_method']} calibration fitted on the most recent share of the training rows (a later window).",
        "- Selection bias: outcomes exist only for inspected consignments, mostly chosen by the old targeting. "
        f"RANDOM control rows are weighted {info['random_sample_weight']}x so the fit leans towards the population's pattern; "
        "the unbiased estimate of performance is the RANDOM-only view below. What it changes: scores rank consignments "
        "unlike the old targeting's picks higher than a model fitted on inspections alone; it cannot remove the bias "
        "where the old targeting never looked and the control sample is thin.",
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
        f"ROC-AUC (inspected / RANDOM): {_f(report['inspected'].get('roc_auc'))} / {_f(report['random'].get('roc_auc'))}; "
        f"PR-AUC: {_f(report['inspected'].get('pr_auc'))} / {_f(report['random'].get('pr_auc'))}; "
        f"Brier: {_f(report['inspected'].get('brier'))} / {_f(report['random'].get('brier'))}.",
        "",
        "Baselines: legacy rules (RISK selections of the old targeting) hit rate "
        f"{_f(b.get('legacy_rules_hit_rate'))} on {_f(b.get('legacy_rules_inspections'))} inspections"
        + (f", precision against the truth {_f(b.get('legacy_rules_truth_precision'))}" if "legacy_rules_truth_precision" in b else "")
        + f"; random selection hit rate {_f(b.get('random_hit_rate'))} on {_f(b.get('random_inspections'))} inspections.",
        "",
        "## Features",
        "",
        "| feature | family | meaning | window |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{f.name}` | {f.family} | {f.meaning} | {f.window} |" for f in features if f.model_input]
    lines += [
        "",
        "## Known limits",
        "- The RANDOM-only view rests on few seizures in a short hold-out: read its precision with its count.",
        "- The truth view exists only for synthetic data; on real data the RANDOM view is the honest one.",
        "- Parties, routes and brands never seen before get no history: the selection's exploration share exists for them.",
        "- Scores are calibrated on the training window's base rate; a change in the seizure rate shifts them (watch drift).",
    ]
    return "\n".join(lines) + "\n"

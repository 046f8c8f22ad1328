"""shiprisk evaluate --input DIR --workspace W --from D1 --to D2 [--model VERSION|ALIAS]"""
from __future__ import annotations

from pipelines.cli.args import add_window_args


def register(parser):
    add_window_args(parser)
    parser.add_argument("--model", default="champion", help="a version number or an alias (default: champion)")


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.io.workspace import parse_day
    from pipelines.jobs.evaluate import evaluate

    first, last = parse_day(args.date_from, "from"), parse_day(args.date_to, "to")
    ctx = open_context("evaluate", args.workspace)
    result = evaluate(ctx, args.input, first, last, args.model)
    print(format_summary(result["version"], result["report"], ctx.settings["evaluation"]["capacities"]))
    print(f"report: {result['report_html']}\n        {result['report_json']}")
    return 0


def format_summary(version: str, report: dict, capacities: list) -> str:
    def f(x):
        return "   -  " if x is None else f"{x:6.3f}"

    lines = [f"version {version} on {report['n_consignments']} consignments"]
    lines.append("capacity  inspected  random   truth   oracle  truth/oracle")
    for cap in capacities:
        key = f"{float(cap):g}"
        ins = report["inspected"]["at_capacity"][key]["precision"]
        rnd = report["random"]["at_capacity"].get(key, {}).get("precision")
        tr = report.get("truth", {}).get("at_capacity", {}).get(key, {})
        ratio = tr["precision"] / tr["oracle_precision"] if tr.get("oracle_precision") else None
        lines.append(f"{key:>8}  {f(ins)}    {f(rnd)}  {f(tr.get('precision'))}  {f(tr.get('oracle_precision'))}  {f(ratio)}")
    b = report["baselines"]
    lines.append(f"legacy rules: hit rate {f(b.get('legacy_rules_hit_rate'))} on {b.get('legacy_rules_inspections')} "
                 f"inspections, truth precision {f(b.get('legacy_rules_truth_precision'))}; "
                 f"random: hit rate {f(b.get('random_hit_rate'))}")
    return "\n".join(lines)

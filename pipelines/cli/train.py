"""shiprisk train --input DIR --workspace W --from D1 --to D2"""
from __future__ import annotations

from pipelines.cli.args import add_window_args


def register(parser):
    add_window_args(parser)


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.io.workspace import parse_day
    from pipelines.jobs.train import train

    first, last = parse_day(args.date_from, "from"), parse_day(args.date_to, "to")
    ctx = open_context("train", args.workspace)
    result = train(ctx, args.input, first, last)
    h = result["headline"]
    print(f"registered {ctx.settings['mlflow']['registered_model']} version {result['version']} as @{result['alias']} "
          f"(run {result['run_id']}), fitted on {result['train_rows']} labelled consignments "
          f"{result['fit_days'][0]}..{result['fit_days'][1]}")
    print(f"hold-out {result['holdout_days'][0]}..{result['holdout_days'][1]}: " + ", ".join(
        f"{k}={v:.3f}" for k, v in h.items() if "precision" in k or "pr_auc" in k or "hit_rate" in k))
    print(f"report: {result['report_html']}")
    return 0

"""shiprisk models --workspace W"""
from __future__ import annotations

_SHOWN = ("inspected_pr_auc", "random_precision_at_headline", "truth_precision_at_headline",
          "truth_oracle_precision_at_headline")


def register(parser):
    parser.add_argument("--workspace", required=True)


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.jobs.promote import model_versions

    ctx = open_context("models", args.workspace)
    uri, rows = model_versions(ctx)
    if not rows:
        print(f"no versions of {ctx.settings['mlflow']['registered_model']} in {uri}; train one with `shiprisk train`")
        return 0
    print(f"{'version':>7}  {'aliases':<20} {'trained on':<23} " + " ".join(f"{m[:26]:>26}" for m in _SHOWN))
    for r in rows:
        window = f"{r['params'].get('train_from', '?')}..{r['params'].get('train_to', '?')}"
        metrics = " ".join(f"{r['metrics'][m]:26.3f}" if m in r["metrics"] else f"{'-':>26}" for m in _SHOWN)
        print(f"{r['version']:>7}  {','.join(r['aliases']) or '-':<20} {window:<23} {metrics}")
    return 0

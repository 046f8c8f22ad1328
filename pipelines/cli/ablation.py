"""shiprisk ablation --input DIR --workspace W --from D1 --to D2"""
from __future__ import annotations

from pipelines.cli.args import add_window_args


def register(parser):
    add_window_args(parser)


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.io.workspace import parse_day
    from pipelines.jobs.ablation import ablation

    first, last = parse_day(args.date_from, "from"), parse_day(args.date_to, "to")
    result = ablation(open_context("ablation", args.workspace), args.input, first, last)
    print(result["table"])
    print(f"report: {result['report_md']} and {result['report_json']}")
    return 0

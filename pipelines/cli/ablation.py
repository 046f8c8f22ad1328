"""shiprisk ablation --input DIR --workspace W --from D1 --to D2 [--card docs/model_card.md]"""
from __future__ import annotations

from pathlib import Path

from pipelines.cli.args import add_window_args


def register(parser):
    add_window_args(parser)
    parser.add_argument("--card", type=Path, help="also store the figures under docs/measured/ beside this model "
                        "card and re-render its \"Feature family ablation\" section (e.g. docs/model_card.md)")
    parser.add_argument("--note", help="a line kept with the figures and shown above the table in the card")


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.io.workspace import parse_day
    from pipelines.jobs.ablation import ablation

    first, last = parse_day(args.date_from, "from"), parse_day(args.date_to, "to")
    result = ablation(open_context("ablation", args.workspace), args.input, first, last, note=args.note)
    print(result["table"])
    print(f"report: {result['report_md']} and {result['report_json']}")
    if args.card:
        from pipelines.devtools.worlds import update_card

        figures = {k: v for k, v in result.items() if k not in ("table", "report_json", "report_md")}
        print(f"updated the \"Feature family ablation\" section of {update_card(args.card, ablation=figures)}")
    return 0

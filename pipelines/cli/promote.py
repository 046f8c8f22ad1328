"""shiprisk promote --workspace W [--force] [--input DIR --from D1 --to D2]"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--force", action="store_true", help="promote even if the challenger is worse (logged)")
    parser.add_argument("--input", help="input root (default: the one the challenger was trained on)")
    parser.add_argument("--from", dest="date_from", help="comparison window start (default: challenger's hold-out)")
    parser.add_argument("--to", dest="date_to", help="comparison window end")


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.io.workspace import parse_day
    from pipelines.jobs.promote import promote

    first = parse_day(args.date_from, "from") if args.date_from else None
    last = parse_day(args.date_to, "to") if args.date_to else None
    decision = promote(open_context("promote", args.workspace), args.force, args.input, first, last)
    verb = "promoted" if decision["promoted"] else "kept"
    print(f"{verb}: champion is now version {decision['champion']} ({decision['reason']}"
          f"{'; forced' if decision.get('forced') else ''})")
    return 0

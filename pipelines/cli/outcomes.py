"""shiprisk outcomes export|import: recorded inspection results out as an outcomes feed, or in from
a filled-in XLSX list.

    shiprisk outcomes export --workspace W --out ROOT [--date D | --from D1 --to D2]
    shiprisk outcomes import FILE.xlsx --workspace W --office O --date D [--user NAME]
"""
from __future__ import annotations


def register(parser):
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = sub.add_parser("export", help="write the recorded results in the contract's outcomes layout",
                            description="Write the current SEIZED and CLEAN results under ROOT/outcomes/date=D/ "
                                        "(D = inspection day), one day folder swapped in at a time.")
    export.add_argument("--workspace", required=True, help="workspace holding the results database")
    export.add_argument("--out", required=True, help="root to write (a folder of its own, not an input feed)")
    export.add_argument("--date", help="only results inspected on this day, YYYY-MM-DD")
    export.add_argument("--from", dest="date_from", help="first inspection day, YYYY-MM-DD (with --to)")
    export.add_argument("--to", dest="date_to", help="last inspection day, YYYY-MM-DD (with --from)")
    load = sub.add_parser("import", help="record the results of a filled-in XLSX list, all rows or none",
                          description="Read a filled-in XLSX list of one office and night and record its "
                                      "worked rows (non-empty Result); any bad row: nothing is loaded, exit 3.")
    load.add_argument("file", help="the filled-in .xlsx list")
    load.add_argument("--workspace", required=True, help="workspace holding the night's list and the results")
    load.add_argument("--office", required=True, help="customs office whose list this is")
    load.add_argument("--date", required=True, help="the night of the list, YYYY-MM-DD")
    load.add_argument("--user", help="who recorded the results (default: the login name)")


def run(args) -> int:
    from pipelines.io.context import open_context

    ctx = open_context("outcomes", args.workspace)
    return _export(ctx, args) if args.action == "export" else _import(ctx, args)


def _export(ctx, args) -> int:
    from pipelines.errors import UserError
    from pipelines.io.workspace import days_between, parse_day
    from pipelines.jobs.outcomes import export_outcomes

    if args.date and (args.date_from or args.date_to):
        raise UserError("give either --date or --from with --to, not both")
    if bool(args.date_from) != bool(args.date_to):
        raise UserError("--from and --to go together: give both, or --date for one day")
    first = last = None
    if args.date:
        first = last = parse_day(args.date)
    elif args.date_from:
        first, last = parse_day(args.date_from, "from"), parse_day(args.date_to, "to")
        days_between(first, last)  # a reversed range is a usage error before anything is written
    result = export_outcomes(ctx, args.out, first, last)
    if result["database"] is None:
        print(f"no results recorded in {ctx.workspace.root} (no results database): nothing written")
        return 0
    days = result["days"]
    for d in days:
        if d.rows:
            print(f"date={d.day}: {d.rows} result(s) ({d.seized} SEIZED, {d.clean} CLEAN) -> {d.folder}/")
        else:
            print(f"date={d.day}: no result left, folder removed: {d.folder}")
    total = sum(d.rows for d in days)
    print(f"exported {total} outcome row(s) in {sum(1 for d in days if d.rows)} day folder(s) under {args.out}; "
          f"{result['not_inspected']} NOT_INSPECTED result(s) have no outcome row; database {result['database']}")
    return 0


def _import(ctx, args) -> int:
    import getpass

    from pipelines.io.workspace import parse_day
    from pipelines.jobs.outcomes import XlsxRefused, import_results

    day = parse_day(args.date)
    user = args.user or getpass.getuser()
    try:
        result = import_results(ctx, args.file, args.office, day, user)
    except XlsxRefused as exc:
        print(f"nothing was loaded from {args.file}:")
        for p in exc.problems:
            print(f"  row {p.row}: {p.consignment or '(no consignment)'}: {p.problem}\n    what to do: {p.advice}")
        return exc.exit_code
    counts = ", ".join(f"{v} {k}" for k, v in result["by_result"].items())
    print(f"recorded {result['recorded']} result(s) for office {args.office}, night {day} as {user} "
          f"(channel xlsx): {counts}; {result['not_worked']} row(s) with an empty Result skipped as not yet worked")
    return 0

"""shiprisk share export|import: intelligence exchange with partner administrations.

    shiprisk share export --input R --workspace W --from D1 --to D2 [--source HK] --out DIR [--consignment ID]
    shiprisk share import DIR --source MO --intelligence-root R2
"""
from __future__ import annotations


def register(parser):
    sub = parser.add_subparsers(dest="share_command", metavar="ACTION", required=True)
    export = sub.add_parser("export", help="write a package of the period's seizures for partner administrations",
                            description="Proposed watch-list entries, route/hub/HS-group alerts and a bulletin from "
                                        "the seizures inspected in the period (feed outcomes and workbench results).")
    export.add_argument("--input", required=True, help="input root (DATA_CONTRACT.md): outcomes, manifests, declarations")
    export.add_argument("--workspace", required=True, help="workspace whose workbench results count as seizures too")
    export.add_argument("--from", dest="first", required=True, help="first inspection day of the period (YYYY-MM-DD)")
    export.add_argument("--to", dest="last", required=True, help="last inspection day of the period (YYYY-MM-DD)")
    export.add_argument("--source", help="this administration's source code (default: settings exchange.own_source)")
    export.add_argument("--out", required=True, help="package folder to write (new, or a package to replace)")
    export.add_argument("--consignment", help="fast path: the one-seizure package of this consignment")
    imp = sub.add_parser("import", help="verify packages and merge their entries into an intelligence snapshot",
                         description="Verify every digest, validate every row (bad rows quarantined), de-duplicate "
                                     "and write the snapshot atomically; packages already imported are skipped.")
    imp.add_argument("folder", metavar="DIR", help="a package, or a drop folder holding one sub-folder per package")
    imp.add_argument("--source", required=True, help="the partner the packages come from (HK, GD, MO, ...)")
    imp.add_argument("--intelligence-root", required=True,
                     help="input root whose intelligence/ snapshot receives the entries (local or shared disk)")


def run(args) -> int:
    from pipelines.io.context import open_context

    if args.share_command == "export":
        return _export(args, open_context)
    from pipelines.jobs.share import import_packages

    ctx = open_context("share import", args.intelligence_root)
    summary = import_packages(ctx, args.folder, args.source, args.intelligence_root)
    print(f"\nshiprisk share import finished in {ctx.progress.elapsed:.0f}s: {summary['packages']} package(s), "
          f"{len(summary['imported'])} imported, {len(summary['skipped'])} already imported")
    for p in summary["imported"]:
        where = f"; quarantined rows in {p['quarantine_file']}" if p["quarantine_file"] else ""
        print(f"  {p['package']}: {p['imported']} of {p['rows']} rows imported, {p['quarantined']} quarantined{where}")
    if summary["imported"]:
        print(f"  snapshot {summary['snapshot']}: {summary['rows']} rows ({summary['added']} added, "
              f"{summary['merged']} merged, {summary['unchanged']} already held)"
              + ("" if summary["written"] else "; unchanged, not rewritten"))
    return 0


def _export(args, open_context) -> int:
    from pipelines.io.workspace import days_between, parse_day
    from pipelines.jobs.share import export_package

    first, last = parse_day(args.first, "from"), parse_day(args.last, "to")
    days_between(first, last)  # an empty period is a user error, before Spark starts
    ctx = open_context("share export", args.workspace)
    source = args.source or ctx.settings["exchange"]["own_source"]
    s = export_package(ctx, args.input, first, last, source, args.out, args.consignment)
    print(f"\nshiprisk share export finished in {ctx.progress.elapsed:.0f}s")
    for key, value in (("package", s["package_id"]), ("folder", s["package"]), ("digest (manifest)", s["digest"]),
                       ("seizures", s["counts"]["seizures"]), ("entries", s["counts"]["entries"]),
                       ("alerts", s["counts"]["alerts"]), ("withheld", ", ".join(s["withheld_fields"]))):
        print(f"  {key:<20}{value}")
    return 0

"""`shiprisk share`: intelligence exchange with partner administrations.

export: the seizures of a period (the feed's outcomes and the results recorded in the
workspace's workbench) become a package of proposed watch-list entries, route/hub/HS-group
alerts and a bulletin (pipelines/exchange/). With a consignment id, the same code makes the
one-seizure package of the fast path.

import: packages are verified byte for byte before anything is read, their rows validated with
the intelligence suite, merged into the intelligence root's snapshot (received_on = the import
day) and written atomically; a package already imported is skipped by its digest.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.consignments import build_consignments
from pipelines.errors import UserError
from pipelines.exchange import alerts as al
from pipelines.exchange import package as pk
from pipelines.exchange import snapshot as sn
from pipelines.exchange.entries import ENTRY_COLUMNS, propose_entries, seizure_facts
from pipelines.exchange.inputs import check_package_rows, read_parsed, read_results
from pipelines.exchange.merge import CONTRACT, PROVENANCE, merge_entries
from pipelines.exchange.policy import ExchangePolicy, check_source, load_policy
from pipelines.io.context import RunContext
from pipelines.io.publish import publish_dir
from pipelines.io.workspace import days_between

# What the entries and the alerts read of a consignment (the rest of build_consignments is not cached).
KEPT_COLUMNS = ("consignment_id", "lodged_date", "exporter_id", "consignor_id", "consignee_id", "forwarder_id",
                "declarant_id", "destination_country", "consignee_country", "port_of_loading", "route_ports",
                "port_of_discharge", "declaration_type", "hs_codes", "main_hs_code", "brands")


def local_today(settings: dict) -> dt.date:
    """Today in the feeds' time zone: the day lodging dates are counted in."""
    return dt.datetime.now(ZoneInfo(settings["validation"]["feed_timezone"])).date()


def _recorded_results(ctx: RunContext) -> list[dict]:
    """The workbench's current results, if this workspace has a results database at all."""
    from pipelines.workbench.store import ResultStore

    store = ResultStore.existing(ctx.workspace, ctx.settings)
    return store.current() if store is not None else []


def _consignments(ctx: RunContext, input_root: str, days: list[str], only: str | None) -> DataFrame:
    vcfg = ctx.settings["validation"]
    manifests = read_parsed(ctx.spark, input_root, "manifests", days, vcfg)
    declarations = read_parsed(ctx.spark, input_root, "declarations", days, vcfg)
    if only is not None:
        manifests = manifests.where(F.col("consignment_id") == F.lit(only))
        declarations = declarations.where(F.col("consignment_id") == F.lit(only))
    # A repeated consignment_id is quarantined by validation: keep consignments with one manifest row.
    single = manifests.groupBy("consignment_id").agg(F.count(F.lit(1)).alias("_n")).where(F.col("_n") == 1)
    manifests = manifests.join(single.select("consignment_id"), on="consignment_id", how="inner")
    built = build_consignments(manifests, declarations, None, ctx.settings["features"]["fx_fallback_hkd_per_unit"],
                               units=ctx.reference["units"])
    return built.select(*KEPT_COLUMNS)


def _alerts(ctx: RunContext, consignments: DataFrame, results: DataFrame, first: dt.date, last: dt.date,
            policy: ExchangePolicy):
    from pipelines.outputs.trends import with_inspection_flags

    in_period = consignments.where(F.col("lodged_date").between(F.lit(first), F.lit(last)))
    keys = al.alert_keys(in_period, ctx.reference)
    labels = results.select("consignment_id", (F.col("result") == "SEIZED").cast("int").alias("label"))
    flagged = with_inspection_flags(keys, labels, list(al.DIMENSIONS)).cache()
    try:
        return al.find_alerts(flagged, first, last, policy.alerts)
    finally:
        flagged.unpersist()


def _check_out(out: str) -> Path:
    target = Path(out).resolve()
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / pk.MANIFEST).exists())):
        raise UserError(f"--out {target} exists and is not an intelligence package; give a new folder (a drop folder "
                        "holds one sub-folder per package)")
    return target


def export_package(ctx: RunContext, input_root: str, first: dt.date, last: dt.date, source: str, out: str,
                   consignment: str | None = None) -> dict:
    """Write the package of the seizures inspected in [first, last] (or of one consignment's seizure)."""
    import pandas as pd

    policy, progress = load_policy(ctx.settings), ctx.progress
    source, target = check_source(source), _check_out(out)
    lookback = dt.timedelta(days=policy.seizure_lookback_days)
    with progress.stage("read results of the period (feed and workbench)"):
        results = read_results(ctx.spark, input_root, days_between(first, last), ctx.settings["validation"],
                               _recorded_results(ctx))
        if consignment is not None:
            results = results.where(F.col("consignment_id") == F.lit(consignment))
        results = results.cache()
        seized = results.where(F.col("result") == "SEIZED")
        n_seizures = seized.count()
    if consignment is not None and n_seizures == 0:
        raise UserError(f"no seizure of consignment {consignment} inspected in {first}..{last} (feed outcomes or "
                        "workbench results): record it first, or check the id and the period")
    with progress.stage("read manifests and declarations"):
        consignments = _consignments(ctx, input_root, days_between(first - lookback, last), consignment).cache()
    with progress.stage("propose watch-list entries"):
        entries = propose_entries(seizure_facts(consignments, seized), policy, source).toPandas()  # one row per party
    if consignment is None:
        with progress.stage("find route, hub and HS-group alerts"):
            alerts = _alerts(ctx, consignments, results, first, last, policy)
    else:
        alerts = pd.DataFrame(columns=al.ALERT_COLUMNS)
    consignments.unpersist()
    results.unpersist()
    with progress.stage(f"write the package to {target}"):
        manifest = _write(ctx, target, entries, alerts, (source, first, last, consignment, n_seizures), policy)
    return {"package": str(target), **manifest}


def _text(value) -> str | None:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _write(ctx: RunContext, target: Path, entries, alerts, facts: tuple, policy: ExchangePolicy) -> dict:
    source, first, last, consignment, n_seizures = facts
    entry_bytes = pk.csv_bytes(list(ENTRY_COLUMNS), [[_text(v) for v in row] for row in
                                                     entries[list(ENTRY_COLUMNS)].itertuples(index=False)])
    alert_bytes = pk.csv_bytes(al.ALERT_COLUMNS, [[_text(v) for v in row] for row in
                                                  alerts[al.ALERT_COLUMNS].itertuples(index=False)])
    content = pk.sha256_bytes(entry_bytes + alert_bytes)[:10]
    scope = "one seizure" if consignment else "period"
    package_id = f"{source}-{first:%Y%m%d}-{last:%Y%m%d}-{'one-' if consignment else ''}{content}"
    withheld = sorted({*policy.withheld, "consignment_id", "declared_value", "goods_description"})
    by_role = {str(k): int(v) for k, v in entries["entity_type"].value_counts().sort_index().items()}
    meta = {
        "package_id": package_id, "source": source,
        "source_name": ctx.settings["exchange"]["source_names"].get(source, source),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "scope": scope,
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "counts": {"seizures": n_seizures, "entries": len(entries), "entries_by_role": by_role, "alerts": len(alerts)},
        "withheld_fields": withheld, "shared_fields": policy.shared_fields,
        "expiry_days": policy.expiry_days,
    }
    overview = [("package", package_id), ("source", f"{source} ({meta['source_name']})"), ("scope", scope),
                ("period (inspection days)", f"{first}..{last}"), ("seizures", str(n_seizures)),
                ("proposed entries", str(len(entries))), ("alerts", str(len(alerts))),
                ("made (UTC)", meta["created_at"])]
    bulletin = al.render_bulletin(overview, entries.astype(object).where(entries.notna(), None), alerts, source,
                                  withheld)
    files = {pk.ENTRIES: entry_bytes, pk.ALERTS: alert_bytes, pk.BULLETIN: bulletin.encode("utf-8")}
    with publish_dir(target) as folder:
        digest = pk.write_package(Path(folder), files, meta)
    return {**meta, "digest": digest}


def find_packages(folder: str) -> list[Path]:
    """The package at `folder`, or the packages in it (a drop folder: one sub-folder each)."""
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"{folder} is not a folder: give a package or a drop folder of packages")
    if (root / pk.MANIFEST).exists() or (root / pk.MANIFEST_DIGEST).exists():
        return [root]
    found = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return [p for p in found if (p / pk.MANIFEST).exists() or (p / pk.MANIFEST_DIGEST).exists()]


def import_packages(ctx: RunContext, folder: str, source: str, intelligence_root: str,
                    today: dt.date | None = None) -> dict:
    """Verify, validate, merge and write; see the module docstring. Returns the run's counts."""
    policy, progress = load_policy(ctx.settings), ctx.progress
    source = check_source(source)
    if source == policy.own_source:
        raise UserError(f"--source {source} is this administration's own code (exchange.own_source): a partner's "
                        "package is imported under the partner's code")
    today = today or local_today(ctx.settings)
    root = sn.IntelligenceRoot(intelligence_root)
    packages = find_packages(folder)
    with root.lock():
        ledger = read_ledger_checked(root)
        fresh, skipped = [], []
        with progress.stage(f"verify {len(packages)} package(s)"):
            for path in packages:  # every byte of every package checks out before anything is written
                manifest, digest = pk.verify_package(path)
                if manifest.get("source") != source:
                    raise pk.PackageError(f"{path / pk.MANIFEST}: the package comes from {manifest.get('source')!r}, "
                                          f"not --source {source}: refused, nothing imported")
                if digest in ledger or any(digest == d for _, _, d in fresh):
                    skipped.append(path.name)
                else:
                    fresh.append((path, manifest, digest))
        summary = {"packages": len(packages), "skipped": skipped, "imported": [], "snapshot": str(root.snapshot)}
        if fresh:
            _merge_fresh(ctx, root, fresh, (source, today), (ledger, summary))
    return summary


def read_ledger_checked(root: sn.IntelligenceRoot) -> dict:
    try:
        return sn.read_ledger(root)
    except ValueError as exc:
        raise UserError(f"{root.ledger} is not JSON ({exc}); restore it from backup or remove it (imports are "
                        "idempotent: re-importing the drop folder rebuilds it)") from exc


def _merge_fresh(ctx: RunContext, root: sn.IntelligenceRoot, fresh: list, who: tuple, records: tuple) -> None:
    (source, today), (ledger, summary) = who, records
    with ctx.progress.stage("validate the packages' rows"):
        checked = [(path, manifest, digest, check_package_rows(ctx.spark, str(path), ctx.settings["validation"], source))
                   for path, manifest, digest in fresh]
    with ctx.progress.stage("merge into the snapshot"):
        held, columns, files = sn.read_held(root)
        before = [dict(r) for r in held]
        rows, counts = held, {"added": 0, "merged": 0, "unchanged": 0}
        for path, manifest, digest, package_rows in checked:
            stamp = f"{source}:{manifest.get('package_id', path.name)}:{digest[:12]}"
            good = [{**{c: r[c] for c in CONTRACT}, "received_on": today.isoformat(), PROVENANCE: stamp}
                    for r in package_rows if not r["reasons"]]
            bad = [{**{c: r[c] for c in CONTRACT}, "reasons": ";".join(r["reasons"]), "package": stamp}
                   for r in package_rows if r["reasons"]]
            rows, added = merge_entries(rows, good)
            counts = {k: counts[k] + added[k] for k in counts}
            quarantined = str(sn.write_quarantined(root, digest, bad, [*CONTRACT, "reasons", "package"])) if bad else None
            ledger[digest] = {"package_id": manifest.get("package_id"), "source": source, "imported_on": today.isoformat(),
                              "rows": len(package_rows), "imported": len(good), "quarantined": len(bad),
                              "quarantine_file": quarantined, "folder": str(path)}
            summary["imported"].append({"package": path.name, "digest": digest, **ledger[digest]})
    changed = rows != before or not files or [p.name for p in files] != [sn.SNAPSHOT_FILE]
    with ctx.progress.stage(f"write {root.snapshot}"):
        if changed:
            sn.write_snapshot(root, rows, columns, files)
        sn.write_ledger(root, ledger)
    summary.update(counts, rows=len(rows), written=changed)

"""What the exchange reads: contract rows that pass their expectation suite (the same row
conditions as validation, nothing written), the seizures of a period from the feed and the
inspector workbench, and the rows of a received package with every reason a row is refused."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from pipelines.io.readers import CORRUPT_RECORD, PARTITION_DATE, read_raw, to_typed
from pipelines.io.settings import conf_root
from pipelines.validation import quarantine as q
from pipelines.validation.contract import DATASETS
from pipelines.validation.expectations import failure_condition, load_suites
from pipelines.validation.outcomes import read_valid_outcomes

SEIZURE_SCHEMA = ("consignment_id string, inspected_on date, result string, seized_items long, "
                  "seized_value_hkd double, brands_found string, recorded int")
# Reasons the exchange adds to the intelligence suite's (REASON_CODES has the suite's).
EXCHANGE_REASONS = {
    "SOURCE_MISMATCH": "the row's source is not the administration the package came from",
    "EXPIRES_BEFORE_LISTED": "expires_on is before listed_on",
}


def _suite_conditions(vcfg: dict, name: str) -> list:
    suite = load_suites(conf_root() / vcfg["suites_dir"], [name])[name]
    return [(failure_condition(e), e["meta"]["reason"]) for e in suite]


def read_parsed(spark: SparkSession, root: str, name: str, days: list[str], vcfg: dict) -> DataFrame:
    """Typed rows of a partitioned dataset, with partition_date (DATE), leaving out the lines that
    do not parse and rows without a consignment_id. Not the full suite: these days were validated
    by their nightly runs, and the suite's row conditions cost a minute of code generation here."""
    raw = read_raw(spark, root, name, days, timezone=vcfg["feed_timezone"])
    parsed = raw.where(F.col(CORRUPT_RECORD).isNull() & F.col("consignment_id").isNotNull())
    typed = to_typed(parsed, name, keep_lineage=True)
    return typed.select(*DATASETS[name].column_names, F.col(PARTITION_DATE).cast("date").alias("partition_date"))


def read_results(spark: SparkSession, input_root: str, days: list[str], vcfg: dict, recorded: list[dict]) -> DataFrame:
    """SEIZURE_SCHEMA rows: the latest result of each consignment inspected on `days`, from the
    feed's outcomes and the workbench's recorded results (the workbench wins a tie: it is the
    inspector's own record). recorded: ResultStore.current() rows."""
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    feed = read_valid_outcomes(spark, input_root, days, vcfg, last).select(
        "consignment_id", "inspected_on", "result", F.col("seized_items").cast("long"),
        F.col("seized_value_hkd").cast("double"), F.lit(None).cast("string").alias("brands_found"),
        F.lit(0).alias("recorded"))
    rows = [(r["consignment_id"], dt.date.fromisoformat(r["inspected_on"]), r["result"], r["seized_items"],
             r["seized_value_hkd"], r["brands_found"], 1)
            for r in recorded if r["result"] in ("SEIZED", "CLEAN") and r.get("inspected_on")
            and first <= dt.date.fromisoformat(r["inspected_on"]) <= last]
    both = feed.unionByName(spark.createDataFrame(rows, SEIZURE_SCHEMA))
    latest_first = Window.partitionBy("consignment_id").orderBy(F.col("inspected_on").desc(), F.col("recorded").desc())
    ranked = both.select("*", F.row_number().over(latest_first).alias("_order"))
    return ranked.where(F.col("_order") == 1).select(*[c.split()[0] for c in SEIZURE_SCHEMA.split(", ")])


def check_package_rows(spark: SparkSession, package: str, vcfg: dict, source: str) -> list[dict]:
    """Every row of a package's intelligence/ files as text, with `reasons` (empty: valid): the
    intelligence suite, a malformed line, and the exchange's own checks (EXCHANGE_REASONS)."""
    dataset = DATASETS["intelligence"]
    checked = q.build_check_frame(read_raw(spark, package, "intelligence", timezone=vcfg["feed_timezone"]), dataset)
    own = q.own_reasons(_suite_conditions(vcfg, "intelligence"), dataset)
    parsed = F.col("listed_on__parses") & F.col("expires_on__parses")
    extra = F.array_compact(F.array(
        F.when(F.col("source").isNotNull() & (F.col("source") != F.lit(source)), F.lit("SOURCE_MISMATCH")),
        F.when(parsed & (F.col("expires_on") < F.col("listed_on")), F.lit("EXPIRES_BEFORE_LISTED"))))
    reasons = F.array_sort(F.array_distinct(F.concat(own, extra)))
    rows = checked.select(*dataset.column_names, F.col(q.ROW_ID), reasons.alias("reasons")).orderBy(q.ROW_ID)
    # A package is a day's or one seizure's entries: small by construction.
    return [{**{c: r[c] or "" for c in dataset.column_names}, "reasons": list(r["reasons"])} for r in rows.collect()]

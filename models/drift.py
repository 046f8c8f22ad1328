"""Population stability index (PSI) of features and scores against the training data.

The reference is profiled once at training time (bin edges from quantiles, share of rows in
each bin, most frequent categories) and stored with the model; each night one Spark
aggregation measures the day in the same bins.
"""
from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

_EPS = 1e-4  # floor for empty bins, so PSI stays finite
MISSING = "__missing__"
OTHER = "__other__"


def _bin_index(name: str, edges: list[float]) -> Column:
    """0 .. len(edges): the bin of column `name`, the first edge it does not exceed; null or NaN -> -1.

    Written as one SQL expression: built from Column calls (one `when` per edge), each call a round
    trip to the JVM, the bins of a hundred features took seconds to build every night."""
    value = f"CAST(`{name.replace('`', '``')}` AS DOUBLE)"
    steps = " ".join(f"WHEN {value} <= {_double_sql(e)} THEN {i}" for i, e in enumerate(edges))
    return F.expr(f"CASE WHEN {value} IS NULL OR isnan({value}) THEN -1 {steps} ELSE {len(edges)} END")


def _double_sql(x: float) -> str:
    """A double as a Spark SQL literal that reads back as the same value (repr round-trips)."""
    x = float(x)
    return f"{x!r}D" if math.isfinite(x) else f"CAST('{x!r}' AS DOUBLE)"


def _category_index(col: Column, cats: list[str]) -> Column:
    """0 .. len(cats)-1 for a listed category, len(cats) for any other, -1 for null."""
    if not cats:
        return F.when(col.isNull(), F.lit(-1)).otherwise(F.lit(0))
    position = F.array_position(F.lit([str(c) for c in cats]), col)  # 1-based, 0 when absent
    return F.when(col.isNull(), F.lit(-1)).when(position == 0, F.lit(len(cats))).otherwise(position - 1)


def _bin_counts(df: DataFrame, indexes: dict[str, Column], sizes: dict[str, int]) -> tuple[int, dict[str, list[int]]]:
    """Rows, and per column the count of rows in each index -1 .. sizes[name]-2.

    One (column, index) pair per row and column, counted by one grouping: a plan of a few
    operators whatever the number of features, where one aggregate of ~2,000 conditional
    counts took seconds to plan even on a few rows and a fifth of a large night to run.
    """
    if not indexes:
        return 0, {}
    names = list(indexes)
    pairs = df.select(F.inline(F.array(*[F.struct(F.lit(j).alias("column"), indexes[n].cast("int").alias("index"))
                                         for j, n in enumerate(names)])))
    counts = {n: [0] * sizes[n] for n in names}
    for row in pairs.groupBy("column", "index").count().collect():  # at most sum(sizes) rows
        counts[names[row["column"]]][row["index"] + 1] = row["count"]
    # Every row has exactly one index per column.
    return sum(counts[names[0]]), counts


def _numeric_shares(df: DataFrame, columns: dict[str, list[float]]) -> dict[str, list[float]]:
    """Per column, the share of rows that are null, then in each bin between `edges`."""
    indexes = {name: _bin_index(name, edges) for name, edges in columns.items()}
    n, counts = _bin_counts(df, indexes, {name: len(edges) + 2 for name, edges in columns.items()})
    return {name: [c / max(n, 1) for c in counts[name]] for name in columns}


def _categorical_shares(df: DataFrame, columns: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Per column, the share of rows in each listed category, missing, and any other."""
    indexes = {name: _category_index(F.col(name).cast("string"), cats) for name, cats in columns.items()}
    n, counts = _bin_counts(df, indexes, {name: len(cats) + 2 for name, cats in columns.items()})
    out = {}
    for name, cats in columns.items():
        missing, *listed, other = [c / max(n, 1) for c in counts[name]]
        out[name] = {**dict(zip(cats, listed)), MISSING: missing, OTHER: other}
    return out


def _top_categories(df: DataFrame, columns: list[str], top: int) -> dict[str, list[str]]:
    """The `top` most frequent values of each column (ties by value), null not listed."""
    if not columns:
        return {}
    pairs = df.select(F.inline(F.array(*[F.struct(F.lit(j).alias("column"), F.col(c).cast("string").alias("value"))
                                         for j, c in enumerate(columns)])))
    counted = pairs.groupBy("column", "value").count()
    order = Window.partitionBy("column").orderBy(F.desc("count"), F.col("value").asc_nulls_first())
    ranked = counted.withColumn("rank", F.row_number().over(order)).where(F.col("rank") <= top)
    found: dict[str, list[tuple[int, str]]] = {c: [] for c in columns}
    for row in ranked.collect():  # at most top x columns rows
        found[columns[row["column"]]].append((row["rank"], row["value"]))
    return {c: [v for _, v in sorted(found[c]) if v is not None] for c in columns}


def profile_reference(df: DataFrame, numeric: list[str], categorical: list[str], bins: int = 10, top: int = 20) -> dict:
    """Bin edges and shares of each feature (and `score` if present) over a reference frame."""
    quantiles = [i / bins for i in range(1, bins)]
    numeric = [c for c in numeric if c in df.columns]
    edges = {}
    if numeric:
        found = df.select(*[F.col(c).cast("double").alias(c) for c in numeric]).approxQuantile(numeric, quantiles, 0.001)
        edges = {c: sorted(set(e for e in q if e is not None and not math.isnan(e))) for c, q in zip(numeric, found)}
    cats = _top_categories(df, [c for c in categorical if c in df.columns], top)
    return {
        "numeric": {c: {"edges": e, "shares": s} for (c, e), s in zip(edges.items(), _numeric_shares(df, edges).values())},
        "categorical": {c: {"categories": cats[c], "shares": s} for c, s in _categorical_shares(df, cats).items()},
    }


def psi(expected: list[float], actual: list[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual):
        e, a = max(e, _EPS), max(a, _EPS)
        total += (a - e) * math.log(a / e)
    return total


def drift_against(reference: dict, df: DataFrame) -> dict[str, float]:
    """PSI per feature of `df` against a `profile_reference` result."""
    num = {c: r["edges"] for c, r in reference.get("numeric", {}).items() if c in df.columns}
    cat = {c: r["categories"] for c, r in reference.get("categorical", {}).items() if c in df.columns}
    actual_num, actual_cat = _numeric_shares(df, num), _categorical_shares(df, cat)
    result = {c: psi(reference["numeric"][c]["shares"], s) for c, s in actual_num.items()}
    for c, shares in actual_cat.items():
        expected = reference["categorical"][c]["shares"]
        keys = sorted(set(expected) | set(shares))
        result[c] = psi([expected.get(k, 0.0) for k in keys], [shares.get(k, 0.0) for k in keys])
    return result

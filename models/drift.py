"""Population stability index (PSI) of features and scores against the training data.

The reference is profiled once at training time (bin edges from quantiles, share of rows in
each bin, most frequent categories) and stored with the model; each night one Spark
aggregation measures the day in the same bins.
"""
from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

_EPS = 1e-4  # floor for empty bins, so PSI stays finite
MISSING = "__missing__"
OTHER = "__other__"


def _bin_index(col: Column, edges: list[float]) -> Column:
    """0 .. len(edges): the bin of a value between the inner edges; null -> -1."""
    expr = F.when(col.isNull() | F.isnan(col), F.lit(-1))
    for i, edge in enumerate(edges):
        expr = expr.when(col <= F.lit(edge), F.lit(i))
    return expr.otherwise(F.lit(len(edges)))


def _numeric_shares(df: DataFrame, columns: dict[str, list[float]]) -> dict[str, list[float]]:
    aggs = []
    for name, edges in columns.items():
        index = _bin_index(F.col(name).cast("double"), edges)
        aggs += [F.sum(F.when(index == i, 1).otherwise(0)).alias(f"{name}__{i}") for i in range(-1, len(edges) + 1)]
    if not aggs:
        return {}
    row = df.agg(F.count(F.lit(1)).alias("__n"), *aggs).first().asDict()
    n = max(row.pop("__n"), 1)
    return {name: [row[f"{name}__{i}"] / n for i in range(-1, len(edges) + 1)] for name, edges in columns.items()}


def _categorical_shares(df: DataFrame, columns: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    aggs = []
    for name, cats in columns.items():
        col = F.col(name).cast("string")
        aggs.append(F.sum(F.when(col.isNull(), 1).otherwise(0)).alias(f"{name}__{MISSING}"))
        aggs += [F.sum(F.when(col == F.lit(c), 1).otherwise(0)).alias(f"{name}__c{i}") for i, c in enumerate(cats)]
    if not aggs:
        return {}
    row = df.agg(F.count(F.lit(1)).alias("__n"), *aggs).first().asDict()
    n = max(row["__n"], 1)
    out = {}
    for name, cats in columns.items():
        shares = {c: row[f"{name}__c{i}"] / n for i, c in enumerate(cats)}
        shares[MISSING] = row[f"{name}__{MISSING}"] / n
        shares[OTHER] = max(0.0, 1.0 - sum(shares.values()))
        out[name] = shares
    return out


def profile_reference(df: DataFrame, numeric: list[str], categorical: list[str], bins: int = 10, top: int = 20) -> dict:
    """Bin edges and shares of each feature (and `score` if present) over a reference frame."""
    quantiles = [i / bins for i in range(1, bins)]
    numeric = [c for c in numeric if c in df.columns]
    edges = {}
    if numeric:
        found = df.select(*[F.col(c).cast("double").alias(c) for c in numeric]).approxQuantile(numeric, quantiles, 0.001)
        edges = {c: sorted(set(e for e in q if e is not None and not math.isnan(e))) for c, q in zip(numeric, found)}
    cats = {}
    for name in [c for c in categorical if c in df.columns]:
        rows = df.groupBy(name).count().orderBy(F.desc("count"), F.col(name)).limit(top).collect()
        cats[name] = [r[name] for r in rows if r[name] is not None]
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

"""Plain-language reasons with the values behind them, built from Spark built-ins (no UDF).

Sources, in order: why a row was picked if not for risk (RANDOM, EXPLORATION), the profiles
that hit it, then the model's attribution (`top_contributions`, the positive SHAP
contributions, largest first) rendered with a template per feature, then the score itself.
Only contributions that push the score up become reasons. At most `max_reasons` distinct
reasons are kept.

Templates (conf/base/reasons.yaml) are text with `{column}` placeholders, formatted safely:
no eval, only a closed set of formats (`{x:,.0f}`, `{x:.2f}`) and filters (see FILTERS):
`lower`, `upper`, `words` ("BELT_AND_ROAD" -> "belt and road"), `num` (at most two decimals, none
for a whole number), `hub` ("NONE" -> "direct", else "via <hub>"), `list` ("A;B;C" -> "A, B and C"), `via` (the same with "via ", or
"direct" when empty), `days_ago` (0 -> "today"), `source` (a watch-list source code -> its
readable name), `typical` (the typical range of that column, e.g. "1-2") and `vs_all` (for a
category: "average a score of 0.041 tonight against 0.012 overall", the mean score of the
night's consignments with that value against all of them). Array columns
are joined with ";" first, so a list never prints as "[]". Inside feature templates `{value}`,
`{feature}` and `{meaning}` refer to the contribution. If a value a template needs is missing,
the generic template is used instead, so a reason never shows a blank.

A feature template is text, or a mapping with `text` and one condition that says when the
value is worth telling (else the contribution gives no reason at all):
- `unusual: {column: c, side: high|low|either}`: c lies outside its typical range on that side;
- `present: c`: c is set (not null, 0, empty or NONE);
- `riskier: c`: the night's consignments with this row's value of c score higher on average than
  all of them (a category that raises the score says why: its consignments are riskier).
A key holding `<role>` stands for one template per party role (exporter, consignor, ...),
`<role>` replaced in the key and the text alike.

The typical ranges, category scores and source names come from the caller (`context`): this
module reads no file. `typical_ranges` computes the ranges as quantiles of columns over a frame
and `category_scores` the mean score per value of categorical columns (the night uses the day's
scored consignments for both).
"""
from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from features.parties import PARTY_ROLES
from pipelines.errors import UserError

CONTRIBUTION_FIELDS = ("value", "feature", "meaning")
ROLE_MACRO = "<role>"
ROLES = tuple(PARTY_ROLES)
SIDES = ("high", "low", "either")
DEFAULT_TEMPLATES = {
    "max_reasons": 3,
    "typical_quantiles": [0.25, 0.75],
    "generic": "{meaning}: {value|num}",
    "basis": {"RANDOM": "chosen at random for the control sample, not for risk",
              "EXPLORATION": "chosen to check a consignment the model is unsure about (score {score_adjusted:.2f})",
              "MODEL": "risk score {score_adjusted:.2f}"},
    "features": {},
}
_NUMBER_SPEC = re.compile(r"^,?\.\df$")
_CONTEXT_FILTERS = ("typical", "source", "vs_all")


def _and_list(col: Column) -> Column:
    """"AEJEA;GRPIR;NLRTM" -> "AEJEA, GRPIR and NLRTM"; empty -> null (the template then falls back)."""
    last_joined = F.regexp_replace(col, r";([^;]*)$", " and $1")
    return F.when(F.trim(col) == "", F.lit(None)).otherwise(F.regexp_replace(last_joined, ";", ", "))


def _via(col: Column) -> Column:
    is_direct = col.isNull() | (F.trim(col) == F.lit(""))
    return F.when(is_direct, F.lit("direct")).otherwise(F.concat(F.lit("via "), _and_list(col)))


def _num(col: Column) -> Column:
    """8.0 -> "8", 2877 -> "2,877", 12.90 -> "12.9", 0.125 -> "0.13": at most two decimals, no trailing zeros."""
    two = F.format_string("%,.2f", col.cast("double"))
    return F.regexp_replace(F.regexp_replace(two, "0+$", ""), "[.]$", "")


def _days_ago(col: Column) -> Column:
    d = col.cast("long")
    return (F.when(d == 0, F.lit("today")).when(d == 1, F.lit("1 day ago"))
            .otherwise(F.concat(d.cast("string"), F.lit(" days ago"))))


FILTERS: dict[str, Callable[[Column], Column]] = {
    "lower": F.lower, "upper": F.upper, "list": _and_list, "via": _via, "num": _num, "days_ago": _days_ago,
    "words": lambda c: F.lower(F.regexp_replace(c, "_", " ")),
    "hub": lambda c: F.when(F.upper(c) == F.lit("NONE"), F.lit("direct")).otherwise(F.concat(F.lit("via "), c)),
}
FILTER_NAMES = sorted([*FILTERS, *_CONTEXT_FILTERS])


def number_text(x: float) -> str:
    """A number as an inspector reads it: 2 -> "2", 2877.0 -> "2,877", 1.234 -> "1.23"."""
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x)):,}"
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.1f}" if abs(x) >= 1 else f"{x:.2f}"


def range_text(low: float, high: float) -> str:
    """"1-2", or "1" when both ends agree; " to " when a sign would make "-" ambiguous."""
    a, b = number_text(low), number_text(high)
    if a == b:
        return a
    return f"{a} to {b}" if min(low, high) < 0 else f"{a}-{b}"


def typical_ranges(df: DataFrame, columns: Iterable[str], quantiles: Iterable[float]) -> dict[str, tuple[float, float]]:
    """column -> (low, high) quantiles over df's rows (one aggregation, one row to the driver);
    columns df lacks or that are null throughout are left out."""
    low, high = (float(q) for q in quantiles)
    wanted = sorted(c for c in set(columns) if c in df.columns)
    if not wanted:
        return {}
    aggs = [F.percentile_approx(F.col(c).cast("double"), [low, high], 1000).alias(c) for c in wanted]
    row = df.agg(*aggs).first()
    return {c: (float(row[c][0]), float(row[c][1])) for c in wanted if row[c] is not None and None not in row[c]}


def category_scores(df: DataFrame, columns: Iterable[str], score: str = "score_adjusted") -> dict[str, Any]:
    """{"overall": mean score, "by": {column: {value: mean score}}} over df's rows; one grouping,
    one row per (column, value) to the driver (categories are few)."""
    wanted = sorted(c for c in set(columns) if c in df.columns)
    overall = df.agg(F.avg(F.col(score))).first()[0]
    if not wanted or overall is None:
        return {"overall": overall, "by": {}}
    pairs = F.explode(F.array(*[F.struct(F.lit(c).alias("column"), F.col(c).cast("string").alias("value"))
                                for c in wanted]))
    exploded = df.select(F.col(score).alias("score"), pairs.alias("p")).where(F.col("p.value").isNotNull())
    rows = exploded.groupBy(F.col("p.column").alias("column"), F.col("p.value").alias("value")).agg(
        F.avg("score").alias("mean")).collect()
    by: dict[str, dict[str, float]] = {c: {} for c in wanted}
    for r in rows:
        by[r["column"]][r["value"]] = float(r["mean"])
    return {"overall": float(overall), "by": by}


def _vs_all(name: str, col: Column, context: Mapping[str, Any]) -> Column:
    scores = context.get("category_scores") or {}
    by, overall = (scores.get("by") or {}).get(name), scores.get("overall")
    if not by or overall is None:
        return F.lit(None).cast("string")
    text = {v: f"average a score of {m:.3f} tonight against {overall:.3f} overall" for v, m in sorted(by.items())}
    return F.try_element_at(F.create_map(*[F.lit(x) for pair in text.items() for x in pair]), col.cast("string"))


def _fields(template: str, where: str) -> list[tuple[str, str | None, str, str]]:
    """(literal, column, format spec, filter) pieces; raises on anything outside the small language."""
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UserError(f"reason template {where}: {exc}; fix conf/base/reasons.yaml") from None
    out = []
    for literal, field, spec, conversion in pieces:
        if field is None:
            out.append((literal, None, "", ""))
            continue
        name, _, filt = field.partition("|")
        if conversion or (spec and not _NUMBER_SPEC.match(spec)) or (filt and filt not in FILTER_NAMES) or not name:
            raise UserError(f"reason template {where}: placeholder {{{field}}} is not allowed; use {{column}}, "
                            f"{{column:,.0f}}, {{column:.2f}} or a filter {FILTER_NAMES}; fix conf/base/reasons.yaml")
        out.append((literal, name, spec, filt))
    return out


def render(template: str, resolve: Callable[[str], Column], where: str = "",
           context: Mapping[str, Any] | None = None) -> Column:
    """The template as a string column; null if any value it needs is null."""
    context = context or {}
    parts: list[Column] = []
    for literal, name, spec, filt in _fields(template, where):
        if literal:
            parts.append(F.lit(literal))
        if name is None:
            continue
        if filt == "typical":
            typical = (context.get("typical") or {}).get(name)
            parts.append(F.lit(range_text(*typical) if typical else None).cast("string"))
            continue
        col = resolve(name)
        if spec:
            col = F.when(col.isNull(), F.lit(None)).otherwise(F.format_string("%" + spec, col.cast("double")))
        elif filt == "vs_all":
            col = _vs_all(name, col, context)
        elif filt == "source":
            names = context.get("source_names") or {}
            pairs = [F.lit(str(x)) for code, name_ in sorted(names.items()) for x in (code, name_)]
            col = F.coalesce(F.try_element_at(F.create_map(*pairs), col), col) if pairs else col
        else:
            col = col.cast("string")
        parts.append(FILTERS[filt](col) if filt in FILTERS else col)
    return F.concat(*parts) if parts else F.lit(None).cast("string")


def _expand_roles(features: Mapping[str, Any]) -> dict[str, Any]:
    """`<role>` keys -> one entry per party role, the macro replaced in the text and condition too."""
    out: dict[str, Any] = {}
    for key, entry in features.items():
        if ROLE_MACRO not in key:
            out[key] = entry
            continue
        for role in ROLES:
            out[key.replace(ROLE_MACRO, role)] = _replace_deep(entry, role)
    return out


def _replace_deep(entry: Any, role: str) -> Any:
    if isinstance(entry, str):
        return entry.replace(ROLE_MACRO, role)
    if isinstance(entry, Mapping):
        return {k: _replace_deep(v, role) for k, v in entry.items()}
    return entry


def _merged(templates: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**DEFAULT_TEMPLATES, **templates}
    merged["basis"] = {**DEFAULT_TEMPLATES["basis"], **(templates.get("basis") or {})}
    merged["features"] = _expand_roles(dict(templates.get("features") or {}))
    return merged


def feature_templates(templates: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """feature -> {text, unusual, present}, role macros expanded, plain strings as {text}."""
    out = {}
    for feature, entry in _merged(templates)["features"].items():
        entry = {"text": entry} if isinstance(entry, str) else dict(entry or {})
        out[feature] = {"text": str(entry.get("text", "")), "unusual": entry.get("unusual"),
                        "present": entry.get("present"), "riskier": entry.get("riskier"), "_keys": sorted(entry)}
    return out


def typical_columns(templates: Mapping[str, Any]) -> set[str]:
    """Columns whose typical range the templates use (`|typical` or an `unusual` condition)."""
    merged = _merged(templates)
    texts = [str(t) for t in merged["basis"].values()] + [str(merged["generic"])]
    wanted: set[str] = set()
    for spec in feature_templates(templates).values():
        texts.append(spec["text"])
        if isinstance(spec["unusual"], Mapping) and spec["unusual"].get("column"):
            wanted.add(str(spec["unusual"]["column"]))
    for text in texts:
        wanted |= {name for _, name, _, filt in _fields(text, "") if name and filt == "typical"}
    return wanted


def category_columns(templates: Mapping[str, Any]) -> set[str]:
    """Columns whose per-value mean score the templates use (`|vs_all` or a `riskier` condition)."""
    wanted = {str(spec["riskier"]) for spec in feature_templates(templates).values() if spec["riskier"]}
    for spec in feature_templates(templates).values():
        wanted |= {name for _, name, _, filt in _fields(spec["text"], "") if name and filt == "vs_all"}
    return wanted


def check_templates(templates: Mapping[str, Any], columns: Iterable[str]) -> None:
    """Fail at start-up if a template is malformed or needs a column the scored frame will not have."""
    known = set(columns)
    merged = _merged(templates)
    checks = [(f"basis.{k}", t, known) for k, t in merged["basis"].items()]
    for feature, spec in feature_templates(templates).items():
        where = f"features.{feature}"
        checks.append((where, spec["text"], known | set(CONTRIBUTION_FIELDS)))
        _check_condition(where, spec, known)
    checks.append(("generic", merged["generic"], known | set(CONTRIBUTION_FIELDS)))
    for where, template, allowed in checks:
        unknown = sorted({name for _, name, _, _ in _fields(str(template), where) if name} - allowed)
        if unknown:
            raise UserError(f"reason template {where}: unknown placeholder(s) {unknown}; "
                            "use a column of the scored frame; fix conf/base/reasons.yaml")
    if not isinstance(merged["max_reasons"], int) or merged["max_reasons"] < 1:
        raise UserError("reasons: max_reasons must be a whole number >= 1; fix conf/base/reasons.yaml")
    q = merged["typical_quantiles"]
    if not (isinstance(q, list) and len(q) == 2 and all(isinstance(x, (int, float)) for x in q) and 0 <= q[0] <= q[1] <= 1):
        raise UserError("reasons: typical_quantiles must be [low, high] with 0 <= low <= high <= 1; "
                        "fix conf/base/reasons.yaml")


def _check_condition(where: str, spec: Mapping[str, Any], known: set[str]) -> None:
    extra = sorted(set(spec["_keys"]) - {"text", "unusual", "present", "riskier"})
    if extra or not spec["text"] or sum(bool(spec[k]) for k in ("unusual", "present", "riskier")) > 1:
        raise UserError(f"reason template {where}: give `text` and at most one of `unusual`, `present`, `riskier` "
                        f"(unexpected: {extra}); fix conf/base/reasons.yaml")
    unusual = spec["unusual"]
    if unusual is not None and not (isinstance(unusual, Mapping) and unusual.get("column") in known
                                    and unusual.get("side") in SIDES and len(unusual) == 2):
        raise UserError(f"reason template {where}: unusual must be {{column: <a known column>, side: one of "
                        f"{list(SIDES)}}}, got {unusual!r}; fix conf/base/reasons.yaml")
    for key in ("present", "riskier"):
        if spec[key] is not None and spec[key] not in known:
            raise UserError(f"reason template {where}: {key} names unknown column {spec[key]!r}; "
                            "fix conf/base/reasons.yaml")


def _is_set(col: Column) -> Column:
    text = F.upper(F.trim(col.cast("string")))
    return F.coalesce(~text.isin("", "0", "0.0", "NONE", "FALSE"), F.lit(False))


def _worth_telling(spec: Mapping[str, Any], context: Mapping[str, Any]) -> Column:
    """The template's condition; an `unusual` column without a known typical range always passes."""
    if spec["present"]:
        return _is_set(F.col(spec["present"]))
    if spec["riskier"]:
        scores = context.get("category_scores") or {}
        by, overall = (scores.get("by") or {}).get(spec["riskier"]), scores.get("overall")
        if not by or overall is None:
            return F.lit(True)
        riskier = sorted(v for v, m in by.items() if m > overall)
        return F.coalesce(F.col(spec["riskier"]).cast("string").isin(riskier), F.lit(False)) if riskier else F.lit(False)
    unusual = spec["unusual"]
    typical = (context.get("typical") or {}).get(unusual["column"]) if unusual else None
    if not typical:
        return F.lit(True)
    value = F.col(unusual["column"]).cast("double")
    above, below = value > F.lit(float(typical[1])), value < F.lit(float(typical[0]))
    test = {"high": above, "low": below, "either": above | below}[unusual["side"]]
    return F.coalesce(test, F.lit(False))


def _plain(col: Column, dtype: T.DataType) -> Column:
    """A value as text for a profile reason: lists joined with ';', whole numbers without '.0'."""
    if isinstance(dtype, T.ArrayType):
        return F.concat_ws(";", col)
    if isinstance(dtype, T.NumericType):
        return _num(col)
    return col.cast("string")


def _profile_reason(profile, types: Mapping[str, T.DataType]) -> Column:
    """The analyst's reason, then the values of what the profile tested."""
    features = list(dict.fromkeys(c.feature for c in profile.conditions))
    values = [F.concat(F.lit(f + " "), F.coalesce(_plain(F.col(f), types.get(f, T.StringType())), F.lit("none")))
              for f in features]
    return F.concat(F.lit(f"{profile.reason} ("), F.concat_ws(", ", *values), F.lit(")"))


def _contribution_reasons(templates: Mapping[str, Any], meanings: Mapping[str, str],
                          resolve_column: Callable[[str], Column], context: Mapping[str, Any]) -> Column:
    """One reason per positive contribution worth telling, largest first."""
    pairs = [F.lit(x) for name, meaning in sorted(meanings.items()) for x in (name, meaning)]
    meaning_map = F.create_map(*pairs) if pairs else None
    specs = feature_templates(templates)

    def one(c: Column) -> Column:
        meaning = F.coalesce(F.try_element_at(meaning_map, c["feature"]), c["feature"]) if pairs else c["feature"]

        def resolve(name: str) -> Column:
            return {"value": c["value"], "feature": c["feature"], "meaning": meaning}.get(name) \
                if name in CONTRIBUTION_FIELDS else resolve_column(name)

        generic = render(templates["generic"], resolve, "generic", context)
        text = None
        for feature, spec in sorted(specs.items()):
            told = F.when(_worth_telling(spec, context),
                          F.coalesce(render(spec["text"], resolve, f"features.{feature}", context), generic))
            text = (F.when if text is None else text.when)(c["feature"] == F.lit(feature), told)
        return generic if text is None else text.otherwise(generic)

    positive = F.filter(F.col("top_contributions"), lambda c: c["contribution"] > F.lit(0.0))
    largest_first = F.array_sort(positive, lambda a, b: F.when(a["contribution"] > b["contribution"], -1)
                                 .when(a["contribution"] < b["contribution"], 1).otherwise(0))
    return F.transform(largest_first, one)


def add_reasons(df: DataFrame, profiles: Iterable, templates: Mapping[str, Any],
                meanings: Mapping[str, str] | None = None, context: Mapping[str, Any] | None = None) -> DataFrame:
    """Add `reasons`: array<string> of at most max_reasons plain-language reasons.

    Needs selection_basis, profile_hits and score_adjusted (models.selection adds them);
    uses top_contributions when present. `meanings` maps feature -> meaning for the generic
    template; by default the feature registry's. `context` holds what the templates compare
    with: `typical` (column -> (low, high), see typical_ranges), `category_scores` (see
    category_scores) and `source_names` (watch-list source code -> readable name).
    """
    context = context or {}
    merged = _merged(templates)
    check_templates(templates, df.columns)
    if meanings is None:
        from features.registry import all_features
        meanings = {f.name: f.meaning for f in all_features()}
    types = {f.name: f.dataType for f in df.schema.fields}

    def resolve(name: str) -> Column:  # lists as "A;B" so templates never print "[]"
        return F.concat_ws(";", F.col(name)) if isinstance(types.get(name), T.ArrayType) else F.col(name)

    basis = None
    for name, template in sorted(merged["basis"].items()):
        if name != "MODEL":
            branch = render(str(template), resolve, f"basis.{name}", context)
            basis = (F.when if basis is None else basis.when)(F.col("selection_basis") == F.lit(name), branch)
    hits = [F.when(F.array_contains("profile_hits", p.name), _profile_reason(p, types)) for p in profiles]
    parts = [F.array(basis if basis is not None else F.lit(None).cast("string"), *hits)]
    if "top_contributions" in df.columns:
        contributions = _contribution_reasons(merged, meanings, resolve, context)
        parts.append(F.coalesce(contributions, F.array().cast("array<string>")))
    parts.append(F.array(render(str(merged["basis"]["MODEL"]), resolve, "basis.MODEL", context)))
    kept = F.filter(F.concat(*parts), lambda r: r.isNotNull() & (F.trim(r) != F.lit("")))
    reasons = F.slice(F.array_distinct(kept), 1, int(merged["max_reasons"]))
    # Replaces an earlier `reasons`: the caller may explain only the listed rows and re-run this.
    return df.select(*[c for c in df.columns if c != "reasons"], reasons.alias("reasons"))

"""Plain-language reasons with the values behind them, for the listed rows (pandas, on the driver).

The rows that reach an inspector are bounded by the offices' capacities, so their reasons are
rendered in Python: building the same sentences as Spark expressions cost a night about ten
seconds of plan building (one CASE branch per feature template), whatever its size.

Sources, in order: why a row was picked if not for risk (RANDOM, EXPLORATION), the profiles
that hit it, then the model's attribution (`top_contributions`, the positive SHAP
contributions, largest first) rendered with a template per feature, then the score itself.
Only contributions that push the score up become reasons. At most `max_reasons` distinct
reasons are kept.

Templates (conf/base/reasons.yaml) are text with `{column}` placeholders, formatted safely:
no eval, only a closed set of formats (`{x:,.0f}`, `{x:.2f}`, rounded half up) and filters (see
FILTERS): `lower`, `upper`, `words` ("BELT_AND_ROAD" -> "belt and road"), `num` (at most two
decimals, none for a whole number), `hub` ("NONE" -> "direct", else "via <hub>"), `list`
("A;B;C" -> "A, B and C"), `via` (the same with "via ", or "direct" when empty), `days_ago`
(0 -> "today"), `source` (a watch-list source code -> its readable name), `typical` (the typical
range of that column, e.g. "1-2") and `vs_all` (for a category: "average a score of 0.041 tonight
against 0.012 overall", the mean score of the night's consignments with that value against all
of them). Lists are joined with ";" first, so a list never prints as "[]", and whole numbers
print without ".0". Inside feature templates `{value}`, `{feature}` and `{meaning}` refer to the
contribution. If a value a template needs is missing, the generic template is used instead, so
a reason never shows a blank.

A feature template is text, or a mapping with `text` and one condition that says when the
value is worth telling (else the contribution gives no reason at all):
- `unusual: {column: c, side: high|low|either}`: c lies outside its typical range on that side;
- `present: c`: c is set (not null, 0, empty or NONE);
- `riskier: c`: the night's consignments with this row's value of c score higher on average than
  all of them (a category that raises the score says why: its consignments are riskier).
A key holding `<role>` stands for one template per party role (exporter, consignor, ...),
`<role>` replaced in the key and the text alike.

The typical ranges, category scores and source names come from the caller (`context`): this
module reads no file. `typical_ranges` computes the ranges as quantiles of columns over a Spark
frame and `category_scores` the mean score per value of categorical columns (the night uses the
day's scored consignments for both); `reason_columns` names the columns the reasons read, so the
caller brings only those to the driver.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import string
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.parties import PARTY_ROLES
from pipelines.errors import UserError

CONTRIBUTION_FIELDS = ("value", "feature", "meaning")
ROW_INPUTS = ("selection_basis", "profile_hits", "score_adjusted", "top_contributions")
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
_NUMBER_SPEC = re.compile(r"^(,?)\.(\d)f$")
_WHOLE = re.compile(r"^(-?\d+)\.0$")
_CONTEXT_FILTERS = ("typical", "source", "vs_all")
UNSET = ("", "0", "0.0", "NONE", "FALSE")


def text(value: Any) -> str | None:
    """A cell as a template prints it: None for null or NaN, lists joined with ";" (nulls left
    out), whole numbers without ".0" (a count that pandas holds as a float), booleans as true/false."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if hasattr(value, "__len__") and not isinstance(value, Mapping):  # list, tuple, numpy array
        return ";".join(t for t in (text(v) for v in value) if t is not None)
    if hasattr(value, "item"):  # a numpy scalar
        return text(value.item())
    return str(value)


def category_key(value: str | None) -> str | None:
    """The text of a category value as both sides of a comparison know it: Spark casts a double
    1.0 to "1.0", a row held by pandas may print it "1"."""
    return None if value is None else _WHOLE.sub(r"\1", value)


def _number(value: str | None) -> float | None:
    try:
        x = float(value) if value is not None else None
    except ValueError:
        return None
    return x if x is not None and math.isfinite(x) else None


def fixed(x: float, decimals: int, grouping: bool = False) -> str:
    """x with `decimals` decimals, rounded half up from its shortest decimal form (0.125 -> "0.13",
    0.015 -> "0.02"), as Java's and Spark's format_string round."""
    try:
        rounded = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return repr(x)
    return format(rounded, f"{',' if grouping else ''}.{decimals}f")


def _and_list(value: str) -> str | None:
    """"AEJEA;GRPIR;NLRTM" -> "AEJEA, GRPIR and NLRTM"; empty -> None (the template then falls back)."""
    if not value.strip():
        return None
    head, sep, last = value.rpartition(";")
    return f"{head.replace(';', ', ')} and {last}" if sep else value


def _via(value: str) -> str | None:
    return "direct" if not value.strip() else f"via {_and_list(value)}"


def _num(value: str) -> str | None:
    """8.0 -> "8", 2877 -> "2,877", 12.90 -> "12.9", 0.125 -> "0.13": at most two decimals, no trailing zeros."""
    x = _number(value)
    return None if x is None else fixed(x, 2, grouping=True).rstrip("0").rstrip(".")


def _days_ago(value: str) -> str | None:
    x = _number(value)
    if x is None:
        return None
    d = int(x)
    return "today" if d == 0 else "1 day ago" if d == 1 else f"{d} days ago"


FILTERS: dict[str, Callable[[str], str | None]] = {
    "lower": str.lower, "upper": str.upper, "list": _and_list, "via": _via, "num": _num, "days_ago": _days_ago,
    "words": lambda v: v.replace("_", " ").lower(),
    "hub": lambda v: "direct" if v.upper() == "NONE" else f"via {v}",
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
        by[r["column"]][category_key(r["value"])] = float(r["mean"])
    return {"overall": float(overall), "by": by}


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


def _piece(name: str, spec: str, filt: str, resolve: Callable[[str], str | None],
           context: Mapping[str, Any]) -> str | None:
    """One placeholder's text; None when the value it needs is missing."""
    if filt == "typical":
        typical = (context.get("typical") or {}).get(name)
        return range_text(*typical) if typical else None
    value = resolve(name)
    if spec:
        grouping, decimals = _NUMBER_SPEC.match(spec).groups()
        x = _number(value)
        value = None if x is None else fixed(x, int(decimals), grouping=bool(grouping))
    elif filt == "vs_all":
        scores = context.get("category_scores") or {}
        by, overall = (scores.get("by") or {}).get(name) or {}, scores.get("overall")
        mean = by.get(category_key(value)) if overall is not None else None
        value = None if mean is None else f"average a score of {mean:.3f} tonight against {overall:.3f} overall"
    elif filt == "source":
        value = (context.get("source_names") or {}).get(value, value) if value is not None else None
    if filt == "via" and value is None:
        return "direct"
    return FILTERS[filt](value) if filt in FILTERS and value is not None else value


def render(template: str, resolve: Callable[[str], str | None], where: str = "",
           context: Mapping[str, Any] | None = None) -> str | None:
    """The template filled in; None if any value it needs is missing."""
    context = context or {}
    out: list[str] = []
    for literal, name, spec, filt in _fields(template, where):
        out.append(literal)
        if name is None:
            continue
        piece = _piece(name, spec, filt, resolve, context)
        if piece is None:
            return None
        out.append(piece)
    return "".join(out) or None


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


def _all_texts(templates: Mapping[str, Any]) -> list[str]:
    merged = _merged(templates)
    return ([str(t) for t in merged["basis"].values()] + [str(merged["generic"])]
            + [spec["text"] for spec in feature_templates(templates).values()])


def typical_columns(templates: Mapping[str, Any]) -> set[str]:
    """Columns whose typical range the templates use (`|typical` or an `unusual` condition)."""
    wanted = {str(spec["unusual"]["column"]) for spec in feature_templates(templates).values()
              if isinstance(spec["unusual"], Mapping) and spec["unusual"].get("column")}
    for template in _all_texts(templates):
        wanted |= {name for _, name, _, filt in _fields(template, "") if name and filt == "typical"}
    return wanted


def category_columns(templates: Mapping[str, Any]) -> set[str]:
    """Columns whose per-value mean score the templates use (`|vs_all` or a `riskier` condition)."""
    wanted = {str(spec["riskier"]) for spec in feature_templates(templates).values() if spec["riskier"]}
    for spec in feature_templates(templates).values():
        wanted |= {name for _, name, _, filt in _fields(spec["text"], "") if name and filt == "vs_all"}
    return wanted


def reason_columns(templates: Mapping[str, Any], profiles: Iterable) -> set[str]:
    """Every column add_reasons reads: the row inputs, the templates' placeholders and conditions,
    and the features the profiles test."""
    wanted = set(ROW_INPUTS) | {c.feature for p in profiles for c in p.conditions}
    for template in _all_texts(templates):
        wanted |= {name for _, name, _, filt in _fields(template, "") if name and filt != "typical"}
    for spec in feature_templates(templates).values():
        unusual = spec["unusual"] if isinstance(spec["unusual"], Mapping) else {}
        wanted |= {c for c in (spec["present"], spec["riskier"], unusual.get("column")) if c}
    return wanted - set(CONTRIBUTION_FIELDS)


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


def _worth_telling(spec: Mapping[str, Any], row: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """The template's condition; an `unusual` column without a known typical range always passes."""
    if spec["present"]:
        value = text(row.get(spec["present"]))
        return value is not None and value.strip().upper() not in UNSET
    if spec["riskier"]:
        scores = context.get("category_scores") or {}
        by, overall = (scores.get("by") or {}).get(spec["riskier"]), scores.get("overall")
        if not by or overall is None:
            return True
        mean = by.get(category_key(text(row.get(spec["riskier"]))))
        return mean is not None and mean > overall
    unusual = spec["unusual"]
    typical = (context.get("typical") or {}).get(unusual["column"]) if unusual else None
    if not typical:
        return True
    value = _number(text(row.get(unusual["column"])))
    if value is None:
        return False
    above, below = value > float(typical[1]), value < float(typical[0])
    return {"high": above, "low": below, "either": above or below}[unusual["side"]]


def _profile_reason(profile, row: Mapping[str, Any]) -> str:
    """The analyst's reason, then the values of what the profile tested."""
    values = []
    for feature in dict.fromkeys(c.feature for c in profile.conditions):
        value = row.get(feature)
        shown = text(value)
        if shown is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = _num(shown)
        values.append(f"{feature} {'none' if shown is None else shown}")
    return f"{profile.reason} ({', '.join(values)})"


def _contribution_reasons(row: Mapping[str, Any], merged: Mapping[str, Any], specs: Mapping[str, Mapping[str, Any]],
                          meanings: Mapping[str, str], context: Mapping[str, Any]) -> list[str | None]:
    """One reason per positive contribution worth telling, largest first."""
    contributions = row.get("top_contributions")
    if contributions is None or (isinstance(contributions, float) and math.isnan(contributions)):
        return []
    positive = [c for c in contributions if c["contribution"] is not None and c["contribution"] > 0.0]
    out: list[str | None] = []
    for c in sorted(positive, key=lambda c: -c["contribution"]):
        fields = {"value": text(c["value"]), "feature": c["feature"],
                  "meaning": meanings.get(c["feature"], c["feature"])}

        def resolve(name: str, fields: Mapping[str, Any] = fields) -> str | None:
            return fields[name] if name in CONTRIBUTION_FIELDS else text(row.get(name))

        generic = render(str(merged["generic"]), resolve, "generic", context)
        spec = specs.get(c["feature"])
        if spec is None:
            out.append(generic)
        elif _worth_telling(spec, row, context):
            out.append(render(spec["text"], resolve, f"features.{c['feature']}", context) or generic)
    return out


def add_reasons(rows: pd.DataFrame, profiles: Iterable, templates: Mapping[str, Any],
                meanings: Mapping[str, str] | None = None, context: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """rows with `reasons` (a list of at most max_reasons plain-language reasons) added or replaced.

    Needs selection_basis, profile_hits and score_adjusted (models.selection adds them);
    uses top_contributions when present. `meanings` maps feature -> meaning for the generic
    template; by default the feature registry's. `context` holds what the templates compare
    with: `typical` (column -> (low, high), see typical_ranges), `category_scores` (see
    category_scores) and `source_names` (watch-list source code -> readable name).
    """
    context = context or {}
    profiles = list(profiles)
    merged = _merged(templates)
    check_templates(templates, rows.columns)
    if meanings is None:
        from features.registry import all_features
        meanings = {f.name: f.meaning for f in all_features()}
    specs = feature_templates(templates)
    basis = {name: str(t) for name, t in merged["basis"].items() if name != "MODEL"}

    def reasons(row: Mapping[str, Any]) -> list[str]:
        def resolve(name: str) -> str | None:
            return text(row.get(name))

        chosen = basis.get(row.get("selection_basis"))
        hits = set(row.get("profile_hits") if row.get("profile_hits") is not None else ())
        found = [render(chosen, resolve, f"basis.{row.get('selection_basis')}", context) if chosen else None,
                 *[_profile_reason(p, row) for p in profiles if p.name in hits],
                 *_contribution_reasons(row, merged, specs, meanings, context),
                 render(str(merged["basis"]["MODEL"]), resolve, "basis.MODEL", context)]
        kept = [r for r in found if r is not None and r.strip()]
        return list(dict.fromkeys(kept))[: int(merged["max_reasons"])]

    out = rows.copy()
    out["reasons"] = pd.Series([reasons(r) for r in rows.to_dict("records")], index=rows.index, dtype=object)
    return out

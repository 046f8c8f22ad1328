"""Plain-language reasons with the values behind them, built from Spark built-ins (no UDF).

Sources, in order: why a row was picked if not for risk (RANDOM, EXPLORATION), the profiles
that hit it, then the model's attribution (`top_contributions`, the largest positive SHAP
contributions, largest first) rendered with a template per feature, then the score itself.
At most `max_reasons` distinct reasons are kept.

Templates (conf/base/reasons.yaml) are text with `{column}` placeholders, formatted safely:
no eval, only a closed set of formats (`{x:,.0f}`, `{x:.2f}`) and filters (`{x|lower}`,
`{x|upper}`, `{x|list}` turns "A;B;C" into "A, B and C"). Inside feature templates
`{value}`, `{feature}` and `{meaning}` refer to the contribution. If a value a template needs
is missing, the generic template is used instead, so a reason never shows a blank.
"""
from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.errors import UserError

CONTRIBUTION_FIELDS = ("value", "feature", "meaning")
DEFAULT_TEMPLATES = {
    "max_reasons": 3,
    "generic": "{meaning}: {value}",
    "basis": {"RANDOM": "chosen at random for the control sample, not for risk",
              "EXPLORATION": "chosen to check a consignment the model is unsure about (score {score_adjusted:.2f})",
              "MODEL": "risk score {score_adjusted:.2f}"},
    "features": {},
}
_NUMBER_SPEC = re.compile(r"^,?\.\df$")


def _and_list(col: Column) -> Column:
    """"AEJEA;GRPIR;NLRTM" -> "AEJEA, GRPIR and NLRTM"; empty -> null (the template then falls back)."""
    last_joined = F.regexp_replace(col, r";([^;]*)$", " and $1")
    return F.when(F.trim(col) == "", F.lit(None)).otherwise(F.regexp_replace(last_joined, ";", ", "))


FILTERS: dict[str, Callable[[Column], Column]] = {"lower": F.lower, "upper": F.upper, "list": _and_list}


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
        if conversion or (spec and not _NUMBER_SPEC.match(spec)) or (filt and filt not in FILTERS) or not name:
            raise UserError(f"reason template {where}: placeholder {{{field}}} is not allowed; use {{column}}, "
                            f"{{column:,.0f}}, {{column:.2f}} or a filter {sorted(FILTERS)}; fix conf/base/reasons.yaml")
        out.append((literal, name, spec, filt))
    return out


def render(template: str, resolve: Callable[[str], Column], where: str = "") -> Column:
    """The template as a string column; null if any value it needs is null."""
    parts: list[Column] = []
    for literal, name, spec, filt in _fields(template, where):
        if literal:
            parts.append(F.lit(literal))
        if name is None:
            continue
        col = resolve(name)
        if spec:
            col = F.when(col.isNull(), F.lit(None)).otherwise(F.format_string("%" + spec, col.cast("double")))
        else:
            col = col.cast("string")
        parts.append(FILTERS[filt](col) if filt else col)
    return F.concat(*parts) if parts else F.lit(None).cast("string")


def _merged(templates: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**DEFAULT_TEMPLATES, **templates}
    merged["basis"] = {**DEFAULT_TEMPLATES["basis"], **(templates.get("basis") or {})}
    merged["features"] = dict(templates.get("features") or {})
    return merged


def check_templates(templates: Mapping[str, Any], columns: Iterable[str]) -> None:
    """Fail at start-up if a template is malformed or needs a column the scored frame will not have."""
    known = set(columns)
    merged = _merged(templates)
    checks = [(f"basis.{k}", t, known) for k, t in merged["basis"].items()]
    checks += [(f"features.{k}", t, known | set(CONTRIBUTION_FIELDS)) for k, t in merged["features"].items()]
    checks.append(("generic", merged["generic"], known | set(CONTRIBUTION_FIELDS)))
    for where, template, allowed in checks:
        unknown = sorted({name for _, name, _, _ in _fields(str(template), where) if name} - allowed)
        if unknown:
            raise UserError(f"reason template {where}: unknown placeholder(s) {unknown}; "
                            "use a column of the scored frame; fix conf/base/reasons.yaml")
    if not isinstance(merged["max_reasons"], int) or merged["max_reasons"] < 1:
        raise UserError("reasons: max_reasons must be a whole number >= 1; fix conf/base/reasons.yaml")


def _profile_reason(profile) -> Column:
    """The analyst's reason, then the values of what the profile tested."""
    features = list(dict.fromkeys(c.feature for c in profile.conditions))
    values = [F.concat(F.lit(f + " "), F.coalesce(F.col(f).cast("string"), F.lit("none"))) for f in features]
    return F.concat(F.lit(f"{profile.reason} ("), F.concat_ws(", ", *values), F.lit(")"))


def _contribution_reasons(templates: Mapping[str, Any], meanings: Mapping[str, str]) -> Column:
    """One reason per positive contribution, largest first."""
    pairs = [F.lit(x) for name, meaning in sorted(meanings.items()) for x in (name, meaning)]
    meaning_map = F.create_map(*pairs) if pairs else None

    def one(c: Column) -> Column:
        meaning = F.coalesce(F.try_element_at(meaning_map, c["feature"]), c["feature"]) if pairs else c["feature"]

        def resolve(name: str) -> Column:
            return {"value": c["value"], "feature": c["feature"], "meaning": meaning}.get(name, F.col(name))

        generic = render(templates["generic"], resolve, "generic")
        text = None
        for feature, template in sorted(templates["features"].items()):
            branch = render(str(template), resolve, f"features.{feature}")
            text = (F.when if text is None else text.when)(c["feature"] == F.lit(feature), branch)
        return generic if text is None else F.coalesce(text, generic)

    positive = F.filter(F.col("top_contributions"), lambda c: c["contribution"] > F.lit(0.0))
    largest_first = F.array_sort(positive, lambda a, b: F.when(a["contribution"] > b["contribution"], -1)
                                 .when(a["contribution"] < b["contribution"], 1).otherwise(0))
    return F.transform(largest_first, one)


def add_reasons(df: DataFrame, profiles: Iterable, templates: Mapping[str, Any],
                meanings: Mapping[str, str] | None = None) -> DataFrame:
    """Add `reasons`: array<string> of at most max_reasons plain-language reasons.

    Needs selection_basis, profile_hits and score_adjusted (models.selection adds them);
    uses top_contributions when present. `meanings` maps feature -> meaning for the generic
    template; by default the feature registry's.
    """
    merged = _merged(templates)
    check_templates(templates, df.columns)
    if meanings is None:
        from features.registry import all_features
        meanings = {f.name: f.meaning for f in all_features()}
    basis = None
    for name, template in sorted(merged["basis"].items()):
        if name != "MODEL":
            branch = render(str(template), F.col, f"basis.{name}")
            basis = (F.when if basis is None else basis.when)(F.col("selection_basis") == F.lit(name), branch)
    hits = [F.when(F.array_contains("profile_hits", p.name), _profile_reason(p)) for p in profiles]
    parts = [F.array(basis if basis is not None else F.lit(None).cast("string"), *hits)]
    if "top_contributions" in df.columns:
        parts.append(F.coalesce(_contribution_reasons(merged, meanings), F.array().cast("array<string>")))
    parts.append(F.array(render(str(merged["basis"]["MODEL"]), F.col, "basis.MODEL")))
    kept = F.filter(F.concat(*parts), lambda r: r.isNotNull() & (F.trim(r) != F.lit("")))
    reasons = F.slice(F.array_distinct(kept), 1, int(merged["max_reasons"]))
    # Replaces an earlier `reasons`: the caller may explain only the listed rows and re-run this.
    return df.select(*[c for c in df.columns if c != "reasons"], reasons.alias("reasons"))

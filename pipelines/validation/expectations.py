"""The one Great Expectations wrapper: suites kept as files under conf/expectations/, run
through an ephemeral GX context, and the same expectations as Spark row conditions.

A suite file is a GX suite (name, expectations with type/kwargs/meta). Each expectation
carries `meta.reason`, the quarantine code a failing row gets. Reference sets that would
be tedious and error-prone to type (ISO countries and currencies, the contract's
enumerations, the UN/LOCODE pattern) are written as `$name` and filled in at load time.

GX validates the data and reports per expectation; the row-level reasons come from the
same expectation translated into one Spark condition each (all evaluated in one pass),
or, with row_flags "gx", from GX's own failing row ids. GX is imported lazily: the
import takes seconds and commands that do not validate should not pay for it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.validation import contract

SUPPORTED = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
)


def reference_sets() -> dict[str, object]:
    """Values for the `$name` placeholders of the suite files."""
    import pycountry

    countries = sorted(c.alpha_2 for c in pycountry.countries)
    # A UN/LOCODE is a known ISO country plus three letters or digits 2-9. Membership in a
    # port list is not required: real manifests name small ports no list is complete for.
    locode = "(?:" + "|".join(countries) + ")[A-Z2-9]{3}"
    return {
        "$iso_countries": countries,
        "$iso_currencies": sorted(c.alpha_3 for c in pycountry.currencies),
        "$transport_modes": list(contract.TRANSPORT_MODES),
        "$selection_reasons": list(contract.SELECTION_REASONS),
        "$results": list(contract.RESULTS),
        "$infringement_types": list(contract.INFRINGEMENT_TYPES),
        "$entity_types": list(contract.ENTITY_TYPES),
        "$declaration_types": list(contract.DECLARATION_TYPES),
        "$locode": f"^{locode}$",
        "$locode_list": f"^{locode}(?:;{locode})*$",
        "$office_code": contract.OFFICE_CODE_PATTERN,
        # A decimal as text. inf, Infinity and NaN are numbers too: NON_FINITE_NUMBER, on the
        # column's __finite, says what is wrong with them (NOT_NUMERIC would say "text").
        "$decimal_text": r"^\s*[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))\s*$",
    }


def _resolve(value, refs: dict[str, object], where: str):
    if isinstance(value, str) and value.startswith("$"):
        if value not in refs:
            raise ValueError(f"{where}: unknown reference set {value}; known: {', '.join(sorted(refs))}")
        return refs[value]
    return value


def load_suite(path: Path, refs: dict[str, object]) -> list[dict]:
    """The expectations of one suite file, placeholders filled, each with meta.index."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    expectations = []
    for index, exp in enumerate(doc.get("expectations", [])):
        where = f"{path} expectation {index}"
        if exp.get("type") not in SUPPORTED:
            raise ValueError(f"{where}: type {exp.get('type')!r} has no row condition; use one of {SUPPORTED}")
        reason = exp.get("meta", {}).get("reason")
        if reason not in contract.REASON_CODES:
            raise ValueError(f"{where}: meta.reason {reason!r} is not in pipelines.validation.contract.REASON_CODES")
        kwargs = {k: _resolve(v, refs, where) for k, v in exp["kwargs"].items()}
        expectations.append({"type": exp["type"], "kwargs": kwargs, "meta": {**exp["meta"], "index": index}})
    return expectations


def load_suites(suites_dir: Path, names: list[str]) -> dict[str, list[dict]]:
    refs = reference_sets()
    return {name: load_suite(Path(suites_dir) / f"{name}.json", refs) for name in names}


def failure_condition(exp: dict) -> Column:
    """True where a row fails the expectation, with GX's semantics (set, regex and range
    expectations skip nulls: the suites pair them with not-null where a value is required)."""
    kw = exp["kwargs"]
    col = F.col(kw["column"])
    kind = exp["type"]
    if kind == "expect_column_values_to_not_be_null":
        return col.isNull()
    if kind == "expect_column_values_to_match_regex":
        bad = ~col.rlike(kw["regex"])
    elif kind == "expect_column_values_to_be_in_set":
        bad = ~col.isin(list(kw["value_set"]))
    else:
        bad = F.lit(False)
        if kw.get("min_value") is not None:
            too_low = col <= kw["min_value"] if kw.get("strict_min") else col < kw["min_value"]
            bad = bad | too_low
        if kw.get("max_value") is not None:
            too_high = col >= kw["max_value"] if kw.get("strict_max") else col > kw["max_value"]
            bad = bad | too_high
    return col.isNotNull() & bad


@dataclass
class ExpectationOutcome:
    """One expectation's result on one dataset, as GX reported it."""
    index: int
    type: str
    column: str
    reason: str
    success: bool
    unexpected_count: int | None
    sample: list = field(default_factory=list)
    failing_ids: list | None = None
    error: str | None = None
    example: str | None = None  # one failing value, from the row flags' pass


def _gx_context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return gx, context


def _outcome(result, index_column: str | None) -> ExpectationOutcome:
    cfg = result.expectation_config
    body = result.result or {}
    info = result.exception_info or {}
    error = info.get("exception_message") if info.get("raised_exception") else None
    ids = None
    if index_column and body.get("unexpected_index_list") is not None:
        ids = [row[index_column] for row in body["unexpected_index_list"]]
    return ExpectationOutcome(
        index=cfg.meta["index"], type=cfg.type, column=cfg.kwargs.get("column", ""),
        reason=cfg.meta["reason"], success=bool(result.success),
        unexpected_count=body.get("unexpected_count"),
        sample=list(body.get("partial_unexpected_list") or []), failing_ids=ids, error=error,
    )


def run_suites(frames: dict[str, DataFrame], suites: dict[str, list[dict]], result_format: str,
               index_column: str | None = None) -> dict[str, list[ExpectationOutcome]]:
    """Validate each frame against its suite in one ephemeral GX context.

    With index_column, results are COMPLETE and carry every failing row's id."""
    gx, context = _gx_context()
    source = context.data_sources.add_spark(name="shiprisk")
    fmt = {"result_format": "COMPLETE", "unexpected_index_column_names": [index_column],
           "return_unexpected_index_query": False} if index_column else {"result_format": result_format}
    outcomes: dict[str, list[ExpectationOutcome]] = {}
    for name, frame in frames.items():
        batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe(name)
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=suites[name]))
        if len(suite.expectations) != len(suites[name]):  # GX logs and skips invalid ones
            raise ValueError(f"suite {name}: GX accepted {len(suite.expectations)} of {len(suites[name])} expectations")
        definition = context.validation_definitions.add(gx.ValidationDefinition(data=batch, suite=suite, name=name))
        result = definition.run(batch_parameters={"dataframe": frame}, result_format=fmt)
        outcomes[name] = sorted((_outcome(r, index_column) for r in result.results), key=lambda o: o.index)
    return outcomes


_STYLE = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
          "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
          ".FAILED{color:#b00020}.OK{color:#1b5e20}code{white-space:pre-wrap;word-break:break-all}")


def _cell(value, limit: int = 200) -> str:
    import html

    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text)} characters)"
    return f"<td>{html.escape(text)}</td>"


def _table(header: list[str], rows: list[list]) -> str:
    import html

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(summary: dict, outcomes: dict[str, list[ExpectationOutcome]], samples: int) -> str:
    """A self-contained HTML page of one validation run; every piece of data is escaped
    (descriptions may hold markup or spreadsheet formulas)."""
    import html

    status = summary.get("status") or "OK"
    datasets = summary["datasets"]
    overview = _table(
        ["dataset", "files", "rows read", "valid", "quarantined", "share", "threshold", "superseded", "by reason"],
        [[n, s["files"], s["rows_read"], s["rows_valid"], s["rows_quarantined"], f"{s['quarantined_share']:.2%}",
          f"{s['threshold']:.0%}", s["rows_superseded"], ", ".join(f"{k} {v}" for k, v in s["by_reason"].items())]
         for n, s in datasets.items()],
    )
    consignments = _table(["consignments read", "valid", "quarantined"], [[
        summary["consignments_read"], summary["consignments_valid"], summary["consignments_quarantined"]]])
    sections = []
    for name, results in outcomes.items():
        rows = [[o.type.replace("expect_column_values_to_", ""), o.column, o.reason, "yes" if o.success else "NO",
                 o.unexpected_count, "; ".join(str(v) for v in (o.sample[:samples] or ([o.example] if o.example else [])))]
                for o in results]
        sections.append(f"<h3>{html.escape(name)}</h3>" + _table(
            ["expectation", "column", "reason", "passed", "failing rows", "sample failing values"], rows))
    codes = _table(["reason code", "meaning"], [[k, v] for k, v in sorted(contract.REASON_CODES.items())])
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>shiprisk validation</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Input validation: <span class='{html.escape(status)}'>{html.escape(status)}</span></h1>"
        f"<p>Input root {html.escape(str(summary['input_root']))}, days {html.escape(', '.join(summary['dates']))}.</p>"
        f"<h2>Rows</h2>{overview}<h2>Consignments</h2>{consignments}"
        "<h2>Great Expectations results</h2>" + "".join(sections) + f"<h2>Reason codes</h2>{codes}</body></html>"
    )

"""Corruptions for `generate --dirty`: every row-level problem of issue 3, each with its expected reason.

`plan_corruptions` picks rows and returns (a) extra rows to append (duplicates and
orphans), (b) cell overrides that pipelines.devtools.synthetic.write applies, as raw text in
CSV files or as typed values in Parquet files, and (c) the list written to
`<out>/_corruptions.csv`. Problems that only exist as text (an unparseable date, a
broken quote) are put only into CSV partitions.

Whole-file problems would stop a feed as a whole, so they are never injected by
`--dirty`; tests call `write_file_missing_column` and `make_empty_partition`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic.write import DAY, PART_NAME
from pipelines.validation.contract import DATASETS, REASON_CODES

VALID = "VALID"
EXTRA_ROW = {"duplicate consignment_id", "declaration without manifest", "outcome without consignment"}
MALFORMED = "broken CSV quoting"
MARKER = "__SHIPRISK_BROKEN_QUOTE_{}__"


def long_text(chars: int) -> str:
    unit = "LEATHER HANDBAG WITH METAL BUCKLE; "
    return (unit * (chars // len(unit) + 1))[:chars]


# dataset, problem, column, expected reason, CSV only, raw text, typed value (Parquet)
PROBLEMS = [
    ("manifests", "missing required field", "consignor_id", "MISSING_REQUIRED", False, "", None),
    ("manifests", "unparseable date", "departure_date", "BAD_DATE", True, "2026-02-30", None),
    ("manifests", "zero package count", "package_count", "NON_POSITIVE", False, "0", 0),
    ("manifests", "negative gross weight", "gross_weight_kg", "NON_POSITIVE", False, "-12.5", -12.5),
    ("manifests", "unknown country code", "destination_country", "UNKNOWN_COUNTRY", False, "XY", "XY"),
    ("manifests", "invalid UN/LOCODE", "port_of_discharge", "BAD_LOCODE", False, "XXABC", "XXABC"),
    ("manifests", "duplicate consignment_id", "consignment_id", "DUPLICATE_KEY", False, None, None),
    ("declarations", "missing required field", "hs_code", "MISSING_REQUIRED", False, "", None),
    ("declarations", "unparseable timestamp", "lodged_at", "BAD_TIMESTAMP", True, "2026-09-05T25:61:00+08:00", None),
    ("declarations", "zero quantity", "quantity", "NON_POSITIVE", False, "0", 0.0),
    ("declarations", "negative quantity", "quantity", "NON_POSITIVE", False, "-3", -3.0),
    ("declarations", "non-numeric declared_value", "declared_value", "NOT_NUMERIC", True, "N/A", None),
    ("declarations", "HS code with letters", "hs_code", "BAD_HS_CODE", False, "42O2A100", "42O2A100"),
    ("declarations", "HS code too short", "hs_code", "BAD_HS_CODE", False, "4202", "4202"),
    ("declarations", "unknown country code", "origin_country", "UNKNOWN_COUNTRY", False, "XY", "XY"),
    ("declarations", "unknown currency", "currency", "UNKNOWN_CURRENCY", False, "XYZ", "XYZ"),
    ("declarations", "declaration without manifest", "consignment_id", "ORPHAN_DECLARATION", False, None, None),
    ("declarations", MALFORMED, "goods_description", "MALFORMED_LINE", True, None, None),
    ("declarations", "10,000-character description", "goods_description", VALID, False, "LONG", "LONG"),
    ("declarations", "emoji and Chinese text", "goods_description", VALID, False, "🎁 生日禮物 手袋 gift set 🎉", "🎁 生日禮物 手袋 gift set 🎉"),
    ("declarations", "spreadsheet formula in description", "goods_description", VALID, False,
     '=HYPERLINK("http://example.com/x","click")', '=HYPERLINK("http://example.com/x","click")'),
    ("declarations", "HTML script in description", "goods_description", VALID, False,
     "<script>alert('x')</script> watch strap", "<script>alert('x')</script> watch strap"),
    ("outcomes", "outcome without consignment", "consignment_id", "ORPHAN_OUTCOME", False, None, None),
]
assert all(p[3] in REASON_CODES or p[3] == VALID for p in PROBLEMS)


def _pick_rows(frame: pd.DataFrame, problems: list, count: int, csv_days: set, rng: np.random.Generator):
    """Distinct rows, one problem each, cycling through the problems; CSV-only ones only on CSV days."""
    on_csv = np.isin(frame[DAY].to_numpy(), list(csv_days))
    pools = {True: list(rng.permutation(frame.index[on_csv])), False: list(rng.permutation(frame.index))}
    used, chosen = set(), []
    for i in range(count):
        problem = problems[i % len(problems)]
        pool = pools[problem[4]]
        while pool and pool[-1] in used:
            pool.pop()
        if not pool:
            continue
        row = pool.pop()
        used.add(row)
        chosen.append((row, problem))
    return chosen


def _extra_row(frame: pd.DataFrame, row, problem: tuple, new_id: str, new_decl: str) -> pd.DataFrame:
    extra = frame.loc[[row]].copy()
    if problem[1] == "declaration without manifest":
        extra["consignment_id"], extra["declaration_id"], extra["item_no"] = new_id, new_decl, 1
    elif problem[1] == "outcome without consignment":
        extra["consignment_id"] = new_id
    return extra


def plan_corruptions(frames: dict, fraction: float, csv_days: set, fresh_ids, cfg: dict, rng: np.random.Generator):
    """Extra rows per dataset, cell overrides per dataset, and the corruption list."""
    extras, overrides, listed = {}, {}, []
    for name in ("manifests", "declarations", "outcomes"):
        frame, problems = frames[name], [p for p in PROBLEMS if p[0] == name]
        count = max(len(problems), int(round(fraction * len(frame)))) if len(frame) else 0
        rows, cells = [], []
        for k, (row, problem) in enumerate(_pick_rows(frame, problems, count, csv_days, rng)):
            day = int(frame.at[row, DAY])
            target = row
            if problem[1] in EXTRA_ROW:
                new_id, new_decl = fresh_ids(day, k)
                extra = _extra_row(frame, row, problem, new_id, new_decl)
                extra.index = [f"x{name}{k}"]
                rows.append(extra)
                target = extra.index[0]
                source = extra.iloc[0]
            else:
                source = frame.loc[row]
                text, typed = problem[5], problem[6]
                if text == "LONG":
                    text = typed = long_text(cfg["dirty"]["long_description_chars"])
                marker = None
                if problem[1] == MALFORMED:
                    marker = MARKER.format(k)
                    text = '"' + str(source["goods_description"]) + ", NO CLOSING QUOTE"
                cells.append({"row": row, "column": problem[2], "text": text, "typed": typed, "marker": marker})
            listed.append({
                "dataset": name, "partition_day": day, "consignment_id": source["consignment_id"],
                "declaration_id": source.get("declaration_id", ""), "item_no": source.get("item_no", ""),
                "column": problem[2], "problem": problem[1], "expected_reason": problem[3], "_row": target,
            })
        extras[name] = pd.concat(rows) if rows else frame.iloc[:0]
        overrides[name] = pd.DataFrame(cells, columns=["row", "column", "text", "typed", "marker"])
    return extras, overrides, pd.DataFrame(listed)


def write_file_missing_column(out: str | Path, dataset: str, date: str, column: str, rows: int = 3) -> Path:
    """A CSV file in a partition that lacks one required column (a feed-level failure)."""
    names = [c for c in DATASETS[dataset].column_names if c != column]
    folder = Path(out) / dataset / f"date={date}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PART_NAME}-missing-{column}.csv"
    body = "\n".join(",".join(f"{n}_{i}" for n in names) for i in range(rows))
    path.write_text(",".join(names) + "\n" + body + "\n", encoding="utf-8")
    return path


def make_empty_partition(out: str | Path, dataset: str, date: str) -> Path:
    """A date= folder with no data file in it (the feed for that day did not arrive)."""
    folder = Path(out) / dataset / f"date={date}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    return folder

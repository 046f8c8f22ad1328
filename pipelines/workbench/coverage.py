"""How far an office has worked a night's list: pure figures from worklist rows and the current
results (ResultStore.current), so the workbench page, the nightly summary and the trend report
count the same way.

A RANDOM row is the control sample that keeps the model's evaluation honest: if it is skipped
(recorded NOT_INSPECTED) the sample is no longer random, so it is flagged. A RANDOM row with no
result yet is pending, not skipped.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

INSPECTED = ("SEIZED", "CLEAN")


@dataclass(frozen=True)
class Coverage:
    listed: int = 0                 # rows on the list (RED + AMBER)
    red_listed: int = 0
    amber_listed: int = 0
    with_result: int = 0            # rows with a current result of any kind
    inspected: int = 0              # SEIZED or CLEAN
    seized: int = 0
    not_inspected: int = 0
    random_listed: int = 0          # RANDOM control rows on the list
    random_inspected: int = 0
    random_seized: int = 0
    random_pending: int = 0         # RANDOM rows without a result yet
    skipped_controls: tuple[str, ...] = field(default_factory=tuple)  # RANDOM rows recorded NOT_INSPECTED

    @property
    def hit_rate(self) -> float | None:
        """Seized / inspected so far; None before the first inspection."""
        return self.seized / self.inspected if self.inspected else None

    @property
    def random_hit_rate(self) -> float | None:
        return self.random_seized / self.random_inspected if self.random_inspected else None

    @property
    def control_sample_intact(self) -> bool:
        return not self.skipped_controls

    def as_dict(self) -> dict:
        """JSON-ready figures (for a run summary or a report), the rates included."""
        return {**asdict(self), "skipped_controls": list(self.skipped_controls), "hit_rate": self.hit_rate,
                "random_hit_rate": self.random_hit_rate, "control_sample_intact": self.control_sample_intact}


def compute_coverage(rows: Iterable[Mapping], results: Iterable[Mapping]) -> Coverage:
    """Coverage of the listed `rows` (worklist rows: consignment_id, list_date, lane,
    selection_basis) given `results` (current result rows: consignment_id, list_date, result).
    Results of consignments that are not in `rows` are ignored."""
    current = {(str(r["consignment_id"]), str(r["list_date"])): r["result"] for r in results}
    counts = dict.fromkeys(("listed", "red_listed", "amber_listed", "with_result", "inspected", "seized",
                            "not_inspected", "random_listed", "random_inspected", "random_seized",
                            "random_pending"), 0)
    skipped = []
    for row in rows:
        outcome = current.get((str(row["consignment_id"]), str(row["list_date"])))
        is_random = row.get("selection_basis") == "RANDOM"
        counts["listed"] += 1
        counts["red_listed"] += row.get("lane") == "RED"
        counts["amber_listed"] += row.get("lane") == "AMBER"
        counts["with_result"] += outcome is not None
        counts["inspected"] += outcome in INSPECTED
        counts["seized"] += outcome == "SEIZED"
        counts["not_inspected"] += outcome == "NOT_INSPECTED"
        if is_random:
            counts["random_listed"] += 1
            counts["random_inspected"] += outcome in INSPECTED
            counts["random_seized"] += outcome == "SEIZED"
            counts["random_pending"] += outcome is None
            if outcome == "NOT_INSPECTED":
                skipped.append(str(row["consignment_id"]))
    return Coverage(**counts, skipped_controls=tuple(sorted(skipped)))


def coverage_by_office(rows: Iterable[Mapping], results: Iterable[Mapping]) -> dict[str, Coverage]:
    """compute_coverage for every office of a night's worklist (rows of all offices)."""
    results = list(results)
    offices: dict[str, list[Mapping]] = {}
    for row in rows:
        offices.setdefault(str(row["customs_office"]), []).append(row)
    return {office: compute_coverage(office_rows, results) for office, office_rows in sorted(offices.items())}


def coverage_rows(nights: Iterable[tuple[str, list[Mapping]]], results: Iterable[Mapping]) -> list[dict]:
    """One row per (night, office) with its coverage figures, for a report table or a run record.
    `nights`: (day, that night's worklist rows of every office), in the order to show."""
    results = list(results)
    return [{"night": day, "office": office, **figures.as_dict()}
            for day, rows in nights for office, figures in coverage_by_office(rows, results).items()]

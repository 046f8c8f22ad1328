"""Analyst targeting profiles: parsed once at start-up into typed objects, applied as Spark columns.

A profile is data, not code: its conditions use a small closed set of operators on named
columns, all ANDed, and become Spark expressions built from built-in functions (no eval,
no UDF). Anything wrong in a profile fails here, before any data is read, with a message
naming the profile and the field.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines.errors import UserError

ACTIONS = ("force_red", "raise_score", "exclude")
SET_OPS = ("in", "not_in")
ORDER_OPS = ("gt", "gte", "lt", "lte")
EQUALITY_OPS = ("eq", "ne")
TEXT_OPS = ("contains",)  # substring, e.g. a port inside route_ports
OPERATORS = SET_OPS + ORDER_OPS + EQUALITY_OPS + TEXT_OPS + ("is_null",)
REQUIRED_FIELDS = ("name", "reason", "conditions", "action", "valid_from", "valid_to", "owner")

# Shipment details beside the features that a profile may also test (all strings).
DETAIL_COLUMNS = (
    "customs_office", "exporter_id", "consignee_id", "consignor_id", "forwarder_id",
    "port_of_loading", "port_of_discharge", "route_ports", "main_hs_code", "main_goods_description",
    "transport_mode",
)


@dataclass(frozen=True)
class Condition:
    feature: str
    op: str
    value: Any


@dataclass(frozen=True)
class Profile:
    name: str
    reason: str
    conditions: tuple[Condition, ...]
    action: str
    amount: float
    valid_from: dt.date
    valid_to: dt.date
    owner: str

    def is_active(self, run_date: dt.date | str) -> bool:
        """Inside its validity period, both ends inclusive."""
        day = _as_date(run_date, "run_date", "run date")
        return self.valid_from <= day <= self.valid_to


def profile_columns() -> dict[str, str]:
    """Column name -> dtype a profile may test: every registered feature plus the shipment details."""
    from features.registry import all_features

    columns = {name: "string" for name in DETAIL_COLUMNS}
    columns.update({f.name: f.dtype for f in all_features()})
    return columns


def parse_profiles(entries: Iterable[Mapping] | None, columns: Mapping[str, str]) -> list[Profile]:
    """Typed profiles from the YAML list; `columns` maps each testable column to its dtype."""
    profiles = [_parse_profile(i, entry, columns) for i, entry in enumerate(entries or [])]
    names = [p.name for p in profiles]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(f"profiles named twice: {duplicates}; give each profile a unique name in conf/base/profiles.yaml")
    return profiles


def _parse_profile(index: int, entry: Mapping, columns: Mapping[str, str]) -> Profile:
    if not isinstance(entry, Mapping):
        raise UserError(f"profile #{index + 1}: expected a mapping with fields {list(REQUIRED_FIELDS)}")
    label = str(entry.get("name") or f"#{index + 1}")

    def fail(field: str, problem: str) -> UserError:
        return UserError(f"profile {label!r}: field {field!r}: {problem}; fix it in conf/base/profiles.yaml")

    for field in REQUIRED_FIELDS:
        if entry.get(field) in (None, "", []):
            raise fail(field, "is missing or empty")
    unknown = sorted(set(entry) - set(REQUIRED_FIELDS) - {"amount", "notes"})
    if unknown:
        raise fail(unknown[0], f"is not a profile field (fields: {list(REQUIRED_FIELDS) + ['amount', 'notes']})")
    action = entry["action"]
    if action not in ACTIONS:
        raise fail("action", f"{action!r} is not one of {list(ACTIONS)}")
    amount = _parse_amount(entry.get("amount"), action, fail)
    valid_from = _as_date(entry["valid_from"], "valid_from", label)
    valid_to = _as_date(entry["valid_to"], "valid_to", label)
    if valid_from > valid_to:
        raise fail("valid_to", f"{valid_to} is before valid_from {valid_from}")
    if not isinstance(entry["conditions"], list):
        raise fail("conditions", "must be a list of {feature: ..., <operator>: ...}")
    conditions = tuple(
        cond for i, raw in enumerate(entry["conditions"]) for cond in _parse_condition(raw, f"conditions[{i}]", columns, fail)
    )
    return Profile(str(entry["name"]), str(entry["reason"]).strip(), conditions, action, amount,
                   valid_from, valid_to, str(entry["owner"]))


def parse_conditions(raw: Any, columns: Mapping[str, str], label: str) -> tuple[Condition, ...]:
    """A list of conditions outside a profile (e.g. the selection policy's novelty rules)."""
    def fail(field: str, problem: str) -> UserError:
        return UserError(f"{label}: field {field!r}: {problem}")

    if not isinstance(raw, list):
        raise fail("conditions", "must be a list of {feature: ..., <operator>: ...}")
    return tuple(cond for i, item in enumerate(raw) for cond in _parse_condition(item, f"[{i}]", columns, fail))


def _parse_amount(raw: Any, action: str, fail) -> float:
    if action != "raise_score":
        if raw is not None:
            raise fail("amount", f"only raise_score takes an amount, not {action}")
        return 0.0
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 < raw <= 1:
        raise fail("amount", f"raise_score needs an amount between 0 (excluded) and 1, got {raw!r}")
    return float(raw)


def _parse_condition(raw: Any, where: str, columns: Mapping[str, str], fail) -> list[Condition]:
    if not isinstance(raw, Mapping) or "feature" not in raw:
        raise fail(where, "must be a mapping like {feature: hs_chapter, in: ['42']}")
    feature = raw["feature"]
    if feature not in columns:
        raise fail(f"{where}.feature", f"unknown feature {feature!r}; known: {sorted(columns)}")
    ops = [key for key in raw if key != "feature"]
    if not ops:
        raise fail(where, f"has no operator; use one of {list(OPERATORS)}")
    return [Condition(feature, op, _parse_value(raw[op], op, columns[feature], f"{where}.{op}", fail)) for op in ops]


def _parse_value(value: Any, op: str, dtype: str, where: str, fail) -> Any:
    if op not in OPERATORS:
        raise fail(where, f"unknown operator {op!r}; use one of {list(OPERATORS)}")
    if op == "is_null":
        if not isinstance(value, bool):
            raise fail(where, "takes true or false")
        return value
    if op in SET_OPS:
        if not isinstance(value, list) or not value:
            raise fail(where, "takes a non-empty list")
        return tuple(_typed(v, dtype, where, fail) for v in value)
    if op in ORDER_OPS and dtype == "string":
        raise fail(where, "compares numbers but the feature is text; use in/eq/contains")
    if op in TEXT_OPS and dtype != "string":
        raise fail(where, "tests text but the feature is a number; use eq/gt/lt")
    return _typed(value, dtype, where, fail)


def _typed(value: Any, dtype: str, where: str, fail) -> Any:
    """YAML reads 42 as a number: codes compared as text must be text, numbers must be numbers."""
    if isinstance(value, (list, dict)) or value is None:
        raise fail(where, f"takes a single value, got {value!r}")
    if dtype == "string":
        return str(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(where, f"the feature is numeric, got {value!r}")
    return value


def _as_date(value: Any, field: str, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UserError(f"profile {label!r}: field {field!r}: {value!r} is not a date YYYY-MM-DD") from None


def active_profiles(profiles: Iterable[Profile], run_date: dt.date | str) -> list[Profile]:
    return [p for p in profiles if p.is_active(run_date)]


def condition_column(cond: Condition) -> Column:
    """One condition as a Spark boolean; a null value never matches (except is_null)."""
    col = F.col(cond.feature)
    if cond.op == "is_null":
        return col.isNull() if cond.value else col.isNotNull()
    value = cond.value
    expr = {
        "in": lambda: col.isin(list(value)),
        "not_in": lambda: ~col.isin(list(value)),
        "eq": lambda: col == F.lit(value),
        "ne": lambda: col != F.lit(value),
        "gt": lambda: col > F.lit(value),
        "gte": lambda: col >= F.lit(value),
        "lt": lambda: col < F.lit(value),
        "lte": lambda: col <= F.lit(value),
        "contains": lambda: col.contains(F.lit(value)),
    }[cond.op]()
    return F.coalesce(expr, F.lit(False))


def profile_hit(profile: Profile) -> Column:
    """True where every condition of the profile holds."""
    hit = F.lit(True)
    for cond in profile.conditions:
        hit = hit & condition_column(cond)
    return hit


def check_columns(df: DataFrame, profiles: Iterable[Profile]) -> None:
    missing = sorted({(p.name, c.feature) for p in profiles for c in p.conditions if c.feature not in df.columns})
    if missing:
        raise UserError(f"profiles test columns the scored frame lacks: {missing}; rebuild features or fix the profiles")


def apply_profiles(scored: DataFrame, profiles: Iterable[Profile], run_date: dt.date | str) -> DataFrame:
    """Add profile_hits (names, in conf order), forced_red, excluded and score_adjusted.

    Only profiles valid on run_date count. raise_score amounts add up and the result stays
    a probability-like number in [0, 1] so it still ranks against plain scores.
    """
    live = active_profiles(profiles, run_date)
    check_columns(scored, live)
    hits = {p.name: profile_hit(p) for p in live}

    def any_hit(action: str) -> Column:
        flags = [hits[p.name] for p in live if p.action == action]
        return F.greatest(*flags, F.lit(False)) if flags else F.lit(False)

    raise_by = F.lit(0.0)
    for p in live:
        if p.action == "raise_score":
            raise_by = raise_by + F.when(hits[p.name], F.lit(p.amount)).otherwise(F.lit(0.0))
    names = F.array(*[F.when(hits[p.name], F.lit(p.name)) for p in live]).cast("array<string>")
    return scored.select(
        *scored.columns,
        F.filter(names, lambda n: n.isNotNull()).alias("profile_hits"),
        any_hit("force_red").alias("forced_red"),
        any_hit("exclude").alias("excluded"),
        F.least(F.col("score") + raise_by, F.lit(1.0)).alias("score_adjusted"),
    )

"""Who gets inspected: profiles, a random control sample, the model's best, and some exploration.

Pure Spark over the day's scored consignments, office by office, with no collect:

1. PROFILE: consignments hit by a force_red profile valid on the run date (always selected,
   they use up the office's capacity first).
2. RANDOM: a control sample at `random_rate`, drawn from a hash of seed, run date and
   consignment id, so a re-run draws the same rows. It is drawn over every consignment,
   excluded or forced ones included, and a drawn row is recorded as RANDOM: the control sample
   stays a true random sample. RANDOM rows use no capacity and no exporter/consignee cap.
3. MODEL: the highest profile-adjusted scores at or above `lanes.red_min_score`, up to the
   office capacity left after PROFILE and the exploration share, at most `caps.per_exporter`
   and `caps.per_consignee` rows per party (counting PROFILE rows of that party).
4. EXPLORATION: `exploration.share` of the capacity for consignments the model is unsure
   about (score within `exploration.band` of the office's model cut-off, i.e. its lowest
   MODEL score, or of `red_min_score` if MODEL took none) or that are novel
   (`exploration.novel_when`, conditions ORed), drawn in hash order, under the same caps.
   Exploration slots left empty go back to the next best model scores.

Profiles with action exclude keep a consignment out of MODEL and EXPLORATION (and make it
GREEN), never out of RANDOM. Lanes: selected -> RED; else score_adjusted >= amber_min_score
-> AMBER (document check); else GREEN.

The AMBER queue (`queue_for_office`): of an office's AMBER rows, the first
`amber_queue_per_office` in rank order (highest score first) are listed for a document check
beside the RED list; the other AMBER rows keep their lane in the scores but reach no one.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from models.profiles import Profile, apply_profiles, condition_column, parse_conditions
from pipelines.errors import UserError

BASIS_ORDER = ("PROFILE", "MODEL", "EXPLORATION", "RANDOM")
# The contract's outcome selection_reason of each basis: what the outcome of an inspection will say.
CONTRACT_REASON = {"PROFILE": "RISK", "MODEL": "RISK", "EXPLORATION": "EXPLORATION", "RANDOM": "RANDOM"}
OFFICE = "customs_office"
ADDED_COLUMNS = ("profile_hits", "forced_red", "excluded", "score_adjusted", "selected", "selection_basis",
                 "selection_reason", "lane", "rank_in_office")
_WHOLE = (Window.unboundedPreceding, Window.unboundedFollowing)
SLIM_COLUMNS = ("consignment_id", OFFICE, "score", "exporter_id", "consignee_id", "profile_hits", "forced_red",
                "excluded", "score_adjusted")


def check_policy(policy: Mapping[str, Any], columns: Mapping[str, str]) -> dict[str, Any]:
    """The policy with its numbers checked and novelty rules parsed; call it at start-up."""
    def number(path: str, low: float, high: float) -> float:
        node: Any = policy
        for key in path.split("."):
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, bool) or not isinstance(node, (int, float)) or not low <= node <= high:
            raise UserError(f"selection policy: {path} must be a number in [{low}, {high}], got {node!r}; "
                            "fix conf/base/selection.yaml")
        return node

    for path, (low, high) in {"random_rate": (0, 1), "seed": (0, 2**63), "default_office_capacity": (0, 10**7),
                              "exploration.share": (0, 1), "exploration.band": (0, 1), "caps.per_exporter": (1, 10**7),
                              "caps.per_consignee": (1, 10**7), "lanes.red_min_score": (0, 1),
                              "lanes.amber_min_score": (0, 1), "amber_queue_per_office": (0, 10**7)}.items():
        number(path, low, high)
    if isinstance(policy["amber_queue_per_office"], float):
        raise UserError("selection policy: amber_queue_per_office must be a whole number; fix conf/base/selection.yaml")
    if policy["lanes"]["amber_min_score"] > policy["lanes"]["red_min_score"]:
        raise UserError("selection policy: lanes.amber_min_score is above red_min_score; fix conf/base/selection.yaml")
    capacities = policy.get("office_capacity") or {}
    bad = {k: v for k, v in capacities.items() if isinstance(v, bool) or not isinstance(v, int) or v < 0}
    if bad:
        raise UserError(f"selection policy: office_capacity needs whole numbers >= 0, got {bad}")
    novel = parse_conditions(policy["exploration"].get("novel_when") or [], columns, "selection policy exploration.novel_when")
    return {**policy, "office_capacity": dict(capacities), "novel_conditions": novel}


def select_for_inspection(scored: DataFrame, profiles: Iterable[Profile], policy: Mapping[str, Any],
                          run_date: str | dt.date) -> DataFrame:
    """Every input consignment with its lane and selection (see the module doc).

    `policy` is checked by `check_policy` (done here too if the caller has not).
    Adds ADDED_COLUMNS to the input columns. Reasons are models.reasons.add_reasons' work, for
    the rows someone will read: a night lists a few hundred of its million rows.
    """
    if "novel_conditions" not in policy:
        from models.profiles import profile_columns
        policy = check_policy(policy, {**{c: "string" for c in scored.columns}, **profile_columns()})
    # The same day always hashes the same, whether given as a date or as text.
    run_date = dt.date.fromisoformat(str(run_date)[:10]).isoformat()
    profiles = list(profiles)
    df = _slim(apply_profiles(scored, profiles, run_date), policy)
    df = _mark_random(df, policy, run_date)
    df = _plan_slots(df, policy)
    model_candidate = ~F.col("is_random") & ~F.col("forced_red") & ~F.col("excluded") & (
        F.col("score_adjusted") >= F.lit(policy["lanes"]["red_min_score"]))
    profile_taken = F.col("forced_red") & ~F.col("is_random")
    by_score = [F.desc("score_adjusted"), F.asc("consignment_id")]
    df = _take_capped(df, model_candidate, profile_taken, by_score, "n_model", "is_model", policy)
    df = _take_capped(df, _exploration_candidate(df, policy), profile_taken | F.col("is_model"),
                      [F.asc("explore_order"), F.asc("consignment_id")], "n_explore", "is_exploration", policy)
    df = _refill(df, model_candidate, profile_taken, by_score, policy)
    df = _label(df, policy)
    kept = [F.col(c) if c in SLIM_COLUMNS else F.col("_payload")[c].alias(c) for c in scored.columns]
    return df.select(*kept, *ADDED_COLUMNS)  # kept: the input columns in their order


def _slim(df: DataFrame, policy: Mapping[str, Any]) -> DataFrame:
    """What the windows need, the other columns packed in one struct, repartitioned by office.

    The scored frame has a couple of hundred columns; carrying them through a dozen window
    sorts costs more than the selection itself. Every window below partitions by office (and
    maybe a party), so one shuffle by office up front serves them all, leaving only sorts.
    """
    conditions = policy["novel_conditions"]
    missing = sorted({c.feature for c in conditions} - set(df.columns))
    if missing:
        raise UserError(f"selection policy exploration.novel_when tests columns the scored frame lacks: {missing}; "
                        "rebuild features or fix conf/base/selection.yaml")
    novel = F.lit(False)
    for cond in conditions:
        novel = novel | condition_column(cond)
    payload = [c for c in df.columns if c not in SLIM_COLUMNS]
    return df.select(*SLIM_COLUMNS, novel.alias("is_novel"), F.struct(*payload).alias("_payload")).repartition(OFFICE)


def _hash_unit(seed: Any, run_date: str, purpose: str) -> Column:
    """A reproducible number in [0, 1) per consignment; rand() would change with partitioning."""
    digest = F.xxhash64(F.lit(str(seed)), F.lit(run_date), F.lit(purpose), F.col("consignment_id"))
    return F.pmod(digest, F.lit(1_000_000)).cast("double") / F.lit(1_000_000.0)


def _mark_random(df: DataFrame, policy: Mapping[str, Any], run_date: str) -> DataFrame:
    return df.select(
        "*",
        (_hash_unit(policy["seed"], run_date, "random") < F.lit(float(policy["random_rate"]))).alias("is_random"),
        _hash_unit(policy["seed"], run_date, "exploration").alias("explore_order"),
    )


def _office_capacity(policy: Mapping[str, Any]) -> Column:
    default = F.lit(int(policy["default_office_capacity"]))
    capacities = policy["office_capacity"]
    if not capacities:
        return default
    pairs = [F.lit(x) for office, cap in sorted(capacities.items()) for x in (str(office), int(cap))]
    return F.coalesce(F.try_element_at(F.create_map(*pairs), F.col(OFFICE)), default)


def _plan_slots(df: DataFrame, policy: Mapping[str, Any]) -> DataFrame:
    """Per office: PROFILE rows first, then the exploration share, the rest for the model."""
    office = Window.partitionBy(OFFICE).rowsBetween(*_WHOLE)
    capacity = _office_capacity(policy)
    n_forced = F.sum((F.col("forced_red") & ~F.col("is_random")).cast("int")).over(office)
    free = F.greatest(capacity - n_forced, F.lit(0))
    n_explore = F.least(free, F.floor(capacity * F.lit(float(policy["exploration"]["share"]))).cast("int"))
    return df.select("*", n_explore.alias("n_explore"), (free - n_explore).alias("n_model"))


def _exploration_candidate(df: DataFrame, policy: Mapping[str, Any]) -> Column:
    # The decision boundary is where the model's list stopped in this office (its lowest
    # selected score), or the RED threshold when it selected nothing.
    office = Window.partitionBy(OFFICE).rowsBetween(*_WHOLE)
    cutoff = F.min(F.when(F.col("is_model"), F.col("score_adjusted"))).over(office)
    boundary = F.coalesce(cutoff, F.lit(float(policy["lanes"]["red_min_score"])))
    uncertain = F.abs(F.col("score_adjusted") - boundary) <= F.lit(float(policy["exploration"]["band"]))
    free = ~F.col("is_random") & ~F.col("forced_red") & ~F.col("excluded") & ~F.col("is_model")
    return free & (uncertain | F.col("is_novel"))


def _take_capped(df: DataFrame, candidate: Column, taken: Column, order: list[Column], slots: str, flag: str,
                 policy: Mapping[str, Any]) -> DataFrame:
    """Flag the first `slots` candidates per office in `order`, at most cap per exporter and consignee.

    A party's rows already taken (`taken`) count against its cap. Caps apply one after the
    other, so a row dropped by the exporter cap never blocks one of the consignee's.
    """
    df = df.select("*", candidate.alias("_ok"), taken.cast("int").alias("_taken"))
    for party, cap in (("exporter_id", policy["caps"]["per_exporter"]), ("consignee_id", policy["caps"]["per_consignee"])):
        # Candidates sort first, so their row number is their rank among the party's candidates;
        # one partitioning and order for both windows lets Spark compute them in one pass.
        in_party = Window.partitionBy(OFFICE, party).orderBy(F.desc("_ok"), *order)
        party_taken = F.sum("_taken").over(in_party.rowsBetween(*_WHOLE))
        within = F.row_number().over(in_party) + party_taken <= F.lit(int(cap))
        df = df.select(*[c for c in df.columns if c != "_ok"], (F.col("_ok") & within).alias("_ok"))
    rank = F.row_number().over(Window.partitionBy(OFFICE).orderBy(F.desc("_ok"), *order))
    chosen = F.col("_ok") & (rank <= F.col(slots))
    return df.select(*[c for c in df.columns if c not in ("_ok", "_taken")], chosen.alias(flag))


def _refill(df: DataFrame, model_candidate: Column, profile_taken: Column, by_score: list[Column],
            policy: Mapping[str, Any]) -> DataFrame:
    """Exploration slots left empty (too few candidates) go back to the next best model scores."""
    office = Window.partitionBy(OFFICE).rowsBetween(*_WHOLE)
    used = F.sum((F.col("is_model") | F.col("is_exploration")).cast("int")).over(office)
    df = df.select("*", (F.col("n_model") + F.col("n_explore") - used).alias("n_refill"))
    taken = profile_taken | F.col("is_model") | F.col("is_exploration")
    candidate = model_candidate & ~F.col("is_model") & ~F.col("is_exploration")
    df = _take_capped(df, candidate, taken, by_score, "n_refill", "is_refill", policy)
    columns = [c for c in df.columns if c not in ("is_model", "is_refill")]
    return df.select(*columns, (F.col("is_model") | F.col("is_refill")).alias("is_model"))


def _label(df: DataFrame, policy: Mapping[str, Any]) -> DataFrame:
    basis = (F.when(F.col("is_random"), F.lit("RANDOM"))
             .when(F.col("forced_red"), F.lit("PROFILE"))
             .when(F.col("is_model"), F.lit("MODEL"))
             .when(F.col("is_exploration"), F.lit("EXPLORATION")))
    selected = basis.isNotNull()
    amber = ~F.col("excluded") & (F.col("score_adjusted") >= F.lit(float(policy["lanes"]["amber_min_score"])))
    lane = F.when(selected, F.lit("RED")).when(amber, F.lit("AMBER")).otherwise(F.lit("GREEN"))
    reason = F.create_map(*[F.lit(x) for pair in CONTRACT_REASON.items() for x in pair])
    df = df.select("*", basis.alias("selection_basis"), selected.alias("selected"), lane.alias("lane"))
    priority = F.array_position(F.array(*[F.lit(b) for b in BASIS_ORDER]), F.col("selection_basis"))
    # Listed rows first (PROFILE, MODEL, EXPLORATION, RANDOM), each by score; then the rest by score.
    rank = F.row_number().over(Window.partitionBy(OFFICE).orderBy(
        F.desc("selected"), F.asc(priority), F.desc("score_adjusted"), F.asc("consignment_id")))
    return df.select("*", F.try_element_at(reason, F.col("selection_basis")).alias("selection_reason"),
                     rank.alias("rank_in_office"))


def queue_for_office(selected: DataFrame, policy: Mapping[str, Any]) -> DataFrame:
    """The rows that reach someone: every RED (selected) row, and each office's AMBER queue, the
    first `amber_queue_per_office` AMBER rows by rank_in_office. Input: select_for_inspection's output."""
    size = int(policy["amber_queue_per_office"])
    red = selected.where(F.col("selected"))
    if size == 0:
        return red
    in_queue = Window.partitionBy(OFFICE).orderBy(F.asc("rank_in_office"), F.asc("consignment_id"))
    amber = selected.where(~F.col("selected") & (F.col("lane") == F.lit("AMBER")))
    queued = amber.select("*", F.row_number().over(in_queue).alias("_queue_rank")).where(F.col("_queue_rank") <= size)
    return red.unionByName(queued.select(*selected.columns))

"""Watch-list hits: which parties of a consignment are on an active watch-list when it is lodged.

A listing is active for a consignment lodged on D when it was known here by D and has not
expired: known_from <= D <= expires_on (an empty expires_on is open-ended), where known_from is
the later of listed_on and received_on (a partner's entry counts from the day it reached this
administration: a back-dated listed_on must not reach back in time). Listings known after D
are invisible to it, so a later snapshot with new entries leaves the features of day D unchanged.
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.parties import PARTY_ROLES
from features.registry import FeatureDef

SOURCES = ("intelligence", "manifests", "declarations")
AT_LODGING = "active on the day of lodging"


def _hits_feature(role: str) -> FeatureDef:
    return FeatureDef(
        f"watchlist_hits_{role}", "integer", "numeric", "intelligence",
        f"sources with an active watch-list entry for the consignment's {role}", SOURCES, AT_LODGING,
    )


FEATURES: list[FeatureDef] = [_hits_feature(role) for role in PARTY_ROLES] + [
    FeatureDef("watchlist_any", "integer", "flag", "intelligence",
               "1 if any party of the consignment has an active watch-list entry", SOURCES, AT_LODGING),
    FeatureDef("watchlist_sources", "integer", "numeric", "intelligence",
               "distinct sources (HK, GD, MO, INDUSTRY, ...) with an active entry for any party", SOURCES, AT_LODGING),
    FeatureDef("watchlist_days_since_listed", "integer", "numeric", "intelligence",
               "days since the earliest active entry became known here (the later of listed_on and "
               "received_on); null without an active entry",
               SOURCES, AT_LODGING, nullable=True),
    FeatureDef("watchlist_top_source", "string", "categorical", "intelligence",
               "source of the earliest active entry (for inspection reasons)", SOURCES, AT_LODGING,
               nullable=True, model_input=False),
    FeatureDef("watchlist_top_role", "string", "categorical", "intelligence",
               "party role of the earliest active entry (for inspection reasons)", SOURCES, AT_LODGING,
               nullable=True, model_input=False),
    FeatureDef("watchlist_top_listed_on", "string", "categorical", "intelligence",
               "day (ISO) the earliest active entry became known here: the later of listed_on and received_on "
               "(for inspection reasons)", SOURCES, AT_LODGING,
               nullable=True, model_input=False),
]


def _target_parties(targets: DataFrame) -> DataFrame:
    """One row per (consignment, role) naming a party."""
    roles = [
        F.struct(F.lit(role).alias("role"), F.lit(rank).alias("role_rank"), F.col(column).alias("party_id"))
        for rank, (role, column) in enumerate(PARTY_ROLES.items())
    ]
    exploded = targets.select(F.col("consignment_id"), F.col("lodged_date"), F.explode(F.array(*roles)).alias("p"))
    return exploded.select(
        F.col("consignment_id"), F.col("lodged_date"), F.col("p.role").alias("role"),
        F.col("p.role_rank").alias("role_rank"), F.col("p.party_id").alias("party_id"),
    ).where(F.col("party_id").isNotNull())


def _active_hits(targets: DataFrame, intelligence: DataFrame) -> DataFrame:
    """(consignment, role, source) hits of listings active on the lodging day.

    Several listings may match one party (one per source, or repeated entries): the join
    is many-to-many by design and the rows are reduced per source right after.
    """
    # received_on is optional in the contract: absent, an entry counts from listed_on.
    received = F.col("received_on") if "received_on" in intelligence.columns else F.lit(None).cast("date")
    listings = intelligence.select(
        F.lower(F.col("entity_type")).alias("w_role"), F.col("entity_id").alias("w_entity_id"),
        F.col("source").alias("w_source"),
        F.greatest(F.col("listed_on"), F.coalesce(received, F.col("listed_on"))).alias("w_listed_on"),
        F.col("expires_on").alias("w_expires_on"),
    )
    is_party = (F.col("w_role") == F.col("role")) & (F.col("w_entity_id") == F.col("party_id"))
    is_listed = F.col("w_listed_on") <= F.col("lodged_date")
    not_expired = F.col("w_expires_on").isNull() | (F.col("lodged_date") <= F.col("w_expires_on"))
    hits = _target_parties(targets).join(listings, on=is_party & is_listed & not_expired, how="inner")
    grouped = hits.groupBy(F.col("consignment_id"), F.col("lodged_date"), F.col("role"), F.col("role_rank"),
                           F.col("w_source").alias("source"))
    return grouped.agg(F.min("w_listed_on").alias("listed_on"))


def build_watchlist_features(targets: DataFrame, intelligence: DataFrame) -> DataFrame:
    """consignment_id + watch-list features as of each consignment's lodged_date."""
    hits = _active_hits(targets, intelligence)
    # The top hit is the earliest listing; ties go to the role order of PARTY_ROLES, then the source name.
    top = F.min(F.struct(F.col("listed_on"), F.col("role_rank"), F.col("source"), F.col("role")))
    per_role = [F.count(F.when(F.col("role") == F.lit(role), F.lit(1))).alias(f"watchlist_hits_{role}")
                for role in PARTY_ROLES]
    summary = hits.groupBy(F.col("consignment_id"), F.col("lodged_date")).agg(
        *per_role, F.countDistinct("source").alias("watchlist_sources"), top.alias("top"))
    summary = summary.select(
        F.col("consignment_id"), *[F.col(f"watchlist_hits_{role}") for role in PARTY_ROLES],
        F.col("watchlist_sources"),
        F.datediff(F.col("lodged_date"), F.col("top.listed_on")).alias("watchlist_days_since_listed"),
        F.col("top.source").alias("watchlist_top_source"), F.col("top.role").alias("watchlist_top_role"),
        F.date_format(F.col("top.listed_on"), "yyyy-MM-dd").alias("watchlist_top_listed_on"),
    )
    # summary holds consignments with at least one hit, one row each: a safe lookup.
    joined = targets.select(F.col("consignment_id")).join(summary, on="consignment_id", how="left")
    counts = [f"watchlist_hits_{role}" for role in PARTY_ROLES] + ["watchlist_sources"]
    return joined.select(
        F.col("consignment_id"),
        *[F.coalesce(F.col(c), F.lit(0)).cast("long").alias(c) for c in counts[:-1]],
        F.when(F.coalesce(F.col("watchlist_sources"), F.lit(0)) > 0, 1).otherwise(0).cast("long").alias("watchlist_any"),
        F.coalesce(F.col("watchlist_sources"), F.lit(0)).cast("long").alias("watchlist_sources"),
        F.col("watchlist_days_since_listed").cast("long"),
        F.col("watchlist_top_source"), F.col("watchlist_top_role"), F.col("watchlist_top_listed_on"),
    )

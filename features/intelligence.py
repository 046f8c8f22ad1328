"""Watch-list hits: which parties of a consignment are on an active watch-list when it is lodged.

A listing is active for a consignment lodged on D when it was known here by D and has not
expired: known_from <= D <= expires_on (an empty expires_on is open-ended), where known_from is
the later of listed_on and received_on (a partner's entry counts from the day it reached this
administration: a back-dated listed_on must not reach back in time). Listings known after D
are invisible to it, so a later snapshot with new entries leaves the features of day D unchanged.

Exact and normalised matches. The `watchlist_hits_<role>` features and their companions match
a listing's entity_id to the party id exactly, as written. Partners rarely write an id the
same way, so `watchlist_hits_normalised` / `watchlist_any_normalised` count the listings that
match a party of the same role only after both ids are normalised (`normalise_party_id`), and
not exactly: the two families never count the same (role, source) pair twice. The rule:

1. full-width ASCII forms (U+FF01..U+FF5E) become their ASCII letters, then upper case;
2. every run of characters that is not a letter or digit (spaces, punctuation, ideographic
   space) becomes one separator;
3. trailing legal forms and country codes are dropped while one ends the id after a
   separator (`LEGAL_FORMS`, `COUNTRY_CODES`: "ACME TRADING CO., LTD." -> "ACME TRADING");
4. one leading country code is dropped when a separator or a digit follows it
   ("HK-12345678", "HK 12345678" and "HK12345678" -> "12345678"; "HKTV MALL" is kept);
5. the separators are removed; an id that normalises to nothing matches nothing.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.parties import PARTY_ROLES
from features.registry import FeatureDef

SOURCES = ("intelligence", "manifests", "declarations")
AT_LODGING = "active on the day of lodging"

# Normalisation of party ids (module docstring). Words, not letters: a legal form or a
# country code is dropped only as a whole token.
LEGAL_FORMS = ("CO", "COMPANY", "CORP", "CORPORATION", "INC", "INCORPORATED", "LTD", "LIMITED", "LLC", "LLP",
               "PLC", "GMBH", "AG", "SA", "SARL", "SRL", "SPA", "BV", "NV", "PTE", "PTY", "LDA", "LIMITADA", "KK")
COUNTRY_CODES = ("HK", "HKG", "MO", "MAC", "CN", "CHN")
_FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))


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
    FeatureDef("watchlist_hits_normalised", "integer", "numeric", "intelligence",
               "(party role, source) pairs with an active entry that matches a party of the consignment only "
               "after normalising both ids (case, spaces, punctuation, legal forms, country prefixes; "
               "features/intelligence.py), not exactly", SOURCES, AT_LODGING),
    FeatureDef("watchlist_any_normalised", "integer", "flag", "intelligence",
               "1 if watchlist_hits_normalised > 0", SOURCES, AT_LODGING),
]


def normalise_party_id(column: Column) -> Column:
    """The normalised form of a party id (see the module docstring), null if nothing is left."""
    upper = F.upper(F.translate(column, _FULL_WIDTH, _ASCII))
    spaced = F.trim(F.regexp_replace(upper, r"[^\p{L}\p{N}]+", " "))
    trailing = "|".join((*LEGAL_FORMS, *COUNTRY_CODES))
    no_suffix = F.regexp_replace(spaced, rf"(?: (?:{trailing}))+$", "")
    no_prefix = F.regexp_replace(no_suffix, rf"^(?:{'|'.join(COUNTRY_CODES)})(?: |(?=\p{{N}}))", "")
    compact = F.regexp_replace(no_prefix, " ", "")
    return F.when(compact != F.lit(""), compact)


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


def _listings(intelligence: DataFrame) -> DataFrame:
    """The listings with the day each became known here (w_known_from) and the normalised id."""
    # received_on is optional in the contract: absent, an entry counts from listed_on.
    received = F.col("received_on") if "received_on" in intelligence.columns else F.lit(None).cast("date")
    return intelligence.select(
        F.lower(F.col("entity_type")).alias("w_role"), F.col("entity_id").alias("w_entity_id"),
        normalise_party_id(F.col("entity_id")).alias("w_normalised_id"), F.col("source").alias("w_source"),
        F.greatest(F.col("listed_on"), F.coalesce(received, F.col("listed_on"))).alias("w_listed_on"),
        F.col("expires_on").alias("w_expires_on"),
    )


def _active_hits(parties: DataFrame, listings: DataFrame, normalised: bool) -> DataFrame:
    """(consignment, role, source) hits of listings active on the lodging day: exact id matches,
    or (normalised) matches of the normalised ids between listings whose id differs.

    Several listings may match one party (one per source, or repeated entries): the join
    is many-to-many by design and the rows are reduced per source right after.
    """
    same_role = F.col("w_role") == F.col("role")
    if normalised:
        is_party = same_role & (F.col("w_normalised_id") == F.col("normalised_id")) & (
            F.col("w_entity_id") != F.col("party_id"))
    else:
        is_party = same_role & (F.col("w_entity_id") == F.col("party_id"))
    is_listed = F.col("w_listed_on") <= F.col("lodged_date")
    not_expired = F.col("w_expires_on").isNull() | (F.col("lodged_date") <= F.col("w_expires_on"))
    hits = parties.join(listings, on=is_party & is_listed & not_expired, how="inner")
    grouped = hits.groupBy(F.col("consignment_id"), F.col("lodged_date"), F.col("role"), F.col("role_rank"),
                           F.col("w_source").alias("source"))
    return grouped.agg(F.min("w_listed_on").alias("listed_on"))


def _normalised_summary(parties: DataFrame, listings: DataFrame, exact: DataFrame) -> DataFrame:
    """consignment_id, watchlist_hits_normalised: (role, source) pairs found only after normalising."""
    keyed = parties.select("*", normalise_party_id(F.col("party_id")).alias("normalised_id")) \
        .where(F.col("normalised_id").isNotNull())
    found = _active_hits(keyed, listings.where(F.col("w_normalised_id").isNotNull()), normalised=True)
    only = found.join(exact.select("consignment_id", "role", "source"), on=["consignment_id", "role", "source"],
                      how="left_anti")
    return only.groupBy(F.col("consignment_id")).agg(F.count(F.lit(1)).alias("watchlist_hits_normalised"))


def build_watchlist_features(targets: DataFrame, intelligence: DataFrame) -> DataFrame:
    """consignment_id + watch-list features as of each consignment's lodged_date."""
    parties, listings = _target_parties(targets), _listings(intelligence)
    hits = _active_hits(parties, listings, normalised=False)
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
    # summary and the normalised summary hold one row per consignment with a hit: safe lookups.
    joined = targets.select(F.col("consignment_id")).join(summary, on="consignment_id", how="left") \
        .join(_normalised_summary(parties, listings, hits), on="consignment_id", how="left")
    counts = [f"watchlist_hits_{role}" for role in PARTY_ROLES]
    normalised = F.coalesce(F.col("watchlist_hits_normalised"), F.lit(0))
    return joined.select(
        F.col("consignment_id"),
        *[F.coalesce(F.col(c), F.lit(0)).cast("long").alias(c) for c in counts],
        F.when(F.coalesce(F.col("watchlist_sources"), F.lit(0)) > 0, 1).otherwise(0).cast("long").alias("watchlist_any"),
        F.coalesce(F.col("watchlist_sources"), F.lit(0)).cast("long").alias("watchlist_sources"),
        F.col("watchlist_days_since_listed").cast("long"),
        F.col("watchlist_top_source"), F.col("watchlist_top_role"), F.col("watchlist_top_listed_on"),
        normalised.cast("long").alias("watchlist_hits_normalised"),
        F.when(normalised > 0, 1).otherwise(0).cast("long").alias("watchlist_any_normalised"),
    )

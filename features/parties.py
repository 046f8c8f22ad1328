"""Party history: how long a party has been seen, how much it ships, how often it is caught.

Two steps, so the nightly job never re-reads raw history:

1. `build_party_daily` turns consignments and outcomes into a compact daily aggregate,
   one row per (day, role, party_id, item, item_id). Every event is filed under the day
   it became known: a shipment under its lodged_date, an inspection or seizure under its
   inspected_on (not the lodging day of the consignment it belongs to).
   item = TOTAL rows carry the day's shipments, inspections and seizures; DESTINATION and
   COUNTERPART rows carry the day's shipments per destination country / counterpart.
   Distinct counts are not additive over days, so the per-day distinct (party, day, value)
   rows are kept rather than a sketch: exact, and still small (one row per party-day-value).
2. `build_party_features` reads that aggregate for each target consignment lodged on D
   over days [D-w, D-1]: a window of w days ends the day before lodging, so nothing known
   on D itself (or later) is seen.

Networks that survive identifier rotation (issue 17): infringers replace their front
exporters (and the consignors beside them) within weeks, while the forwarders, brokers
(declarants) and consignees behind them stay. For those PERSISTENT_ROLES the family adds
recent (90-day) and time-decayed smoothed seizure rates, the share of recent consignments
coming from newly seen exporters, and the recent seizures of the exporters they deal with
(two hops). They come from the same range join as the 365-day counts: no extra pass.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.registry import FeatureDef

PARTY_ROLES = {
    "exporter": "exporter_id",
    "consignor": "consignor_id",
    "consignee": "consignee_id",
    "forwarder": "forwarder_id",
    "declarant": "declarant_id",
}
# Whom a party deals with: a shipper's counterparts are its consignees, an agent's or a
# consignee's counterparts are the exporters it serves or buys from.
COUNTERPART_ROLE = {
    "exporter": "consignee",
    "consignor": "consignee",
    "consignee": "exporter",
    "forwarder": "exporter",
    "declarant": "exporter",
}
# Roles that persist while exporters rotate; their counterparts are exporters, so "new
# counterparts" means new front exporters. They get the network and recency features.
PERSISTENT_ROLES = ("forwarder", "declarant", "consignee")
NETWORK_ROLES = PERSISTENT_ROLES  # roles with the share of new exporters
OPTIONAL_ROLES = ("forwarder", "declarant")  # their id columns are optional in the contract
# The windows are part of the feature names, so they are defined with the registry.
WINDOWS = (30, 90, 365)
LONGEST_WINDOW = max(WINDOWS)
NETWORK_WINDOW = 90

ITEM_TOTAL, ITEM_DESTINATION, ITEM_COUNTERPART = "TOTAL", "DESTINATION", "COUNTERPART"
PARTY_DAILY_COLUMNS = ("day", "role", "party_id", "item", "item_id", "shipments", "inspections", "seizures")
SOURCES = ("manifests", "declarations", "outcomes")
SPARK_TYPE = {"integer": "long", "double": "double"}


@dataclass(frozen=True)
class PartyParams:
    """Tunables from conf/base/parties.yaml."""

    seizure_prior: float  # the seizure rate assumed for a party with no inspections
    prior_strength: float  # how many inspections the prior is worth
    new_party_days: int  # an exporter first seen this recently is "new"
    decay_half_life_days: float = 30.0  # an event this many days old weighs half in the decayed sums

    @classmethod
    def from_conf(cls, conf: dict) -> PartyParams:
        rate = conf["seizure_rate"]
        return cls(float(rate["prior"]), float(rate["strength"]), int(conf["new_party_days"]),
                   float(conf["decay_half_life_days"]))


def _role_features(role: str) -> list[FeatureDef]:
    def feat(name, dtype, meaning, window, nullable=False, sources=SOURCES):
        return FeatureDef(f"{role}_{name}", dtype, "numeric", "party", meaning, sources, window, nullable)

    before = "days before lodging"
    out = [feat("days_since_first_seen", "integer",
                f"days since the {role}'s first consignment, looking back at most {LONGEST_WINDOW} days "
                f"(0 = first seen today); null when the consignment names no {role}",
                f"{LONGEST_WINDOW} {before}", nullable=role in OPTIONAL_ROLES, sources=("manifests", "declarations"))]
    out += [feat(f"shipments_{w}d", "integer", f"consignments of the {role} lodged in the window",
                 f"{w} {before}", sources=("manifests", "declarations")) for w in WINDOWS]
    out += [
        feat("distinct_destinations_365d", "integer", f"distinct destination countries of the {role}'s consignments",
             f"365 {before}", sources=("manifests", "declarations")),
        feat("distinct_counterparts_365d", "integer",
             f"distinct {COUNTERPART_ROLE[role]}s the {role} dealt with", f"365 {before}",
             sources=("manifests", "declarations")),
    ]
    out += [feat(f"inspections_{w}d", "integer", f"inspections of the {role}'s consignments, by inspection day",
                 f"{w} {before}") for w in (90, 365)]
    out += [feat(f"seizures_{w}d", "integer", f"seizures from the {role}'s consignments, by inspection day",
                 f"{w} {before}") for w in WINDOWS]
    out += [
        feat("seizure_rate_365d", "double",
             "(seizures + prior * strength) / (inspections + strength): a smoothed seizure rate", f"365 {before}"),
        feat("counterpart_seizures_365d", "integer",
             f"seizures of the {COUNTERPART_ROLE[role]}s the {role} dealt with (as {COUNTERPART_ROLE[role]})",
             f"365 {before}"),
    ]
    if role in NETWORK_ROLES:
        out.append(feat(f"new_exporter_share_{NETWORK_WINDOW}d", "double",
                        f"share of the {role}'s exporters of the last {NETWORK_WINDOW} days whose first consignment "
                        "was in the last new_party_days (conf) days; null when it has no exporters in the window",
                        f"{NETWORK_WINDOW} {before}", nullable=True, sources=("manifests", "declarations")))
    if role in PERSISTENT_ROLES:
        out += _persistent_features(role, feat)
    return out


def _persistent_features(role: str, feat) -> list[FeatureDef]:
    before, w = "days before lodging", NETWORK_WINDOW
    decay = "weighted 0.5 ** (age in days / decay_half_life_days (conf)), age 1 = the day before lodging"
    return [
        feat(f"seizure_rate_{w}d", "double",
             "(seizures + prior * strength) / (inspections + strength) over the recent window", f"{w} {before}"),
        feat(f"new_exporter_consignment_share_{w}d", "double",
             f"share of the {role}'s consignments of the last {w} days whose exporter's first consignment was in "
             "the last new_party_days (conf) days; null when it has no consignments in the window",
             f"{w} {before}", nullable=True, sources=("manifests", "declarations")),
        feat(f"counterpart_seizures_{w}d", "integer",
             f"seizures in the window of the exporters the {role} dealt with in the window (as exporters)",
             f"{w} {before}"),
        feat("seizures_decayed", "double", f"seizures from the {role}'s consignments, by inspection day, {decay}",
             f"{LONGEST_WINDOW} {before}"),
        feat("inspections_decayed", "double", f"inspections of the {role}'s consignments, {decay}",
             f"{LONGEST_WINDOW} {before}"),
        feat("seizure_rate_decayed", "double",
             "(decayed seizures + prior * strength) / (decayed inspections + strength)", f"{LONGEST_WINDOW} {before}"),
    ]


FEATURES: list[FeatureDef] = [f for role in PARTY_ROLES for f in _role_features(role)]


def _party_rows(consignments: DataFrame) -> DataFrame:
    """One row per (consignment, role) naming a party, with its counterpart for that role."""
    roles = [
        F.struct(
            F.lit(role).alias("role"),
            F.col(column).alias("party_id"),
            F.col(PARTY_ROLES[COUNTERPART_ROLE[role]]).alias("counterpart_id"),
        )
        for role, column in PARTY_ROLES.items()
    ]
    exploded = consignments.select(
        F.col("consignment_id"), F.col("lodged_date"), F.col("destination_country"),
        F.explode(F.array(*roles)).alias("p"),
    )
    return exploded.select(
        F.col("consignment_id"), F.col("lodged_date"), F.col("destination_country"),
        F.col("p.role").alias("role"), F.col("p.party_id").alias("party_id"),
        F.col("p.counterpart_id").alias("counterpart_id"),
    ).where(F.col("party_id").isNotNull())


def _daily_counts(rows: DataFrame, item: str, item_id) -> DataFrame:
    grouped = rows.groupBy(F.col("lodged_date").alias("day"), F.col("role"), F.col("party_id"), item_id.alias("item_id"))
    counted = grouped.agg(F.count(F.lit(1)).alias("shipments"))
    return counted.select(
        F.col("day"), F.col("role"), F.col("party_id"), F.lit(item).alias("item"), F.col("item_id").cast("string"),
        F.col("shipments"), F.lit(0).cast("long").alias("inspections"), F.lit(0).cast("long").alias("seizures"),
    )


def build_shipment_daily(consignments: DataFrame) -> DataFrame:
    """Shipment rows of the aggregate, filed under lodged_date."""
    rows = _party_rows(consignments)
    totals = _daily_counts(rows, ITEM_TOTAL, F.lit(None))
    destinations = _daily_counts(rows.where(F.col("destination_country").isNotNull()), ITEM_DESTINATION,
                                 F.col("destination_country"))
    counterparts = _daily_counts(rows.where(F.col("counterpart_id").isNotNull()), ITEM_COUNTERPART,
                                 F.col("counterpart_id"))
    return totals.unionByName(destinations).unionByName(counterparts)


def build_outcome_daily(consignments: DataFrame, outcomes: DataFrame) -> DataFrame:
    """Inspection rows of the aggregate, filed under inspected_on: that is when they became known."""
    known = outcomes.select(
        F.col("consignment_id"), F.col("inspected_on"),
        F.when(F.col("result") == F.lit("SEIZED"), 1).otherwise(0).alias("is_seized"),
    )
    # outcomes are unique per consignment (validation keeps the latest), so each party row gains one outcome.
    parties = _party_rows(consignments).join(known, on="consignment_id", how="inner")
    grouped = parties.groupBy(F.col("inspected_on").alias("day"), F.col("role"), F.col("party_id"))
    counted = grouped.agg(F.count(F.lit(1)).alias("inspections"), F.sum("is_seized").cast("long").alias("seizures"))
    return counted.select(
        F.col("day"), F.col("role"), F.col("party_id"), F.lit(ITEM_TOTAL).alias("item"),
        F.lit(None).cast("string").alias("item_id"), F.lit(0).cast("long").alias("shipments"),
        F.col("inspections"), F.col("seizures"),
    )


def combine_party_daily(shipment_rows: DataFrame, outcome_rows: DataFrame) -> DataFrame:
    """One row per (day, role, party_id, item, item_id): a day's shipments and outcomes summed."""
    rows = shipment_rows.unionByName(outcome_rows)
    keys = ("day", "role", "party_id", "item", "item_id")
    summed = rows.groupBy(*keys).agg(*[F.sum(c).cast("long").alias(c) for c in ("shipments", "inspections", "seizures")])
    return summed.select(*PARTY_DAILY_COLUMNS)


def build_party_daily(consignments: DataFrame, outcomes: DataFrame) -> DataFrame:
    """The compact daily aggregate of the whole history given: one row per (day, role, party_id, item, item_id)."""
    return combine_party_daily(build_shipment_daily(consignments), build_outcome_daily(consignments, outcomes))


def _target_parties(targets: DataFrame) -> DataFrame:
    """One row per (consignment, role) naming a party: all roles are computed in one pass."""
    roles = [F.struct(F.lit(role).alias("role"), F.col(column).alias("party_id")) for role, column in PARTY_ROLES.items()]
    exploded = targets.select(F.col("consignment_id"), F.col("lodged_date"), F.explode(F.array(*roles)).alias("p"))
    return exploded.select(
        F.col("consignment_id"), F.col("lodged_date"), F.col("p.role").alias("role"), F.col("p.party_id").alias("party_id"),
    ).where(F.col("party_id").isNotNull())


def _history_in_window(keys: DataFrame, history: DataFrame) -> DataFrame:
    """Each (role, party_id, lodged_date) key with the aggregate rows of days [D-365, D-1].

    A range join: the aggregate has many days per party by design, each key collects its window.
    An inner join, so Spark may broadcast a night's few keys (a left join could only broadcast
    the history): a key with no history has no rows here, and callers fill it back.
    """
    h = history.select(*[F.col(c).alias(f"h_{c}") for c in PARTY_DAILY_COLUMNS])
    in_window = (
        (F.col("h_role") == F.col("role"))
        & (F.col("h_party_id") == F.col("party_id"))
        & (F.col("h_day") < F.col("lodged_date"))
        & (F.col("h_day") >= F.date_sub(F.col("lodged_date"), LONGEST_WINDOW))
    )
    return keys.join(h, on=in_window, how="inner")


def _since(days: int):
    return F.col("h_day") >= F.date_sub(F.col("lodged_date"), days)


def _window_stats(joined: DataFrame, params: PartyParams) -> DataFrame:
    """Counts, first-seen and smoothed rate per (role, party_id, lodged_date)."""
    is_total = F.col("h_item") == F.lit(ITEM_TOTAL)

    def total(measure: str, days: int):
        return F.coalesce(F.sum(F.when(is_total & _since(days), F.col(f"h_{measure}"))), F.lit(0)).cast("long")

    def distinct(item: str):
        return F.countDistinct(F.when(F.col("h_item") == F.lit(item), F.col("h_item_id"))).cast("long")

    first_seen = F.min(F.when(is_total & (F.col("h_shipments") > 0), F.col("h_day")))
    aggs = [F.coalesce(F.datediff(F.col("lodged_date"), first_seen), F.lit(0)).alias("days_since_first_seen")]
    aggs += [total("shipments", w).alias(f"shipments_{w}d") for w in WINDOWS]
    aggs += [distinct(ITEM_DESTINATION).alias("distinct_destinations_365d"),
             distinct(ITEM_COUNTERPART).alias("distinct_counterparts_365d")]
    aggs += [total("inspections", w).alias(f"inspections_{w}d") for w in (90, 365)]
    aggs += [total("seizures", w).alias(f"seizures_{w}d") for w in WINDOWS]
    # Exponential decay inside the 365-day window: beyond it a weight is below 0.5 ** 12 at a
    # 30-day half-life, so the window cuts nothing that matters.
    weight = F.pow(F.lit(0.5), F.datediff(F.col("lodged_date"), F.col("h_day")) / F.lit(params.decay_half_life_days))
    aggs += [F.coalesce(F.sum(F.when(is_total, F.col(f"h_{m}") * weight)), F.lit(0.0)).alias(f"{m}_decayed")
             for m in ("seizures", "inspections")]
    counted = joined.groupBy(F.col("role"), F.col("party_id"), F.col("lodged_date")).agg(*aggs)
    rates = [_smoothed(f"seizures_{w}", f"inspections_{w}", params).alias(f"seizure_rate_{w}")
             for w in ("365d", f"{NETWORK_WINDOW}d", "decayed")]
    return counted.select(*[F.col(c) for c in counted.columns], *rates)


def _smoothed(seizures: str, inspections: str, params: PartyParams):
    """(seizures + prior * strength) / (inspections + strength): few inspections stay near the prior."""
    prior = F.lit(params.seizure_prior * params.prior_strength)
    return ((F.col(seizures) + prior) / (F.col(inspections) + F.lit(params.prior_strength))).cast("double")


def _prior_rate(params: PartyParams) -> float:
    """The smoothed rate of a party never inspected, computed as `_smoothed` computes it (same rounding)."""
    return (0.0 + params.seizure_prior * params.prior_strength) / (0.0 + params.prior_strength)


def _network_stats(joined: DataFrame, party_daily: DataFrame, params: PartyParams) -> DataFrame:
    """Seizures among a party's counterparts (365 days, and recent counterparts' recent seizures) and
    the share of its recent counterparts, and of its recent consignments, that come from new exporters."""
    counterpart_of = F.create_map(*[F.lit(x) for pair in COUNTERPART_ROLE.items() for x in pair])
    recent = _since(NETWORK_WINDOW)
    pairs = joined.where(F.col("h_item") == F.lit(ITEM_COUNTERPART)).groupBy(
        F.col("role"), F.col("party_id"), F.col("lodged_date"), F.col("h_item_id").alias("counterpart_id"),
    ).agg(F.max("h_day").alias("last_dealt"),
          F.coalesce(F.sum(F.when(recent, F.col("h_shipments"))), F.lit(0)).alias("recent_shipments"))
    pairs = pairs.withColumn("counterpart_role", counterpart_of[F.col("role")])
    # Each counterpart's own record as of the same lodging day, over the same look-back.
    other_keys = pairs.select(F.col("counterpart_role").alias("role"), F.col("counterpart_id").alias("party_id"),
                              F.col("lodged_date")).distinct()
    totals = party_daily.where(F.col("item") == F.lit(ITEM_TOTAL))
    record = _history_in_window(other_keys, totals).groupBy(F.col("role"), F.col("party_id"), F.col("lodged_date")).agg(
        F.coalesce(F.sum("h_seizures"), F.lit(0)).alias("cp_seizures"),
        F.coalesce(F.sum(F.when(recent, F.col("h_seizures"))), F.lit(0)).alias("cp_recent_seizures"),
        F.min(F.when(F.col("h_shipments") > 0, F.col("h_day"))).alias("cp_first_seen"),
    )
    record = record.select(F.col("role").alias("counterpart_role"), F.col("party_id").alias("counterpart_id"),
                           F.col("lodged_date"), F.col("cp_seizures"), F.col("cp_recent_seizures"),
                           F.col("cp_first_seen"))
    # record is unique per (counterpart_role, counterpart_id, lodged_date): a safe lookup.
    joined_pairs = pairs.join(record, on=["counterpart_role", "counterpart_id", "lodged_date"], how="left")
    is_recent = F.col("last_dealt") >= F.date_sub(F.col("lodged_date"), NETWORK_WINDOW)
    is_new = F.col("cp_first_seen") >= F.date_sub(F.col("lodged_date"), params.new_party_days)
    w = NETWORK_WINDOW
    new_shipments = F.sum(F.when(is_new, F.col("recent_shipments")).otherwise(F.lit(0)))
    all_shipments = F.sum(F.col("recent_shipments"))
    return joined_pairs.groupBy(F.col("role"), F.col("party_id"), F.col("lodged_date")).agg(
        F.sum("cp_seizures").cast("long").alias("counterpart_seizures_365d"),
        F.avg(F.when(is_recent, F.when(is_new, 1.0).otherwise(0.0))).alias(f"new_exporter_share_{w}d"),
        # Two hops, both recent: who the party dealt with lately, and what was seized from them lately.
        F.sum(F.when(is_recent, F.col("cp_recent_seizures"))).cast("long").alias(f"counterpart_seizures_{w}d"),
        F.when(all_shipments > 0, new_shipments / all_shipments).alias(f"new_exporter_consignment_share_{w}d"),
    )


def build_party_features(targets: DataFrame, party_daily: DataFrame, params: PartyParams) -> DataFrame:
    """consignment_id + the party features of every role, from events known before lodged_date."""
    parties = _target_parties(targets)
    keys = parties.select(F.col("role"), F.col("party_id"), F.col("lodged_date")).distinct()
    joined = _history_in_window(keys, party_daily)
    key_columns = ["role", "party_id", "lodged_date"]
    stats = _window_stats(joined, params).join(_network_stats(joined, party_daily, params), on=key_columns, how="left")
    # stats is unique per key; every (consignment, role) row finds at most one. A named party
    # with no history finds none: first seen today (0); its counts and rates are filled below.
    long = parties.join(stats, on=key_columns, how="left").fillna(0, subset=["days_since_first_seen"])
    stat_names = [c for c in stats.columns if c not in key_columns]
    # Pivot names columns "<role>_<stat>": exactly the registry's names.
    wide = long.groupBy(F.col("consignment_id")).pivot("role", list(PARTY_ROLES)).agg(
        *[F.first(c).alias(c) for c in stat_names])
    out = targets.select(F.col("consignment_id")).join(wide, on="consignment_id", how="left")
    return out.select(F.col("consignment_id"), *[_filled(f, params) for f in FEATURES])


def _filled(feature: FeatureDef, params: PartyParams):
    """A consignment naming no party of a role (no forwarder, say) has no history: zero counts, prior rate."""
    value = F.col(feature.name)
    if not feature.nullable:
        default = _prior_rate(params) if "_seizure_rate_" in feature.name else 0
        value = F.coalesce(value, F.lit(default))
    return value.cast(SPARK_TYPE[feature.dtype]).alias(feature.name)

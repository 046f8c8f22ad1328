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
2. `features.party_lookback.build_party_features` reads that aggregate for each target
   consignment lodged on D over days [D-w, D-1]: a window of w days ends the day before
   lodging, so nothing known on D itself (or later) is seen.

Networks that survive identifier rotation (issue 17): infringers replace their front
exporters (and the consignors beside them) within weeks, while the forwarders, brokers
(declarants) and consignees behind them stay. For those PERSISTENT_ROLES the family adds
recent (90-day) and time-decayed smoothed seizure rates, the share of recent consignments
coming from newly seen exporters, and the recent seizures of the exporters they deal with
(two hops).
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


def smoothed_rate(seizures: str, inspections: str, params: PartyParams):
    """(seizures + prior * strength) / (inspections + strength): few inspections stay near the prior."""
    prior = F.lit(params.seizure_prior * params.prior_strength)
    return ((F.col(seizures) + prior) / (F.col(inspections) + F.lit(params.prior_strength))).cast("double")


def prior_rate(params: PartyParams) -> float:
    """The smoothed rate of a party never inspected, computed as `smoothed_rate` computes it (same rounding)."""
    return (0.0 + params.seizure_prior * params.prior_strength) / (0.0 + params.prior_strength)

"""The feature table: one row per consignment with every registered feature.

    build_daily_aggregates(consignments, reference, params) -> {name: daily aggregate frame}
    build_feature_table(consignments, inputs, reference, history, params, party_params=None)

`consignments` is the frame of features.consignments.build_consignments for the target
days only; `inputs` holds the snapshot datasets (rights_holders, intelligence);
`reference` the conf/reference frames (countries, ports, hs_groups); `history` the daily
aggregates read from the workspace (route_daily, hub_region_daily, hs6_daily and, when
the parties family exists, party_daily), which may include the target days and later ones:
every look-back feature filters to days strictly before lodging.

Null filling: a feature declared nullable=False gets DEFAULTS[kind] where its family left
a null (numeric and flag 0, categorical "UNKNOWN"); nullable features keep their nulls.
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.commodity import build_commodity_features, build_hs6_daily
from features.destination import build_destination_features
from features.registry import FeatureDef, all_features
from features.route import build_route_basics, build_route_daily, build_route_history_features
from features.shape import build_shape_features

KEY_COLUMNS = ("consignment_id", "lodged_date", "customs_office")
DEFAULTS = {"numeric": 0, "flag": 0, "categorical": "UNKNOWN"}
SPARK_TYPES = {"integer": "long", "double": "double", "string": "string"}
AGGREGATE_NAMES = ("route_daily", "hub_region_daily", "hs6_daily")


def _optional(module_name: str):
    """A family module built by another part of the project, or None if it does not exist yet."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return None


def _route_keys(consignments: DataFrame, reference: Mapping[str, DataFrame]) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(route basics, destination features, route keys for the look-back aggregates)."""
    basics = build_route_basics(consignments, reference["ports"])
    destination = build_destination_features(consignments, reference["countries"])
    keys = (
        consignments.select("consignment_id", "lodged_date")
        .join(basics.select("consignment_id", "route_key", "route_hub"), on="consignment_id", how="inner")
        .join(destination.select("consignment_id", "dest_region"), on="consignment_id", how="inner")
    )
    return basics, destination, keys


def build_daily_aggregates(consignments: DataFrame, reference: Mapping[str, DataFrame],
                           params: Mapping) -> dict[str, DataFrame]:
    """The route and unit-value daily aggregates of the given consignments (every day they cover)."""
    _, _, keys = _route_keys(consignments, reference)
    aggregates = build_route_daily(keys)
    aggregates["hs6_daily"] = build_hs6_daily(consignments, float(params["unit_value_bucket_width"]))
    return aggregates


def _family_frames(consignments, inputs, reference, history, params, party_params) -> list[DataFrame]:
    basics, destination, keys = _route_keys(consignments, reference)
    frames = [
        destination,
        basics.drop("route_key", "route_hub"),
        build_route_history_features(keys, history["route_daily"], history["hub_region_daily"],
                                     int(params["route_lookback_days"]), int(params["route_recent_days"])),
        build_commodity_features(consignments, reference["hs_groups"], inputs["rights_holders"],
                                 history["hs6_daily"], params),
        build_shape_features(consignments, params),
    ]
    parties = _optional("features.parties")
    if parties is not None:
        if "party_daily" not in history or party_params is None:
            raise ValueError("features.parties exists: pass history['party_daily'] and party_params")
        frames.append(parties.build_party_features(consignments, history["party_daily"], party_params))
    intelligence = _optional("features.intelligence")
    if intelligence is not None:
        frames.append(intelligence.build_watchlist_features(consignments, inputs["intelligence"]))
    return frames


def _filled(feature: FeatureDef):
    value = F.col(feature.name)
    if not feature.nullable:
        value = F.coalesce(value, F.lit(DEFAULTS[feature.kind]))
    return value.cast(SPARK_TYPES[feature.dtype]).alias(feature.name)


def build_feature_table(
    consignments: DataFrame,
    inputs: Mapping[str, DataFrame],
    reference: Mapping[str, DataFrame],
    history: Mapping[str, DataFrame],
    params: Mapping,
    party_params=None,
) -> DataFrame:
    """consignment_id, lodged_date, customs_office + every registered feature, one row per consignment.

    params: the `features` section of conf/base/features.yaml; party_params: the
    features.parties.PartyParams (pipelines.history_store.party_params()) when that family exists.
    """
    table = consignments.select(*KEY_COLUMNS)
    # Each family frame is unique on consignment_id, so every left join keeps one row per consignment.
    for frame in _family_frames(consignments, inputs, reference, history, params, party_params):
        table = table.join(frame, on="consignment_id", how="left")
    return table.select(*KEY_COLUMNS, *[_filled(f) for f in all_features()])


def table_schema():
    """The Spark schema of the feature table, from the registry."""
    from pyspark.sql import types as T

    types = {"integer": T.LongType(), "double": T.DoubleType(), "string": T.StringType()}
    keys = [T.StructField("consignment_id", T.StringType()), T.StructField("lodged_date", T.DateType()),
            T.StructField("customs_office", T.StringType())]
    return T.StructType(keys + [T.StructField(f.name, types[f.dtype], f.nullable) for f in all_features()])


# Closed sets of categorical features, for the feature-table expectations.
CATEGORY_SETS = {
    "dest_region": ["NORTH_AMERICA", "EUROPE", "BELT_AND_ROAD", "OTHER"],
    "cross_boundary_pattern": ["MAINLAND_VIA_HK", "MAINLAND_VIA_MO", "MAINLAND_DIRECT", "HK_REEXPORT", "HK_EXPORT",
                               "MO_REEXPORT", "MO_EXPORT", "OTHER_LOADING"],
    "brand_match_source": ["DECLARED_EXACT", "DECLARED_FUZZY", "DESCRIPTION_EXACT", "DESCRIPTION_FUZZY", "NONE"],
    "transport_mode": ["SEA", "AIR", "ROAD", "RAIL", "POST", "EXPRESS", "UNKNOWN"],
}
# Numeric bounds that hold by construction (mostly: the share of rows that must satisfy them).
NUMERIC_BOUNDS = {
    "detour_ratio": (0.999, None, 0.99),  # a declared route is never shorter than the direct one
    "hub_region_share_shift": (-1.0, 1.0, 1.0),
    "unit_value_robust_z_90d": (-20.0, 20.0, 0.999),
}


def _expect(kind: str, column: str, mostly: float = 1.0, **kwargs) -> dict:
    kw = {"column": column, **kwargs}
    if mostly < 1.0:
        kw["mostly"] = mostly
    return {"type": f"expect_column_values_to_{kind}", "kwargs": kw, "meta": {"reason": "FEATURE_OUT_OF_RANGE"}}


def expectation_suite() -> list[dict]:
    """GX expectations for the feature table, derived from the registry: keys and non-nullable
    features not null, flags 0/1, counts and amounts >= 0, closed categories in their sets.
    Run it with pipelines.expectations.run_suites({"features": table}, {"features": suite}, ...)."""
    suite = [_expect("not_be_null", key) for key in KEY_COLUMNS]
    for f in all_features():
        if not f.nullable:
            suite.append(_expect("not_be_null", f.name))
        if f.kind == "flag":
            suite.append(_expect("be_in_set", f.name, value_set=[0, 1]))
        elif f.name in CATEGORY_SETS:
            suite.append(_expect("be_in_set", f.name, value_set=CATEGORY_SETS[f.name]))
        elif f.name in NUMERIC_BOUNDS:
            low, high, mostly = NUMERIC_BOUNDS[f.name]
            suite.append(_expect("be_between", f.name, mostly, min_value=low, max_value=high))
        elif f.kind == "numeric" and not f.name.endswith(("_z_90d", "_shift")):
            suite.append(_expect("be_between", f.name, min_value=0))
    return [{**e, "meta": {**e["meta"], "index": i}} for i, e in enumerate(suite)]

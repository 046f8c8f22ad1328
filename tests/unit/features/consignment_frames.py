"""Small hand-built frames for the feature tests: contract inputs, consignments, reference data."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import types as T

from pipelines.validation.contract import DATASETS

D = dt.date


def contract_frame(spark, name: str, rows: list[dict], defaults: dict | None = None):
    """A typed contract frame (plus partition_date for partitioned datasets) from dicts."""
    dataset = DATASETS[name]
    fields = list(dataset.spark_schema().fields)
    if dataset.partitioned:
        fields.append(T.StructField("partition_date", T.DateType(), True))
    schema = T.StructType(fields)
    base = defaults or {}
    data = [tuple({**base, **row}.get(f.name) for f in fields) for row in rows]
    return spark.createDataFrame(data, schema)


MANIFEST_DEFAULTS = {
    "manifest_id": "M1", "transport_mode": "SEA", "port_of_loading": "HKHKG", "port_of_discharge": "NLRTM",
    "destination_country": "NL", "departure_date": D(2026, 9, 6), "consignor_id": "CR1", "consignee_id": "CE1",
    "package_count": 10, "gross_weight_kg": 100.0, "partition_date": D(2026, 9, 5),
}
DECLARATION_DEFAULTS = {
    "declaration_id": "DEC1", "item_no": 1, "lodged_at": dt.datetime(2026, 9, 5, 2, 0), "customs_office": "KTT",
    "exporter_id": "EX1", "declaration_type": "EXPORT", "hs_code": "420221", "goods_description": "leather handbag",
    "origin_country": "CN", "quantity": 10.0, "quantity_unit": "PCE", "declared_value": 1000.0, "currency": "HKD",
    "partition_date": D(2026, 9, 5),
}

BRANDED_ITEM = T.StructType([
    T.StructField("declaration_id", T.StringType()), T.StructField("item_no", T.LongType()),
    T.StructField("brand", T.StringType()), T.StructField("value_hkd", T.DoubleType()),
    T.StructField("quantity_base", T.DoubleType()), T.StructField("quantity_dimension", T.StringType()),
])
ITEM = T.StructType([
    T.StructField("declaration_id", T.StringType()), T.StructField("item_no", T.LongType()),
    T.StructField("hs_code", T.StringType()), T.StructField("goods_description", T.StringType()),
    T.StructField("brand", T.StringType()), T.StructField("value_hkd", T.DoubleType()),
    T.StructField("quantity_base", T.DoubleType()), T.StructField("quantity_dimension", T.StringType()),
])
CONSIGNMENT_SCHEMA = T.StructType([
    T.StructField("consignment_id", T.StringType()), T.StructField("lodged_date", T.DateType()),
    T.StructField("lodged_at", T.TimestampType()), T.StructField("customs_office", T.StringType()),
    *[T.StructField(c, T.StringType()) for c in (
        "exporter_id", "declarant_id", "consignor_id", "consignee_id", "forwarder_id", "destination_country",
        "consignee_country", "port_of_loading")],
    T.StructField("route_ports", T.ArrayType(T.StringType())), T.StructField("port_of_discharge", T.StringType()),
    T.StructField("transport_mode", T.StringType()), T.StructField("carrier_code", T.StringType()),
    T.StructField("package_count", T.LongType()), T.StructField("gross_weight_kg", T.DoubleType()),
    T.StructField("n_items", T.LongType()), T.StructField("total_value_hkd", T.DoubleType()),
    T.StructField("hs_codes", T.ArrayType(T.StringType())), T.StructField("main_hs_code", T.StringType()),
    T.StructField("brands", T.ArrayType(T.StringType())), T.StructField("branded_items", T.ArrayType(BRANDED_ITEM)),
    T.StructField("items", T.ArrayType(ITEM)),
    T.StructField("main_goods_description", T.StringType()),
    T.StructField("declaration_type", T.StringType()), T.StructField("main_quantity", T.DoubleType()),
    T.StructField("main_quantity_unit", T.StringType()), T.StructField("main_quantity_base", T.DoubleType()),
    T.StructField("main_quantity_dimension", T.StringType()), T.StructField("main_value_hkd", T.DoubleType()),
    T.StructField("total_quantity_base", T.DoubleType()), T.StructField("net_weight_kg", T.DoubleType()),
])
CONSIGNMENT_DEFAULTS = {
    "lodged_date": D(2026, 9, 5), "lodged_at": dt.datetime(2026, 9, 5, 2, 0), "customs_office": "KTT",
    "exporter_id": "EX1", "consignor_id": "CR1", "consignee_id": "CE1", "destination_country": "NL",
    "port_of_loading": "HKHKG", "route_ports": [], "port_of_discharge": "NLRTM", "transport_mode": "SEA",
    "package_count": 10, "gross_weight_kg": 100.0, "n_items": 1, "total_value_hkd": 1000.0,
    "hs_codes": ["420221"], "main_hs_code": "420221", "brands": [], "main_goods_description": "leather handbag",
    "declaration_type": "EXPORT", "main_quantity": 10.0, "main_quantity_unit": "PCE", "main_quantity_base": 10.0,
    "main_quantity_dimension": "COUNT", "main_value_hkd": 1000.0, "total_quantity_base": 10.0,
}


def _declared_on_main_item(row: dict) -> list[tuple]:
    """branded_items for a row that gives only `brands`: each brand declared on the main item."""
    return [("DEC1", 1, b, row["main_value_hkd"], row["main_quantity_base"], row["main_quantity_dimension"])
            for b in row["brands"]]


def _main_item_only(row: dict) -> list[tuple]:
    """items for a row that gives none: the highest-value item alone, bearing its first brand."""
    brand = row["brands"][0] if row["brands"] else None
    return [("DEC1", 1, row["main_hs_code"], row["main_goods_description"], brand, row["main_value_hkd"],
             row["main_quantity_base"], row["main_quantity_dimension"])]


def consignments(spark, rows: list[dict]):
    """A frame shaped like features.consignments.build_consignments' output.

    A row without `branded_items` has its `brands` declared on the highest-value item; a row
    without `items` has that item only.
    """
    full = [{**CONSIGNMENT_DEFAULTS, **row} for row in rows]
    full = [r if "branded_items" in r else {**r, "branded_items": _declared_on_main_item(r)} for r in full]
    full = [r if "items" in r else {**r, "items": _main_item_only(r)} for r in full]
    data = [tuple(r.get(f.name) for f in CONSIGNMENT_SCHEMA.fields) for r in full]
    return spark.createDataFrame(data, CONSIGNMENT_SCHEMA)


def countries(spark):
    rows = [("NL", "EUROPE", 0), ("GR", "EUROPE", 1), ("US", "NORTH_AMERICA", 0), ("PK", "BELT_AND_ROAD", 1),
            ("JP", "OTHER", 0), ("HK", "OTHER", 0), ("CN", "OTHER", 0)]
    return spark.createDataFrame(rows, "iso2 string, region string, belt_and_road int")


def ports(spark):
    rows = [
        ("HKHKG", 22.30, 114.17, 1, 1), ("CNYTN", 22.57, 114.27, 1, 0), ("SGSIN", 1.26, 103.84, 1, 1),
        ("LKCMB", 6.95, 79.85, 1, 0), ("NLRTM", 51.95, 4.14, 1, 0), ("GRPIR", 37.94, 23.63, 1, 0),
        ("USLAX", 33.74, -118.26, 1, 0), ("MYPEN", 5.41, 100.34, 0, 0), ("AAAAA", 0.0, 0.0, 0, 0),
        ("BBBBB", 0.0, 90.0, 0, 0), ("CCCCC", 0.0, 180.0, 0, 0), ("DDDDD", 90.0, 0.0, 0, 1),
    ]
    return spark.createDataFrame(rows, "locode string, lat double, lon double, is_hub int, is_ftz int")


UNITS_SCHEMA = "code string, name string, dimension string, factor_to_base double, note string"


def units(spark):
    """A few rows shaped like conf/reference/units.csv (its schema string as the pipeline reads it)."""
    rows = [("PCE", "piece", "COUNT", 1.0, None), ("PR", "pair", "COUNT", 1.0, None),
            ("SET", "set", "COUNT", 1.0, None), ("DZN", "dozen", "COUNT", 12.0, None),
            ("KGM", "kilogram", "MASS", 1.0, None), ("GRM", "gram", "MASS", 0.001, None),
            ("CT", "carton", "PACKAGE", None, None)]
    return spark.createDataFrame(rows, UNITS_SCHEMA)


def hs_groups(spark):
    rows = [("42", "LEATHER_GOODS", 1), ("4202", "BAGS", 1), ("91", "WATCHES", 1), ("84", "MACHINERY", 0)]
    return spark.createDataFrame(rows, "hs_prefix string, hs_group string, counterfeit_prone int")


def rights_holders(spark):
    return contract_frame(spark, "rights_holders", [
        {"brand": "Louis Vuitton", "aliases": "LV;Vuitton", "hs_prefixes": "4202;6403",
         "min_genuine_unit_value_hkd": 5000.0, "recorded_on": D(2020, 1, 1)},
        {"brand": "Rolex", "aliases": "", "hs_prefixes": "9101;9102", "min_genuine_unit_value_hkd": 40000.0,
         "recorded_on": D(2020, 1, 1)},
        {"brand": "Hermès", "aliases": "Hermes", "hs_prefixes": "4202", "min_genuine_unit_value_hkd": 20000.0,
         "recorded_on": D(2026, 9, 6)},
    ])

"""The input data contract (../shared/DATA_CONTRACT.md) as data: datasets, columns, types."""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import types as T

# Contract type name -> Spark type. "decimal" is carried as double: values are
# money and weights well inside double precision, and sklearn wants floats.
SPARK_TYPES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "integer": T.LongType(),
    "decimal": T.DoubleType(),
    "double": T.DoubleType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "boolean": T.BooleanType(),
}

TRANSPORT_MODES = ("SEA", "AIR", "ROAD", "RAIL", "POST", "EXPRESS")
SELECTION_REASONS = ("RISK", "EXPLORATION", "RANDOM", "INTEL", "OTHER")
RESULTS = ("SEIZED", "CLEAN")
INFRINGEMENT_TYPES = ("TRADEMARK", "COPYRIGHT", "DESIGN", "PATENT")
ENTITY_TYPES = ("EXPORTER", "CONSIGNOR", "CONSIGNEE", "FORWARDER", "DECLARANT")
DECLARATION_TYPES = ("EXPORT", "REEXPORT")
# A customs office code names the inspection list files (pipelines.outputs.lists): ASCII
# letters or digits first, then letters, digits, _ . or -, at most 64 characters. So the code
# is its own file name (no slash, blank, control or look-alike character), distinct codes
# give distinct files, and no code hides a file (leading .) or reads as an option (leading -).
# Blanks around the code are trimmed before the check (pipelines.validation.quarantine).
OFFICE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool

    @property
    def spark_type(self) -> T.DataType:
        return SPARK_TYPES[self.type]


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    # Partitioned by lodging day (date=YYYY-MM-DD) or a full-replace snapshot.
    partitioned: bool
    key: tuple[str, ...] = ()
    optional_dataset: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def spark_schema(self) -> T.StructType:
        return T.StructType([T.StructField(c.name, c.spark_type, True) for c in self.columns])

    def string_schema(self) -> T.StructType:
        return T.StructType([T.StructField(c.name, T.StringType(), True) for c in self.columns])


def _cols(*spec: tuple[str, str, bool]) -> tuple[Column, ...]:
    return tuple(Column(n, t, r) for n, t, r in spec)


MANIFESTS = Dataset(
    "manifests",
    _cols(
        ("consignment_id", "string", True),
        ("manifest_id", "string", True),
        ("transport_mode", "string", True),
        ("carrier_code", "string", False),
        ("port_of_loading", "string", True),
        ("route_ports", "string", False),
        ("port_of_discharge", "string", True),
        ("destination_country", "string", True),
        ("departure_date", "date", True),
        ("consignor_id", "string", True),
        ("consignee_id", "string", True),
        ("consignee_country", "string", False),
        ("forwarder_id", "string", False),
        ("package_count", "integer", True),
        ("gross_weight_kg", "decimal", True),
        ("container_ids", "string", False),
    ),
    partitioned=True,
    key=("consignment_id",),
)

DECLARATIONS = Dataset(
    "declarations",
    _cols(
        ("declaration_id", "string", True),
        ("item_no", "integer", True),
        ("consignment_id", "string", True),
        ("lodged_at", "timestamp", True),
        ("customs_office", "string", True),
        ("exporter_id", "string", True),
        ("declarant_id", "string", False),
        ("declaration_type", "string", False),
        ("hs_code", "string", True),
        ("goods_description", "string", True),
        ("brand", "string", False),
        ("origin_country", "string", True),
        ("quantity", "decimal", True),
        ("quantity_unit", "string", True),
        ("net_weight_kg", "decimal", False),
        ("declared_value", "decimal", True),
        ("currency", "string", True),
    ),
    partitioned=True,
    key=("declaration_id", "item_no"),
)

OUTCOMES = Dataset(
    "outcomes",
    _cols(
        ("consignment_id", "string", True),
        ("inspected_on", "date", True),
        ("selection_reason", "string", True),
        ("result", "string", True),
        ("seized_items", "integer", False),
        ("seized_value_hkd", "decimal", False),
        ("infringement_type", "string", False),
    ),
    partitioned=True,
)

INTELLIGENCE = Dataset(
    "intelligence",
    _cols(
        ("entity_type", "string", True),
        ("entity_id", "string", True),
        ("source", "string", True),
        ("listed_on", "date", True),
        ("expires_on", "date", False),
        ("received_on", "date", False),
        ("note", "string", False),
    ),
    partitioned=False,
)

RIGHTS_HOLDERS = Dataset(
    "rights_holders",
    _cols(
        ("brand", "string", True),
        ("aliases", "string", False),
        ("hs_prefixes", "string", True),
        ("min_genuine_unit_value_hkd", "decimal", False),
        ("recorded_on", "date", True),
    ),
    partitioned=False,
)

FX_RATES = Dataset(
    "fx_rates",
    _cols(
        ("currency", "string", True),
        ("rate_date", "date", True),
        ("hkd_per_unit", "decimal", True),
    ),
    partitioned=False,
    optional_dataset=True,
)

TRUTH = Dataset(
    "truth",
    _cols(
        ("consignment_id", "string", True),
        ("p_counterfeit", "double", True),
        ("is_counterfeit", "boolean", True),
    ),
    partitioned=True,
    optional_dataset=True,
)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (MANIFESTS, DECLARATIONS, OUTCOMES, INTELLIGENCE, RIGHTS_HOLDERS, FX_RATES, TRUTH)
}

# Quarantine reason codes, shared by validation (which assigns them) and the synthetic
# generator's --dirty mode (which records which one each corruption must produce).
REASON_CODES = {
    "MISSING_REQUIRED": "a required field is empty",
    "MISSING_COLUMN": "a required column is absent from the file",
    "BAD_DATE": "a date does not parse as ISO 8601 (YYYY-MM-DD)",
    "BAD_TIMESTAMP": "a timestamp does not parse as ISO 8601 with offset",
    "NOT_NUMERIC": "a numeric field holds text",
    "NON_FINITE_NUMBER": "a number is infinite or not a number (inf, Infinity, NaN, or too large for a double, like 1e309)",
    "NON_POSITIVE": "a quantity, count or weight is zero or negative",
    "NEGATIVE_VALUE": "a value that must be >= 0 is negative",
    "BAD_HS_CODE": "HS code is not 6 to 10 digits",
    "UNKNOWN_COUNTRY": "country code is not an ISO 3166-1 alpha-2 code",
    "BAD_LOCODE": "port is not a well-formed UN/LOCODE with a known country",
    "UNKNOWN_CURRENCY": "currency is not an ISO 4217 code",
    "BAD_ENUM": "value is not one of the contract's codes",
    "BAD_OFFICE_CODE": "customs office code is not 1 to 64 ASCII letters, digits, _ . - starting with a letter or digit",
    "PARTITION_DATE_MISMATCH": "lodged_at's date differs from the date= folder",
    "DUPLICATE_KEY": "the key occurs more than once",
    "ORPHAN_DECLARATION": "declaration has no manifest row",
    "MANIFEST_WITHOUT_DECLARATION": "manifest row has no declaration item",
    "ORPHAN_OUTCOME": "outcome for an unknown consignment",
    "MALFORMED_LINE": "CSV line could not be parsed (quoting or field count)",
    "CONSIGNMENT_QUARANTINED": "another row of the same consignment was quarantined",
}

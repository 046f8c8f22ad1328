"""What may leave the administration, and for how long a shared listing runs: the `exchange`
settings (conf/base/exchange.yaml) checked once, as a value the export and import code share."""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.errors import UserError

# Role (the contract's entity_type) -> the party id field that names it.
ROLE_FIELDS = {
    "EXPORTER": "exporter_id",
    "CONSIGNOR": "consignor_id",
    "CONSIGNEE": "consignee_id",
    "FORWARDER": "forwarder_id",
    "DECLARANT": "declarant_id",
}
# Evidence a package can carry in an entry's note, by the field it comes from.
EVIDENCE_FIELDS = ("brand", "hs_code", "route_ports", "destination_country", "seized_items", "seized_value_hkd")
# Fields no package carries whatever the settings say; listed so a withheld list may name them.
NEVER_SHARED = ("consignment_id", "declared_value", "goods_description")
KNOWN_FIELDS = (*ROLE_FIELDS.values(), *EVIDENCE_FIELDS, *NEVER_SHARED)
# A source code: what the contract's `source` column holds (HK, GD, MO, INDUSTRY, ...).
SOURCE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")


@dataclass(frozen=True)
class AlertParams:
    recent_days: int
    min_recent: int
    min_lift: float
    min_z: float
    top: int


@dataclass(frozen=True)
class ExchangePolicy:
    own_source: str
    withheld: tuple[str, ...]
    expiry_days: dict[str, int]
    seizure_lookback_days: int
    alerts: AlertParams
    note_max_items: int

    @property
    def shared_roles(self) -> dict[str, str]:
        """Role -> id field of the roles whose party ids may leave."""
        return {role: field for role, field in ROLE_FIELDS.items() if field not in self.withheld}

    def shares(self, field: str) -> bool:
        return field not in self.withheld and field not in NEVER_SHARED

    @property
    def shared_fields(self) -> list[str]:
        return [f for f in (*ROLE_FIELDS.values(), *EVIDENCE_FIELDS) if self.shares(f)]


def check_source(code: str, flag: str = "--source") -> str:
    if not SOURCE_PATTERN.match(code or ""):
        raise UserError(f"{flag} {code!r} is not a source code: 2 to 32 capital letters, digits or _, starting with "
                        "a letter (HK, GD, MO, INDUSTRY, ...)")
    return code


def load_policy(settings: dict) -> ExchangePolicy:
    """The exchange settings as a policy; a misspelt field or role is a settings error."""
    cfg = settings["exchange"]
    withheld = tuple(str(f) for f in cfg["withheld_fields"] or [])
    unknown = sorted(set(withheld) - set(KNOWN_FIELDS))
    if unknown:
        raise UserError(f"exchange.withheld_fields names unknown field(s) {unknown}; known: {', '.join(KNOWN_FIELDS)}")
    expiry = {str(k).upper(): int(v or 0) for k, v in (cfg["expiry_days"] or {}).items()}
    if set(expiry) - set(ROLE_FIELDS) or any(v < 0 for v in expiry.values()):
        raise UserError(f"exchange.expiry_days: roles must be among {', '.join(ROLE_FIELDS)} with days >= 0 "
                        f"(got {cfg['expiry_days']})")
    a = cfg["alerts"]
    alerts = AlertParams(int(a["recent_days"]), int(a["min_recent"]), float(a["min_lift"]), float(a["min_z"]),
                         int(a["top"]))
    return ExchangePolicy(check_source(str(cfg["own_source"]), "exchange.own_source"), withheld, expiry,
                          int(cfg["seizure_lookback_days"]), alerts, int(cfg["note_max_items"]))

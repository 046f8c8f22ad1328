"""Regenerate conf/reference/countries.csv: names from pycountry, regions and Belt-and-Road
membership from the hand-curated tables below (sources in conf/reference/README.md).

Run: `.venv/bin/python -m pipelines.devtools.build_reference` (writes the file beside the package).
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import pycountry

from pipelines.io.settings import conf_root

NORTH_AMERICA = {"US", "CA", "MX", "BM", "GL", "PM"}

EUROPE = {
    "AD", "AL", "AT", "AX", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI",
    "FO", "FR", "GB", "GG", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT", "LU",
    "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SJ",
    "SK", "SM", "UA", "VA",
}

# Countries that signed a Belt and Road cooperation document with China (hand-curated from
# the Green Finance & Development Center country list and news of withdrawals; see README).
BELT_AND_ROAD = {
    # Europe (region stays EUROPE; the flag is separate)
    "AL", "AT", "BA", "BG", "BY", "CY", "CZ", "EE", "GR", "HR", "HU", "LT", "LU", "LV", "MD",
    "ME", "MK", "MT", "PL", "PT", "RO", "RS", "RU", "SI", "SK", "UA",
    # Asia and the Middle East
    "AE", "AF", "AM", "AZ", "BD", "BH", "BN", "GE", "ID", "IQ", "IR", "KG", "KH", "KR", "KW",
    "KZ", "LA", "LB", "LK", "MM", "MN", "MV", "MY", "NP", "OM", "PH", "PK", "PS", "QA", "SA",
    "SG", "SY", "TH", "TJ", "TL", "TM", "TR", "UZ", "VN", "YE",
    # Africa
    "AO", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DJ", "DZ", "EG", "ER", "ET",
    "GA", "GH", "GM", "GN", "GQ", "GW", "KE", "KM", "LR", "LS", "LY", "MA", "MG", "ML", "MR",
    "MW", "MZ", "NA", "NE", "NG", "RW", "SC", "SD", "SL", "SN", "SO", "SS", "ST", "TD", "TG",
    "TN", "TZ", "UG", "ZA", "ZM", "ZW",
    # Latin America and the Caribbean
    "AG", "AR", "BB", "BO", "CL", "CO", "CR", "CU", "DM", "DO", "EC", "GD", "GY", "HN", "JM",
    "NI", "PA", "PE", "SR", "SV", "TT", "UY", "VE",
    # Oceania
    "CK", "FJ", "FM", "KI", "NU", "NZ", "PG", "SB", "TO", "VU", "WS",
}

NOTES = {
    "IT": "signed the Belt and Road MoU in 2019 and withdrew in December 2023: flag 0",
    "CN": "the initiating country: region OTHER, flag 0",
    "HK": "home administration: region OTHER, flag 0",
    "MO": "neighbouring administration: region OTHER, flag 0",
}

SOURCE = "pycountry 26.2.16 (ISO 3166-1); region and Belt and Road flag hand-curated 2026-11-29"


def country_rows() -> list[dict[str, str]]:
    rows = []
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        iso2 = country.alpha_2
        in_bri = iso2 in BELT_AND_ROAD
        if iso2 in NORTH_AMERICA:
            region = "NORTH_AMERICA"
        elif iso2 in EUROPE:
            region = "EUROPE"
        elif in_bri:
            region = "BELT_AND_ROAD"
        else:
            region = "OTHER"
        rows.append({
            "iso2": iso2,
            "name": getattr(country, "common_name", None) or country.name,
            "region": region,
            "belt_and_road": str(int(in_bri)),
            "note": NOTES.get(iso2, ""),
            "source": SOURCE,
        })
    return rows


def write_countries(path: Path) -> int:
    rows = country_rows()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main() -> int:
    path = conf_root() / "reference" / "countries.csv"
    n = write_countries(path)
    print(f"wrote {n} countries to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

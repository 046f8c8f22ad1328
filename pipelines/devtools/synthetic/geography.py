"""Ports, destination countries and customs offices of the synthetic world.

These are facts about the real world (UN/LOCODEs, ISO 3166 codes, approximate
coordinates), not tunable parameters: how often each is used lives in
conf/base/synthetic.yaml. Coordinates are approximate (two decimals) and only
serve maps and distance features.
"""
from __future__ import annotations

from typing import NamedTuple


class Port(NamedTuple):
    locode: str
    country: str
    lat: float
    lon: float
    is_hub: bool


# Where goods leave Guangdong, Hong Kong and Macao. CNSZX and CNCAN also stand for
# the Shenzhen and Guangzhou airports and land crossings (one LOCODE per city).
LOADING_PORTS = [
    Port("HKHKG", "HK", 22.29, 114.17, False),
    Port("CNYTN", "CN", 22.57, 114.27, False),
    Port("CNSHK", "CN", 22.48, 113.91, False),
    Port("CNSZX", "CN", 22.54, 114.06, False),
    Port("CNCAN", "CN", 23.13, 113.26, False),
    Port("CNNSA", "CN", 22.75, 113.60, False),
    Port("MOMFM", "MO", 22.20, 113.55, False),
]

# Transshipment hubs seen on routes out of the Pearl River Delta.
HUB_PORTS = [
    Port("SGSIN", "SG", 1.26, 103.84, True),
    Port("AEJEA", "AE", 25.01, 55.06, True),
    Port("MYPKG", "MY", 3.00, 101.39, True),
    Port("LKCMB", "LK", 6.95, 79.85, True),
    Port("GRPIR", "GR", 37.94, 23.63, True),
    Port("OMSLL", "OM", 16.94, 54.00, True),
    Port("EGPSD", "EG", 31.26, 32.30, True),
    Port("PAONX", "PA", 9.36, -79.90, True),
    Port("MAPTM", "MA", 35.89, -5.50, True),
    Port("KRPUS", "KR", 35.10, 129.04, True),
    Port("TWKHH", "TW", 22.61, 120.28, True),
    Port("AEDXB", "AE", 25.25, 55.36, True),
]

# country, main port of discharge, region used by the world's weights, lat, lon.
# Regions: NA (North America), EU (Europe), BRI (Belt and Road partners), OTHER.
DESTINATIONS = [
    ("US", "USLAX", "NA", 33.74, -118.27), ("CA", "CAVAN", "NA", 49.29, -123.11),
    ("MX", "MXZLO", "NA", 19.05, -104.32), ("GB", "GBFXT", "EU", 51.96, 1.35),
    ("DE", "DEHAM", "EU", 53.54, 9.97), ("NL", "NLRTM", "EU", 51.95, 4.14),
    ("BE", "BEANR", "EU", 51.26, 4.40), ("FR", "FRLEH", "EU", 49.48, 0.11),
    ("IT", "ITGOA", "EU", 44.41, 8.92), ("ES", "ESVLC", "EU", 39.44, -0.32),
    ("PT", "PTLIS", "EU", 38.70, -9.14), ("IE", "IEDUB", "EU", 53.35, -6.21),
    ("SE", "SEGOT", "EU", 57.69, 11.86), ("DK", "DKAAR", "EU", 56.15, 10.22),
    ("FI", "FIHEL", "EU", 60.16, 24.95), ("PL", "PLGDN", "EU", 54.40, 18.67),
    ("CZ", "CZPRG", "EU", 50.08, 14.44), ("AT", "ATVIE", "EU", 48.21, 16.37),
    ("HU", "HUBUD", "EU", 47.50, 19.04), ("RO", "ROCND", "EU", 44.17, 28.65),
    ("CH", "CHBSL", "EU", 47.56, 7.59), ("NO", "NOOSL", "EU", 59.90, 10.74),
    ("GR", "GRSKG", "EU", 40.63, 22.93), ("RU", "RULED", "BRI", 59.88, 30.22),
    ("KZ", "KZALA", "BRI", 43.24, 76.89), ("UZ", "UZTAS", "BRI", 41.30, 69.24),
    ("PK", "PKKHI", "BRI", 24.84, 66.98), ("BD", "BDCGP", "BRI", 22.31, 91.80),
    ("LK", "LKHBA", "BRI", 6.12, 81.11), ("MY", "MYTPP", "BRI", 1.36, 103.55),
    ("TH", "THLCH", "BRI", 13.08, 100.88), ("VN", "VNSGN", "BRI", 10.77, 106.71),
    ("ID", "IDTPP", "BRI", -6.10, 106.88), ("PH", "PHMNL", "BRI", 14.59, 120.97),
    ("KH", "KHKOS", "BRI", 10.63, 103.50), ("MM", "MMRGN", "BRI", 16.78, 96.17),
    ("SA", "SAJED", "BRI", 21.48, 39.17), ("AE", "AEAUH", "BRI", 24.52, 54.38),
    ("TR", "TRAMR", "BRI", 40.97, 28.69), ("EG", "EGALY", "BRI", 31.18, 29.87),
    ("KE", "KEMBA", "BRI", -4.06, 39.67), ("NG", "NGAPP", "BRI", 6.44, 3.36),
    ("ET", "ETADD", "BRI", 8.98, 38.76), ("TZ", "TZDAR", "BRI", -6.82, 39.29),
    ("ZA", "ZADUR", "BRI", -29.87, 31.03), ("GH", "GHTEM", "BRI", 5.63, 0.01),
    ("RS", "RSBEG", "BRI", 44.82, 20.46), ("IQ", "IQUQR", "BRI", 30.03, 47.95),
    ("OM", "OMSOH", "BRI", 24.50, 56.62), ("QA", "QAHMD", "BRI", 25.01, 51.60),
    ("KW", "KWSAA", "BRI", 29.04, 48.16), ("CL", "CLSAI", "BRI", -33.59, -71.61),
    ("PE", "PECLL", "BRI", -12.05, -77.14), ("NZ", "NZAKL", "BRI", -36.84, 174.77),
    ("JP", "JPTYO", "OTHER", 35.62, 139.78), ("AU", "AUSYD", "OTHER", -33.86, 151.20),
    ("BR", "BRSSZ", "OTHER", -23.96, -46.30), ("IN", "INNSA", "OTHER", 18.95, 72.95),
    ("IL", "ILHFA", "OTHER", 32.82, 35.00), ("CO", "COCTG", "OTHER", 10.39, -75.51),
    ("AR", "ARBUE", "OTHER", -34.60, -58.37),
]

DESTINATION_PORTS = [Port(port, country, lat, lon, False) for country, port, _, lat, lon in DESTINATIONS]

# Every port the generator writes, for checking reference tables cover them.
PORTS: list[Port] = LOADING_PORTS + HUB_PORTS + DESTINATION_PORTS

# Modes each loading port handles, and the customs office (control point) that
# would examine an export leaving there by that mode.
CUSTOMS_OFFICES = {
    ("HKHKG", "SEA"): "HKG-KCCT", ("HKHKG", "AIR"): "HKG-AIRPORT",
    ("HKHKG", "EXPRESS"): "HKG-AIR-EXPRESS", ("HKHKG", "POST"): "HKG-AIRMAIL",
    ("HKHKG", "ROAD"): "HKG-LOKMACHAU",
    ("CNYTN", "SEA"): "SZ-YANTIAN", ("CNSHK", "SEA"): "SZ-SHEKOU",
    ("CNSZX", "AIR"): "SZ-BAOAN-AIR", ("CNSZX", "EXPRESS"): "SZ-EXPRESS",
    ("CNSZX", "ROAD"): "SZ-HUANGGANG", ("CNSZX", "POST"): "SZ-POST",
    ("CNCAN", "SEA"): "GZ-HUANGPU", ("CNCAN", "AIR"): "GZ-BAIYUN-AIR",
    ("CNCAN", "EXPRESS"): "GZ-EXPRESS", ("CNCAN", "POST"): "GZ-POST",
    ("CNCAN", "RAIL"): "GZ-DALANG-RAIL", ("CNNSA", "SEA"): "GZ-NANSHA",
    ("MOMFM", "SEA"): "MO-KAHO", ("MOMFM", "AIR"): "MO-AIRPORT",
    ("MOMFM", "POST"): "MO-POST", ("MOMFM", "ROAD"): "MO-HENGQIN",
}

# Carriers by mode (ocean SCAC-style codes, IATA airline codes, couriers, posts, hauliers).
CARRIERS = {
    "SEA": ["OOLU", "COSU", "MAEU", "MSCU", "EGLV", "HLCU", "CMDU", "ONEY"],
    "AIR": ["CX", "CA", "CZ", "EK", "QR", "LH", "NH", "KE"],
    "EXPRESS": ["DHL", "FDX", "UPS", "SFX", "EMS"],
    "POST": ["HKPOST", "CNPOST", "MOPOST"],
    "ROAD": ["HKTRK", "SZTRK", "MOTRK"],
    "RAIL": ["CRCT"],
}

# Container owner prefixes (ISO 6346 owner codes plus the U category letter).
CONTAINER_PREFIXES = ["OOLU", "CSNU", "MSKU", "MSCU", "EGHU", "HLXU", "CMAU", "ONEU"]

# Local currency of each loading port's territory.
PORT_CURRENCY = {"HK": "HKD", "CN": "CNY", "MO": "MOP"}

"""Pure helpers over the reference frames of conf/reference (countries, ports, HS groups)
and shared column expressions (text normalisation, great-circle distance)."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

EARTH_RADIUS_KM = 6371.0088

# Accented Latin letters and their plain forms, for `translate` (Spark has no unaccent).
_ACCENTED = "àáâãäåāăąçćčďèéêëēėęěìíîïīįıñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżžßæœ"
_PLAIN = "aaaaaaaaacccdeeeeeeeeiiiiiiinnnoooooooorrssstuuuuuuuuyyzzzsao"


def normalise_text(col: Column) -> Column:
    """Lower case, accents stripped, anything but letters and digits turned to single spaces."""
    lowered = F.translate(F.lower(col), _ACCENTED, _PLAIN)
    spaced = F.regexp_replace(lowered, r"[^\p{L}\p{N}]+", " ")
    return F.trim(spaced)


def compact_text(col: Column) -> Column:
    """normalise_text without spaces: 'Louis  Vuitton' and 'louis-vuitton' both give 'louisvuitton'."""
    return F.regexp_replace(normalise_text(col), " ", "")


def haversine_km(lat1: Column, lon1: Column, lat2: Column, lon2: Column) -> Column:
    """Great-circle distance in km; null if any coordinate is null."""
    phi1, phi2 = F.radians(lat1), F.radians(lat2)
    dphi = F.radians(lat2 - lat1)
    dlmb = F.radians(lon2 - lon1)
    a = F.pow(F.sin(dphi / 2), 2) + F.cos(phi1) * F.cos(phi2) * F.pow(F.sin(dlmb / 2), 2)
    root = F.sqrt(a)
    # Clamp rounding above 1 (not with `least`, which would skip a null and hide an unknown port).
    clamped = F.when(root > 1.0, F.lit(1.0)).otherwise(root)
    return F.lit(2 * EARTH_RADIUS_KM) * F.asin(clamped)


def countries_table(countries: DataFrame) -> DataFrame:
    """iso2 -> region, belt_and_road (0/1), unique on iso2."""
    return countries.select(
        F.upper(F.trim(F.col("iso2"))).alias("iso2"),
        F.col("region").cast("string").alias("region"),
        F.col("belt_and_road").cast("int").alias("belt_and_road"),
    )


def ports_table(ports: DataFrame) -> DataFrame:
    """locode -> lat, lon, is_hub, is_ftz (0/1), unique on locode."""
    return ports.select(
        F.upper(F.trim(F.col("locode"))).alias("locode"),
        F.col("lat").cast("double").alias("lat"),
        F.col("lon").cast("double").alias("lon"),
        F.col("is_hub").cast("int").alias("is_hub"),
        F.col("is_ftz").cast("int").alias("is_ftz"),
    )


def match_hs_group(frame: DataFrame, key: str, hs_col: str, hs_groups: DataFrame) -> DataFrame:
    """key, hs_group, counterfeit_prone for the longest hs_groups prefix of `hs_col`.

    Rows whose code matches no prefix get no row: callers left-join the result back.
    """
    groups = hs_groups.select(
        F.trim(F.col("hs_prefix")).alias("hs_prefix"),
        F.col("hs_group").alias("hs_group"),
        F.col("counterfeit_prone").cast("int").alias("counterfeit_prone"),
    )
    codes = frame.select(F.col(key), F.col(hs_col).alias("_hs"))
    # A non-equi join, but against a reference table of a few dozen rows, broadcast.
    matched = codes.join(F.broadcast(groups), on=F.col("_hs").startswith(F.col("hs_prefix")), how="inner")
    best = F.max_by(F.struct("hs_group", "counterfeit_prone"), F.length("hs_prefix"))
    return matched.groupBy(key).agg(best.alias("_best")).select(
        F.col(key),
        F.col("_best.hs_group").alias("hs_group"),
        F.col("_best.counterfeit_prone").alias("counterfeit_prone"),
    )

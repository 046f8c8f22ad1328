"""Route, hub and HS-group alerts of a period, and the bulletin a partner reads.

The trend report's analysis (pipelines.outputs.trends: split_day, and emerging's shares and lift,
computed here for every dimension in one Spark pass): the last `recent_days` of the period against
the days before it, for destination regions, last transit hubs and HS groups,
once over all consignments (CONSIGNMENTS: where the traffic moved) and once over the seized
ones (SEIZURES: where the seizures moved). A key is an alert when it has at least `min_recent`
recent rows, its share grew by `min_lift` times or more (or it is new), and the two-proportion
z statistic of its earlier and recent shares is at least `min_z`: a lift on a handful of rows
is noise, a small lift on a large volume is a real move.

The bulletin is one self-contained HTML page: Jinja2 with autoescaping (ids, brands and notes
come from input files and may hold markup), inline style, no script, no external asset, and a
Content-Security-Policy that forbids loading anything.
"""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from jinja2 import Environment, select_autoescape
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.commodity import NO_GROUP
from features.destination import build_destination_features
from features.reference import match_hs_group
from features.route import NO_HUB, build_route_basics
from pipelines.exchange.policy import AlertParams
from pipelines.outputs import trends

DIMENSIONS = {"dest_region": "DEST_REGION", "last_hub": "TRANSIT_HUB", "hs_group": "HS_GROUP"}
# Keys that name no place or group: direct traffic, an unknown country, an HS code in no group.
NOT_A_KEY = {"last_hub": NO_HUB, "hs_group": NO_GROUP, "dest_region": "UNKNOWN"}
ALERT_COLUMNS = ["kind", "key", "measure", "period_from", "recent_from", "period_to", "earlier", "recent",
                 "earlier_share", "recent_share", "lift", "z"]


def alert_keys(consignments: DataFrame, reference: dict) -> DataFrame:
    """consignment_id, lodged_date, dest_region, last_hub, hs_group (the feature definitions)."""
    destination = build_destination_features(consignments, reference["countries"]).select("consignment_id", "dest_region")
    hubs = build_route_basics(consignments, reference["ports"]).select("consignment_id", "last_hub")
    groups = match_hs_group(consignments.select("consignment_id", "main_hs_code"), "consignment_id", "main_hs_code",
                            reference["hs_groups"]).select("consignment_id", "hs_group")
    # Each family frame is unique on consignment_id.
    joined = consignments.select("consignment_id", "lodged_date").join(destination, "consignment_id", "left") \
        .join(hubs, "consignment_id", "left").join(groups, "consignment_id", "left")
    return joined.select("consignment_id", "lodged_date", "dest_region", "last_hub",
                         F.coalesce(F.col("hs_group"), F.lit(NO_GROUP)).alias("hs_group"))


def z_statistic(earlier: int, recent: int, earlier_total: int, recent_total: int) -> float:
    """Two-proportion z of recent/recent_total against earlier/earlier_total (pooled variance)."""
    if earlier_total <= 0 or recent_total <= 0:
        return 0.0
    pooled = (earlier + recent) / (earlier_total + recent_total)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / earlier_total + 1 / recent_total))
    return 0.0 if spread == 0 else (recent / recent_total - earlier / earlier_total) / spread


def key_counts(flagged: DataFrame, recent_from: dt.date) -> pd.DataFrame:
    """dimension, key, part (earlier/recent), consignments, seized: one Spark pass for every
    dimension (the result is a row per dimension, key and part: small by construction)."""
    keyed = F.explode(F.array(*[F.struct(F.lit(c).alias("dimension"), F.col(c).cast("string").alias("key"))
                                for c in DIMENSIONS])).alias("k")
    part = F.when(F.col("lodged_date") >= F.lit(recent_from), F.lit("recent")).otherwise(F.lit("earlier"))
    stacked = flagged.select(keyed, part.alias("part"), F.col("seized"))
    counts = stacked.groupBy(F.col("k.dimension").alias("dimension"), F.col("k.key").alias("key"), "part").agg(
        F.count(F.lit(1)).alias("consignments"), F.sum("seized").alias("seized"))
    return counts.toPandas()


def emerging_keys(counts: pd.DataFrame, measure: str, params: AlertParams) -> pd.DataFrame:
    """trends.emerging's table from key_counts, for the CONSIGNMENTS or SEIZURES column: per
    dimension, key: earlier, recent, their shares of the dimension's keyed rows of each part,
    lift (NaN for a key new in the recent part) and the z statistic."""
    column = "consignments" if measure == "CONSIGNMENTS" else "seized"
    if counts.empty:
        return pd.DataFrame(columns=["dimension", "key", "earlier", "recent", "earlier_share", "recent_share",
                                     "lift", "z", "measure"])
    counts = counts[[d not in NOT_A_KEY or k != NOT_A_KEY[d] for d, k in zip(counts["dimension"], counts["key"])]]
    wide = counts.pivot_table(index=["dimension", "key"], columns="part", values=column, aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=["earlier", "recent"], fill_value=0).reset_index()
    totals = wide.groupby("dimension")[["earlier", "recent"]].transform("sum")
    wide["earlier_share"] = wide["earlier"] / totals["earlier"].clip(lower=1)
    wide["recent_share"] = wide["recent"] / totals["recent"].clip(lower=1)
    wide["lift"] = (wide["recent_share"] / wide["earlier_share"]).where(wide["earlier"] > 0)
    wide["z"] = [z_statistic(int(e), int(r), int(te), int(tr)) for e, r, te, tr in
                 zip(wide["earlier"], wide["recent"], totals["earlier"], totals["recent"])]
    return wide.assign(measure=measure)


def significant(table: pd.DataFrame, params: AlertParams) -> pd.DataFrame:
    """The rows that are alerts: enough recent rows, a share grown by min_lift (or new), z >= min_z;
    at most `top` per dimension and measure, the largest z first."""
    grew = table["lift"].isna() | (table["lift"] >= params.min_lift)
    hits = table[grew & (table["z"] >= params.min_z) & (table["recent"] >= params.min_recent)]
    hits = hits.sort_values(["dimension", "z", "key"], ascending=[True, False, True])
    return hits.groupby("dimension", group_keys=False).head(params.top)


def find_alerts(flagged: DataFrame, first: dt.date, last: dt.date, params: AlertParams) -> pd.DataFrame:
    """ALERT_COLUMNS rows; flagged: lodged_date, the DIMENSIONS columns, seized (0/1)."""
    recent_from = trends.split_day(first, last, params.recent_days)
    counts = key_counts(flagged, recent_from)
    found = [significant(emerging_keys(counts, measure, params), params) for measure in ("CONSIGNMENTS", "SEIZURES")]
    alerts = pd.concat(found, ignore_index=True)
    alerts = alerts.assign(kind=alerts["dimension"].map(DIMENSIONS), period_from=first.isoformat(),
                           recent_from=recent_from.isoformat(), period_to=last.isoformat()).reindex(columns=ALERT_COLUMNS)
    for column in ("earlier_share", "recent_share", "lift", "z"):
        alerts[column] = alerts[column].astype(float).round(6)
    alerts[["earlier", "recent"]] = alerts[["earlier", "recent"]].astype("int64")
    return alerts.sort_values(["kind", "measure", "z", "key"], ascending=[True, True, False, True], ignore_index=True)


_BULLETIN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f2f2f2}td.n{text-align:right}.note{color:#555;font-size:92%}
</style></head><body>
<h1>{{ title }}</h1>
<table>{% for k, v in overview %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
<h2>Route, hub and goods alerts</h2>
{% if alerts %}<p class="note">Share of the recent days ({{ recent_from }} on) against the days before; z is the
two-proportion statistic. CONSIGNMENTS: where the traffic moved; SEIZURES: where the seizures moved.</p>
<table><tr><th>kind</th><th>key</th><th>measure</th><th>earlier</th><th>recent</th><th>earlier share</th>
<th>recent share</th><th>lift</th><th>z</th></tr>
{% for a in alerts %}<tr><td>{{ a.kind }}</td><td>{{ a.key }}</td><td>{{ a.measure }}</td><td class="n">{{ a.earlier }}</td>
<td class="n">{{ a.recent }}</td><td class="n">{{ a.earlier_share }}</td><td class="n">{{ a.recent_share }}</td>
<td class="n">{{ a.lift }}</td><td class="n">{{ a.z }}</td></tr>{% endfor %}</table>
{% else %}<p>No significant move in the period.</p>{% endif %}
<h2>Proposed watch-list entries</h2>
{% if entries %}<table><tr><th>role</th><th>party</th><th>listed on</th><th>expires on</th><th>evidence</th></tr>
{% for e in entries %}<tr><td>{{ e.entity_type }}</td><td>{{ e.entity_id }}</td><td>{{ e.listed_on }}</td>
<td>{{ e.expires_on }}</td><td>{{ e.note }}</td></tr>{% endfor %}</table>
{% if more %}<p class="note">{{ more }} further entries are in intelligence/entries.csv.</p>{% endif %}
{% else %}<p>No entry: no seizure of the period names a party that may be shared.</p>{% endif %}
<h2>Withheld</h2><p>These fields did not leave {{ source }}: {{ withheld }}.</p>
</body></html>
"""


def render_bulletin(overview: list[tuple[str, str]], entries: pd.DataFrame, alerts: pd.DataFrame,
                    source: str, withheld: list[str], limit: int = 200) -> str:
    """The bulletin page; every value is escaped by the template engine."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

    def text(value) -> str:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else (
            f"{value:.4g}" if isinstance(value, float) else str(value))

    rows = [{k: text(v) for k, v in r.items()} for r in entries.head(limit).to_dict("records")]
    found = [{k: text(v) for k, v in r.items()} for r in alerts.to_dict("records")]
    recent_from = alerts["recent_from"].iloc[0] if len(alerts) else ""
    return env.from_string(_BULLETIN).render(
        title=f"Intelligence bulletin from {source}", overview=overview, alerts=found, entries=rows,
        more=max(0, len(entries) - limit), source=source, withheld=", ".join(withheld) or "none",
        recent_from=recent_from)

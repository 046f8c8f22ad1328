"""The look-backs against their definition, computed by brute force in Python on random histories:
many probe days, later data present, windows' edges hit, null keys, parties that rotate. Both
party paths are checked, the linear one and the range join.
Any disagreement in any feature of any consignment fails."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from party_history import OUTCOME_SCHEMA, PARAMS
from pyspark.sql import types as T
from test_parties import CONSIGNMENT_SCHEMA

from features.lookback import trailing_sums
from features.parties import (
    COUNTERPART_ROLE,
    FEATURES,
    ITEM_COUNTERPART,
    ITEM_DESTINATION,
    ITEM_TOTAL,
    PARTY_ROLES,
    build_party_daily,
)
from features.party_lookback import JOIN_MAX_DAYS, build_party_features

START = dt.date(2025, 1, 1)
DAYS = 430  # probes from day 380 on see a full 365-day window and beyond it


def _day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def test_trailing_sums_equal_the_sums_by_definition(spark):
    rng = random.Random(7)
    schema = T.StructType([T.StructField("date", T.DateType()), T.StructField("k", T.StringType()),
                           T.StructField("n", T.LongType())])
    daily = [(_day(rng.randrange(120)), rng.choice(["a", "b", "c", None]), rng.randrange(1, 9)) for _ in range(400)]
    probe_schema = T.StructType([T.StructField("lodged_date", T.DateType()), T.StructField("k", T.StringType())])
    # Probe days inside, at the start of and after the history; a key with no history; a null key.
    probes = [(_day(d), k) for d in (0, 1, 7, 8, 30, 31, 64, 119, 120, 150) for k in ("a", "b", "z", None)]
    windows = {"week": 7, "month": 30}
    got = trailing_sums(spark.createDataFrame(probes, probe_schema), spark.createDataFrame(daily, schema),
                        ["k"], ["n"], windows).collect()
    got = {(r.lodged_date, r.k): (r.n_week, r.n_month) for r in got}

    def by_definition(lodged, key, days):
        return sum(n for day, k, n in daily if k is not None and k == key and lodged - dt.timedelta(days=days) <= day < lodged)

    assert got == {(d, k): (by_definition(d, k, 7), by_definition(d, k, 30)) for d, k in probes}
    assert got[(_day(64), "a")][1] > 0  # the comparison is not all zeros
    totals = trailing_sums(spark.createDataFrame(probes, probe_schema), spark.createDataFrame(daily, schema),
                           [], ["n"], windows).collect()
    assert {(r.lodged_date, r.n_week) for r in totals} == {
        (d, sum(n for day, _, n in daily if d - dt.timedelta(days=7) <= day < d)) for d, _ in probes}


def _random_world(seed: int):
    """Consignments over DAYS days whose parties overlap and rotate, and outcomes known later."""
    rng = random.Random(seed)
    pools = {"exporter": 8, "consignor": 5, "consignee": 6, "forwarder": 3, "declarant": 3}
    rows, outcomes = [], []
    for i in range(700):
        lodged = rng.randrange(DAYS)
        # Exporters rotate: an exporter's id is tied to a 60-day epoch, so some are "new".
        exporter = f"E{rng.randrange(pools['exporter'])}_{lodged // 60}"
        parties = [exporter, f"S{rng.randrange(5)}", f"C{rng.randrange(6)}",
                   rng.choice(["F0", "F1", "F2", None]), rng.choice(["B0", "B1", "B2", None])]
        rows.append((f"X{i}", _day(lodged), *parties, rng.choice(["US", "DE", "GB", "TR", None])))
        if rng.random() < 0.5:
            outcomes.append((f"X{i}", _day(lodged + rng.randrange(25)), "RISK",
                             "SEIZED" if rng.random() < 0.35 else "CLEAN"))
    rows, outcomes = rows + EDGE_ROWS, outcomes + EDGE_OUTCOMES
    targets = [row for row in rows if row[1] >= _day(380) and (row[0].startswith("T") or (row[0][1:].isdigit() and int(row[0][1:]) % 3 == 0))]
    return rows, outcomes, targets


# Every window edge, on forwarder FE's target days 405 and 406: dealings 366, 365, 91, 90, 31, 30, 1
# and 0 days before 405, seizures known on those days, and exporters that come back after a gap
# of 340 days (new on 406 only: its shipment 366 days before is out of the window) and of 330.
_EDGE = 405
EDGE_ROWS = [(f"X_e{n}", _day(_EDGE - n), f"EE{n}", "SE", "CE", "FE", "BE", "US")
             for n in (366, 365, 91, 90, 31, 30, 1, 0)]
EDGE_ROWS += [("X_g1", _day(_EDGE - 365), "EG1", "SE", "CE", "FE", "BE", "DE"),
              ("X_g2", _day(_EDGE - 25), "EG1", "SE", "CE", "FE", "BE", "DE"),
              ("X_g3", _day(_EDGE - 355), "EG2", "SE", "CE", "FE", "BE", "GB"),
              ("X_g4", _day(_EDGE - 25), "EG2", "SE", "CE", "FE", "BE", "GB")]
EDGE_ROWS += [(f"T{d}", _day(d), "EZ", "SZ", "CE", "FE", "BE", "US") for d in (_EDGE, _EDGE + 1)]
EDGE_OUTCOMES = [(f"X_e{n}", _day(_EDGE - n), "RISK", "SEIZED") for n in (366, 365, 91, 90, 31, 30, 1, 0)]


def _by_definition(daily: dict, role: str, party: str, lodged: dt.date) -> dict:
    """Every statistic of one (role, party) as of `lodged`, straight from the daily rows (`daily`:
    each (role, party_id)'s rows, an index only, so that the brute force takes seconds)."""
    def within(days, of_role, of_party):
        return [r for r in daily.get((of_role, of_party), []) if lodged - dt.timedelta(days=days) <= r["day"] < lodged]

    mine = within(365, role, party)
    totals = [r for r in mine if r["item"] == ITEM_TOTAL]

    def total(measure, days):
        return sum(r[measure] for r in totals if r["day"] >= lodged - dt.timedelta(days=days))

    def record(of_role, of_party):
        own = [r for r in within(365, of_role, of_party) if r["item"] == ITEM_TOTAL]
        shipped = [r["day"] for r in own if r["shipments"] > 0]
        recent = sum(r["seizures"] for r in own if r["day"] >= lodged - dt.timedelta(days=90))
        return sum(r["seizures"] for r in own), recent, min(shipped) if shipped else None

    shipped = [r["day"] for r in totals if r["shipments"] > 0]
    out = {"days_since_first_seen": (lodged - min(shipped)).days if shipped else 0}
    for measure, windows in (("shipments", (30, 90, 365)), ("inspections", (90, 365)), ("seizures", (30, 90, 365))):
        out.update({f"{measure}_{w}d": total(measure, w) for w in windows})
    for measure in ("seizures", "inspections"):
        out[f"{measure}_decayed"] = sum(r[measure] * 0.5 ** ((lodged - r["day"]).days / PARAMS.decay_half_life_days)
                                        for r in totals)

    def rate(s, i):
        return (s + PARAMS.seizure_prior * PARAMS.prior_strength) / (i + PARAMS.prior_strength)

    for w in ("365d", "90d", "decayed"):
        out[f"seizure_rate_{w}"] = rate(out[f"seizures_{w}"], out[f"inspections_{w}"])
    out["distinct_destinations_365d"] = len({r["item_id"] for r in mine if r["item"] == ITEM_DESTINATION})
    pairs = {}
    for r in mine:
        if r["item"] == ITEM_COUNTERPART:
            last, recent = pairs.get(r["item_id"], (r["day"], 0))
            in_recent = r["shipments"] if r["day"] >= lodged - dt.timedelta(days=90) else 0
            pairs[r["item_id"]] = (max(last, r["day"]), recent + in_recent)
    out["distinct_counterparts_365d"] = len(pairs)
    new_since = lodged - dt.timedelta(days=PARAMS.new_party_days)
    records = {c: record(COUNTERPART_ROLE[role], c) for c in pairs}
    is_new = {c: rec[2] is not None and rec[2] >= new_since for c, rec in records.items()}
    recent_pairs = [c for c, (last, _) in pairs.items() if last >= lodged - dt.timedelta(days=90)]
    out["counterpart_seizures_365d"] = sum(rec[0] for rec in records.values())
    out["counterpart_seizures_90d"] = sum(records[c][1] for c in recent_pairs)
    out["new_exporter_share_90d"] = (sum(is_new[c] for c in recent_pairs) / len(recent_pairs)) if recent_pairs else None
    shipments = sum(recent for _, recent in pairs.values())
    new_shipments = sum(recent for c, (_, recent) in pairs.items() if is_new[c])
    out["new_exporter_consignment_share_90d"] = new_shipments / shipments if shipments else None
    return out


@pytest.mark.parametrize(("seed", "path"), [(1, "linear"), (2, "linear"), (1, "join")])
def test_party_features_equal_their_definition(spark, seed, path, monkeypatch):
    import features.party_lookback as party_lookback

    rows, outcome_rows, targets = _random_world(seed)
    # The targets span 50 days, more than JOIN_MAX_DAYS: few consignments keep them on the join,
    # which the linear case lowers to 0 to take the other path. The path taken is recorded.
    if path == "linear":
        monkeypatch.setattr(party_lookback, "JOIN_MAX_TARGETS", 0)
    taken = []
    for name, spy in (("join", "join_stats"), ("linear", "lookback_stats")):
        real = getattr(party_lookback, spy)
        monkeypatch.setattr(party_lookback, spy, lambda *a, _real=real, _name=name: taken.append(_name) or _real(*a))
    daily = build_party_daily(spark.createDataFrame(rows, CONSIGNMENT_SCHEMA),
                              spark.createDataFrame(outcome_rows, OUTCOME_SCHEMA))
    target_days = len({row[1] for row in targets})
    assert target_days > JOIN_MAX_DAYS
    got = {r.consignment_id: r.asDict() for r in
           build_party_features(spark.createDataFrame(targets, CONSIGNMENT_SCHEMA), daily, PARAMS,
                                target_days).collect()}
    assert taken == [path]
    history = {}
    for r in daily.collect():
        history.setdefault((r["role"], r["party_id"]), []).append(r.asDict())
    names = {f.name: f for f in FEATURES}
    checked = 0
    for target in targets:
        cid, lodged, *parties, _ = target
        for role, party in zip(PARTY_ROLES, parties, strict=True):
            if party is None:
                continue
            for stat, value in _by_definition(history, role, party, lodged).items():
                if f"{role}_{stat}" not in names:
                    continue  # a network statistic of a role without it
                expected = pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value
                assert got[cid][f"{role}_{stat}"] == expected, (cid, role, party, stat)
                checked += 1
    assert len(got) == len(targets) > 15 and checked > 15 * 60
    # The worlds exercise the network: some recent counterpart is new, some seizure is two hops out.
    assert any(0 < (f["forwarder_new_exporter_share_90d"] or 0) < 1 for f in got.values())
    assert any(f["forwarder_counterpart_seizures_90d"] > 0 for f in got.values())

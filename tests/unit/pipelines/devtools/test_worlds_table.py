"""The worlds table (pipelines.devtools.worlds): its command plan, the champion check, the figures of a
night on a hand-built frame, and the markdown."""
import datetime as dt
from pathlib import Path

from pyspark.sql import functions as F
from pyspark.sql import types as T

from models.model_card import render_worlds_table as render_table
from pipelines.devtools.worlds import champion_line, measure_night, measure_nights, plan_commands, update_card

SIZES = {"per_day": 400, "train_days": 30, "nights": 2, "label_lag": 7, "seed": 5}


def test_plan_generates_train_days_nights_and_lag_and_trains_on_the_train_days_only():
    plan = plan_commands("default", Path("/o/default"), dt.date(2026, 3, 1), SIZES)
    g = plan["generate"]
    assert g[g.index("--days") + 1] == "39" and g[g.index("--world") + 1] == "base"
    assert plan["train_cmd"][-4:] == ["--from", "2026-03-01", "--to", "2026-03-30"]
    assert plan["nights"] == ["2026-03-31", "2026-04-01"]
    assert [c[-1] for c in plan["nightly"]] == plan["nights"]
    assert plan_commands("mainland_express", Path("/o/m"), dt.date(2026, 3, 1), SIZES)["generate"][-1] == "mainland_express"


def test_champion_line_reads_the_aliases_column():
    header = "version  aliases              trained on              inspected_pr_auc"
    assert champion_line(f"{header}\n      1  champion             2026-03-01..2026-03-30  0.4") is not None
    assert champion_line(f"{header}\n      2  challenger           2026-03-01..2026-03-30  0.4") is None
    assert champion_line(f"{header}\n      2  challenger,champion  x  0.4").split()[0] == "2"


def test_measure_night_counts_model_oracle_and_legacy_hits(spark):
    # 100 consignments: the model's top 1 is a miss, the oracle's top 1 a hit; at 5 % (k = 5) the
    # model finds 3 and the oracle 4; the legacy rules picked 4 consignments, 1 of them counterfeit.
    rows = []
    for i in range(100):
        score, p = 1.0 - i / 100, 0.01
        counterfeit = i in (1, 2, 4, 50, 60)
        p = {50: 0.99, 60: 0.98, 1: 0.97, 2: 0.96, 30: 0.95}.get(i, p)
        rows.append((f"C{i:03d}", dt.date(2026, 4, 1), score, p, counterfeit, i in (4, 10, 11, 12)))
    schema = T.StructType([T.StructField("consignment_id", T.StringType()), T.StructField("lodged_date", T.DateType()),
                           T.StructField("score", T.DoubleType()), T.StructField("p_counterfeit", T.DoubleType()),
                           T.StructField("is_counterfeit", T.BooleanType()), T.StructField("legacy_pick", T.BooleanType())])
    m = measure_night(spark.createDataFrame(rows, schema))
    assert m["n"] == 100 and m["legacy_picks"] == 4 and m["legacy_precision"] == 0.25 and m["legacy_share"] == 0.04
    one, five = m["at_capacity"]["0.01"], m["at_capacity"]["0.05"]
    assert (one["k"], one["precision"], one["oracle_precision"], one["ratio_to_oracle"]) == (1, 0.0, 1.0, 0.0)
    assert (five["k"], five["precision"], five["oracle_precision"]) == (5, 0.6, 0.8)
    assert abs(five["ratio_to_oracle"] - 0.75) < 1e-12 and abs(five["ratio_to_legacy"] - 2.4) < 1e-12


def test_nights_pooled_take_each_nights_top_and_sum_the_hits(spark):
    # Two nights of 100: the model's top 1 misses on the first and hits on the second; pooled at 1 %
    # that is 1 hit in k = 2 (each night's own top 1), not the top 2 of the 200 rows taken together.
    schema = "consignment_id string, lodged_date date, score double, p_counterfeit double, is_counterfeit boolean, " \
             "legacy_pick boolean"
    rows = []
    for night, hit_at in ((dt.date(2026, 4, 1), 5), (dt.date(2026, 4, 2), 0)):
        for i in range(100):
            # The first night scores higher throughout: a pooled top 2 would take its two misses.
            score = 1.0 - i / 100 - (0.5 if night.day == 2 else 0.0)
            rows.append((f"{night.day}-{i:03d}", night, score, 0.9 if i == hit_at else 0.01, i == hit_at, False))
    frame = spark.createDataFrame(rows, schema)
    pooled = measure_nights({d: frame.where(F.col("lodged_date") == d) for d in (dt.date(2026, 4, 1), dt.date(2026, 4, 2))})
    one = pooled["all_nights"]["at_capacity"]["0.01"]
    assert (one["k"], one["precision"], one["oracle_precision"]) == (2, 0.5, 1.0)
    assert [n["at_capacity"]["0.01"]["precision"] for n in pooled["nights"].values()] == [0.0, 1.0]


def test_table_has_one_row_per_world_and_the_commands():
    cap = {"0.01": {"precision": 0.5, "oracle_precision": 0.625, "ratio_to_oracle": 0.8, "ratio_to_legacy": 5.0},
           "0.05": {"precision": 0.2, "oracle_precision": 0.25, "ratio_to_oracle": 0.8, "ratio_to_legacy": 2.0}}
    world = {"nights": {"2026-03-31": {}, "2026-04-01": {}}, "commands": ["shiprisk generate --world base"],
             "all_nights": {"n": 800, "legacy_precision": 0.1, "legacy_share": 0.05, "at_capacity": cap}}
    table = render_table({"sizes": SIZES, "worlds": {"default": world}})
    assert "| default | 2 | 800 | 0.500 | 0.625 | 0.80 | 0.200 | 0.250 | 0.80 | 0.100 (5.0 %) | 5.0 |" in table
    assert "shiprisk generate --world base" in table


def test_update_card_stores_the_figures_and_keeps_the_generated_part(tmp_path):
    import json

    card = tmp_path / "model_card.md"
    card.write_text("# Model card: shiprisk version 7\n\nGenerated part.\n", encoding="utf-8")
    cap = {"0.01": {"precision": 0.5, "oracle_precision": 0.5, "ratio_to_oracle": 1.0, "ratio_to_legacy": None},
           "0.05": {"precision": 0.1, "oracle_precision": 0.2, "ratio_to_oracle": 0.5, "ratio_to_legacy": None}}
    figures = {"sizes": SIZES, "worlds": {"mainland_express": {"nights": {"d": {}}, "commands": ["shiprisk models"],
                                                               "all_nights": {"n": 10, "legacy_precision": None,
                                                                              "legacy_share": 0.0, "at_capacity": cap}}}}
    update_card(card, worlds=figures)
    update_card(card, ablation={"fit": ["a", "b"], "holdout": ["c", "d"], "capacity": 0.01, "n_columns": 1,
                                "full": {"labelled": 0.3, "truth": None, "oracle": None}, "families": []})
    text = card.read_text(encoding="utf-8")
    assert text.startswith("# Model card: shiprisk version 7\n\nGenerated part.\n")
    assert "| mainland_express | 1 | 10 | 0.500 | 0.500 | 1.00 | 0.100 | 0.200 | 0.50 | n/a (0.0 %) | n/a |" in text
    assert "| (none: full model) | 1 | 0.300 | | n/a | |" in text
    assert json.loads((tmp_path / "measured" / "worlds.json").read_text())["sizes"] == SIZES


def test_a_failed_world_is_a_row_that_says_why_and_keeps_its_commands():
    figures = {"sizes": SIZES, "worlds": {"displaced_hubs": {"failed": "`shiprisk train ...` exited with 2",
                                                             "commands": ["shiprisk train ..."]}}}
    table = render_table(figures)
    assert "| displaced_hubs | failed: `shiprisk train ...` exited with 2 |" in table
    assert "shiprisk train ..." in table.split("Commands run")[1]


def test_a_world_measured_alone_joins_the_stored_table_only_at_the_same_sizes(tmp_path):
    import json

    card = tmp_path / "model_card.md"
    cap = {"0.01": {"precision": 0.5, "oracle_precision": 0.5, "ratio_to_oracle": 1.0, "ratio_to_legacy": None},
           "0.05": {"precision": 0.1, "oracle_precision": 0.2, "ratio_to_oracle": 0.5, "ratio_to_legacy": None}}

    def world(n):
        return {"nights": {"d": {}}, "commands": ["shiprisk models"],
                "all_nights": {"n": n, "legacy_precision": None, "legacy_share": 0.0, "at_capacity": cap}}

    start = "2026-03-01"
    update_card(card, worlds={"sizes": SIZES, "start": start, "note": "first run.",
                              "worlds": {"default": world(10), "mainland_express": {"failed": "stopped", "commands": []}}})
    update_card(card, worlds={"sizes": SIZES, "start": start, "note": "mainland_express alone.",
                              "worlds": {"mainland_express": world(20)}})
    stored = json.loads((tmp_path / "measured" / "worlds.json").read_text())
    assert sorted(stored["worlds"]) == ["default", "mainland_express"]
    assert stored["worlds"]["default"]["all_nights"]["n"] == 10  # kept
    assert stored["worlds"]["mainland_express"]["all_nights"]["n"] == 20  # the failed row replaced
    assert stored["note"] == "first run. mainland_express alone."
    text = card.read_text(encoding="utf-8")
    assert "| default | 1 | 10 |" in text and "| mainland_express | 1 | 20 |" in text and "failed" not in text
    # Other sizes: a new table, nothing merged.
    update_card(card, worlds={"sizes": {**SIZES, "per_day": SIZES["per_day"] + 1}, "start": start,
                              "worlds": {"mainland_express": world(30)}})
    assert list(json.loads((tmp_path / "measured" / "worlds.json").read_text())["worlds"]) == ["mainland_express"]

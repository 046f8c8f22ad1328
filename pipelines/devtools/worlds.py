"""The honest table of issue 17: train on one world's first days, run the following nights with the
real `shiprisk` commands, and measure each night's scores against the generator's truth.

    python -m pipelines.devtools.worlds --worlds default,displaced_hubs,mainland_express,air_belt_road \
        --per-day 5000 --train-days 90 --nights 5 --out DIR

For each world, in DIR/<world>/: `shiprisk generate` writes input/ (train days + nights + the label
lag, so the legacy picks of the last night have their outcomes), `shiprisk train` fits on the train
days into workspace/, `shiprisk models` shows the champion (`shiprisk promote --force` only if the
version came out as a challenger), then `shiprisk nightly --date D` for each night. Every command is
a subprocess, the same as an operator types; the lines run are kept in the figures.

Per night D (its scored consignments joined to the truth): precision at each capacity of the top k
by the model's score (k = ceil(share x consignments), ties by consignment_id, as the evaluation),
of the oracle's top k by p_counterfeit, and their ratio. The legacy rules are the old targeting's
picks in the outcomes (selection_reason RISK, as pipelines.jobs.evaluate `_truth_baselines`): their
precision against the truth, at their own volume (reported as a share of the day), since the
generator does not expose the legacy ranking beyond that draw.

Writes DIR/worlds.json (every figure) and DIR/worlds.md (the table with the command lines).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import subprocess
import sys
import time
from functools import reduce
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from models.model_card import render_worlds_table

# `default` is the world the models are developed on: the generator calls it `base`.
_GENERATOR_NAME = {"default": "base"}
CAPACITIES = (0.01, 0.05)


def shiprisk_command() -> list[str]:
    """The `shiprisk` entry point of this interpreter's environment (python -m as a fallback)."""
    script = Path(sys.executable).parent / "shiprisk"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipelines.cli"]


def plan_commands(world: str, folder: Path, start: dt.date, sizes: dict) -> dict:
    """The command lines of one world, in order, with the days they cover (no side effects)."""
    train_days, nights, lag = sizes["train_days"], sizes["nights"], sizes["label_lag"]
    days = train_days + nights + lag
    input_root, workspace = str(folder / "input"), str(folder / "workspace")
    last_train = start + dt.timedelta(days=train_days - 1)
    night_days = [last_train + dt.timedelta(days=n + 1) for n in range(nights)]
    return {
        "input": input_root, "workspace": workspace, "train": [start.isoformat(), last_train.isoformat()],
        "nights": [d.isoformat() for d in night_days],
        "generate": ["generate", "--out", input_root, "--start", start.isoformat(), "--days", str(days),
                     "--per-day", str(sizes["per_day"]), "--seed", str(sizes["seed"]),
                     "--world", _GENERATOR_NAME.get(world, world)],
        "train_cmd": ["train", "--input", input_root, "--workspace", workspace,
                      "--from", start.isoformat(), "--to", last_train.isoformat()],
        "models": ["models", "--workspace", workspace],
        "nightly": [["nightly", "--input", input_root, "--workspace", workspace, "--date", d.isoformat()]
                    for d in night_days],
    }


def run_shiprisk(args: list[str], ran: list[str]) -> str:
    """Runs one `shiprisk` command; its line goes to `ran` and stdout, its progress (stderr) passes
    through as it comes; returns its stdout. A failure stops the measurement."""
    line = shlex.join(["shiprisk", *args])
    ran.append(line)
    print(f"$ {line}", flush=True)
    started = time.perf_counter()
    done = subprocess.run([*shiprisk_command(), *args], stdout=subprocess.PIPE, text=True)
    output = done.stdout.strip().replace("\n", "\n  ")
    print(f"  ({time.perf_counter() - started:.0f}s) {output}", flush=True)
    if done.returncode != 0:
        raise RuntimeError(f"`{line}` exited with {done.returncode}")
    return done.stdout


def champion_line(models_output: str) -> str | None:
    """The `shiprisk models` row whose aliases (second column) include champion, if any."""
    for line in models_output.splitlines()[1:]:
        parts = line.split()
        if len(parts) > 1 and "champion" in parts[1].split(","):
            return line
    return None


def run_world(world: str, folder: Path, start: dt.date, sizes: dict) -> dict:
    """generate, train, champion, nightly x N for one world; returns the plan and the lines run."""
    plan, ran = plan_commands(world, folder, start, sizes), []
    try:
        _run_steps(world, plan, sizes, ran)
    except RuntimeError as exc:  # one world's failure (e.g. too few seizures to fit) must not lose the others
        print(f"== world {world}: FAILED: {exc}", flush=True)
        return {**plan, "commands": ran, "failed": str(exc)}
    return {**plan, "commands": ran}


def _run_steps(world: str, plan: dict, sizes: dict, ran: list[str]) -> None:
    print(f"== world {world}: generate {plan['train'][0]}.. ({sizes['per_day']} a day)", flush=True)
    run_shiprisk(plan["generate"], ran)
    print(f"== world {world}: train on {plan['train'][0]}..{plan['train'][1]}", flush=True)
    run_shiprisk(plan["train_cmd"], ran)
    # A fresh workspace registers its first version as champion; promote only if it did not.
    if champion_line(run_shiprisk(plan["models"], ran)) is None:
        run_shiprisk(["promote", "--workspace", plan["workspace"], "--force"], ran)
    for args in plan["nightly"]:
        print(f"== world {world}: night {args[-1]}", flush=True)
        run_shiprisk(args, ran)


def night_frame(spark: SparkSession, workspace: str, input_root: str, day: str) -> DataFrame:
    """Night `day`'s scored consignments with their truth and whether the legacy rules picked them."""
    from pipelines.io.readers import read_dataset
    from pipelines.io.workspace import Workspace

    scores = spark.read.parquet(Workspace(workspace).scores_day(day)).select(
        "consignment_id", F.to_date(F.lit(day)).alias("lodged_date"), F.col("score").cast("double").alias("score"))
    truth = read_dataset(spark, input_root, "truth", [day]).select("consignment_id", "p_counterfeit", "is_counterfeit")
    # Every outcome partition: a consignment of D is inspected on D or later (within the label lag).
    legacy = (read_dataset(spark, input_root, "outcomes").filter(F.col("selection_reason") == "RISK")
              .select("consignment_id", F.lit(True).alias("legacy_pick")).distinct())
    return (scores.join(truth, on="consignment_id", how="inner")
            .join(legacy, on="consignment_id", how="left")
            .select("consignment_id", "lodged_date", "score", "p_counterfeit", "is_counterfeit",
                    F.coalesce(F.col("legacy_pick"), F.lit(False)).alias("legacy_pick")))


def measure_night(frame: DataFrame, capacities=CAPACITIES) -> dict:
    """Model, oracle and legacy figures of one night (or several: per-day tops, summed)."""
    from models.evaluation import truth_at_capacity

    measured = truth_at_capacity(frame, list(capacities))
    legacy = frame.agg(F.sum(F.col("legacy_pick").cast("int")).alias("picks"),
                       F.sum(F.when(F.col("legacy_pick"), F.col("is_counterfeit").cast("int"))).alias("hits")).first()
    picks = int(legacy["picks"] or 0)
    out = {"n": measured["n"], "base_rate": measured["base_rate"], "legacy_picks": picks,
           "legacy_share": picks / measured["n"] if measured["n"] else None,
           "legacy_precision": (legacy["hits"] or 0) / picks if picks else None, "at_capacity": {}}
    for key, m in measured["at_capacity"].items():
        ratio = m["precision"] / m["oracle_precision"] if m["oracle_precision"] else None
        vs_legacy = m["precision"] / out["legacy_precision"] if out["legacy_precision"] else None
        out["at_capacity"][key] = {**m, "ratio_to_oracle": ratio, "ratio_to_legacy": vs_legacy}
    return out


def measure_nights(frames: dict[str, DataFrame]) -> dict:
    """Each night's figures, and all nights pooled: each night's own top, the hits summed."""
    nights = {day: measure_night(frame) for day, frame in frames.items()}
    pooled = reduce(DataFrame.unionByName, frames.values())
    return {"nights": nights, "all_nights": measure_night(pooled)}


def measure_world(spark: SparkSession, run: dict) -> dict:
    return measure_nights({day: night_frame(spark, run["workspace"], run["input"], day) for day in run["nights"]})


def update_card(card: Path, worlds: dict | None = None, ablation: dict | None = None) -> Path:
    """Stores the given figures as docs/measured/{worlds,ablation}.json beside `card` and re-renders the
    card's measured block from every figure stored there; the rest of the card is left as it was."""
    from models.model_card import measured_sections, with_measured_sections

    folder = card.parent / "measured"
    folder.mkdir(parents=True, exist_ok=True)
    if worlds is not None:
        worlds = merged_worlds(folder / "worlds.json", worlds)
    for name, figures in (("worlds", worlds), ("ablation", ablation)):
        if figures is not None:
            (folder / f"{name}.json").write_text(json.dumps(figures, indent=2, sort_keys=True, default=str) + "\n",
                                                 encoding="utf-8")
    stored = {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
              for name in ("worlds", "ablation") if (folder / f"{name}.json").exists()}
    text = card.read_text(encoding="utf-8") if card.exists() else ""
    card.write_text(with_measured_sections(text, measured_sections(**stored)), encoding="utf-8")
    return card


def merged_worlds(stored_path: Path, figures: dict) -> dict:
    """`figures` with the stored worlds it does not measure again, when both were measured at the same
    sizes and start (a world re-run or added alone joins the table); otherwise `figures` alone.
    The note of each run is kept, in order, since the rows may come from different days and commits."""
    if not stored_path.exists():
        return figures
    stored = json.loads(stored_path.read_text(encoding="utf-8"))
    if (stored.get("sizes"), stored.get("start")) != (figures.get("sizes"), figures.get("start")):
        return figures
    worlds = {**stored.get("worlds", {}), **figures["worlds"]}
    notes = [n for n in (stored.get("note"), figures.get("note")) if n]
    return {**figures, "worlds": worlds, "note": " ".join(notes) or None}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipelines.devtools.worlds", description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", default="default,displaced_hubs,mainland_express,air_belt_road",
                        help="comma-separated: default (the base world) and names in conf/worlds/ or .yaml paths")
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--train-days", type=int, default=90)
    parser.add_argument("--nights", type=int, default=5)
    parser.add_argument("--label-lag", type=int, default=None,
                        help="days generated after the last night (default: evaluation.label_lag_days)")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 3, 1))
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", help="folder for the worlds' inputs, workspaces and the table (required to measure)")
    parser.add_argument("--refresh-card", type=Path, metavar="CARD",
                        help="only re-render CARD's measured sections from docs/measured/*.json beside it (after a "
                             "regenerated card was copied over it) and exit")
    parser.add_argument("--card", type=Path, help="also store the figures under docs/measured/ beside this model card "
                        "and re-render its \"Other worlds\" section (e.g. docs/model_card.md)")
    parser.add_argument("--note", help="a line printed above the table in the card (e.g. the configuration's purpose)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from pipelines.io.settings import load_settings
    from pipelines.io.spark import get_spark

    args = parse_args(argv)
    if args.refresh_card:
        print(f"re-rendered the measured sections of {update_card(args.refresh_card)}")
        return 0
    if not args.out:
        raise SystemExit("--out is required to measure")
    settings = load_settings()
    lag = args.label_lag if args.label_lag is not None else int(settings["evaluation"]["label_lag_days"])
    sizes = {"per_day": args.per_day, "train_days": args.train_days, "nights": args.nights, "label_lag": lag,
             "seed": args.seed}
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    runs = {w: run_world(w, out / w, args.start, sizes) for w in args.worlds.split(",")}
    print("== measuring the nights against the truth", flush=True)
    spark = get_spark(settings)
    figures = {"sizes": sizes, "start": args.start.isoformat(), "worlds": {}, "note": args.note}
    for world, run in runs.items():
        measured = {"failed": run["failed"]} if "failed" in run else measure_world(spark, run)
        figures["worlds"][world] = {**measured, "commands": run["commands"],
                                    "input": run["input"], "workspace": run["workspace"], "nights_run": run["nights"]}
    table = render_worlds_table(figures)
    (out / "worlds.json").write_text(json.dumps(figures, indent=2, sort_keys=True), encoding="utf-8")
    (out / "worlds.md").write_text(table, encoding="utf-8")
    print(table)
    print(f"wrote {out / 'worlds.md'} and {out / 'worlds.json'}")
    if args.card:
        print(f"updated the \"Other worlds\" section of {update_card(args.card, worlds=figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

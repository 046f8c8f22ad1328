"""Synthetic customs data with ground truth, in the DATA_CONTRACT layout (see docs/synthetic_data.md)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.devtools.synthetic import dirty as dirty_mod
from pipelines.devtools.synthetic import frames, write
from pipelines.devtools.synthetic.inspections import simulate_outcomes
from pipelines.devtools.synthetic.intelligence import build_watchlist, rights_holder_rows
from pipelines.devtools.synthetic.items import simulate_items
from pipelines.devtools.synthetic.latent import draw_truth
from pipelines.devtools.synthetic.simulate import finish_manifests, simulate_consignments
from pipelines.devtools.synthetic.values import consignment_currency, price_items, simulate_fx
from pipelines.devtools.synthetic.world import build_world
from pipelines.devtools.synthetic.worlds import BASE, NamedWorld, write_record
from pipelines.io.progress import Progress

FORMATS = ("csv", "parquet", "mixed")
CORRUPTIONS_FILE = "_corruptions.csv"
ID_WIDTH = 7


def _simulate(cfg: dict, rng: np.random.Generator, start: dt.date, days: int, per_day: int, progress: Progress) -> dict:
    with progress.stage("build world"):
        world = build_world(cfg, rng, days * per_day, days)
        fx = simulate_fx(cfg, rng, days)
    with progress.stage(f"simulate {days * per_day:,} consignments"):
        c = simulate_consignments(world, cfg, rng, per_day)
        c["currency"] = consignment_currency(cfg, rng, c)
        it = price_items(world, cfg, rng, simulate_items(world, cfg, rng, c), c, fx)
        c = finish_manifests(cfg, rng, c, it)
        c["consignment_id"] = frames.seq_ids("CS", start, c["day"].to_numpy(), ID_WIDTH)
        c["declaration_id"] = frames.seq_ids("DE", start, c["day"].to_numpy(), ID_WIDTH)
        truth = draw_truth(c, it, cfg, rng)
    with progress.stage("simulate inspections and watch-list"):
        wl = build_watchlist(world, cfg, rng)
        outcomes = simulate_outcomes(c, it, truth, wl, cfg, rng)
    with progress.stage("assemble contract datasets"):
        out = {
            "manifests": frames.manifest_frame(c, start, rng).assign(**{write.DAY: c["day"].to_numpy()}),
            "declarations": frames.declaration_frame(c, it, start, cfg, rng).assign(**{write.DAY: it["day"].to_numpy()}),
            "outcomes": frames.outcome_frame(c, outcomes, start),
            "truth": pd.DataFrame({"consignment_id": c["consignment_id"], "p_counterfeit": truth["p_counterfeit"],
                                   "is_counterfeit": truth["is_counterfeit"], write.DAY: c["day"]}),
            "intelligence": frames.intelligence_frame(wl, start),
            "rights_holders": _rights_holders(world, start),
            "fx_rates": frames.fx_frame(fx, start),
        }
        out["outcomes"][write.DAY] = (out["outcomes"]["inspected_on"].to_numpy().astype("datetime64[D]")
                                      - np.datetime64(start, "D")).astype(int)
    return out


def _rights_holders(world, start: dt.date) -> pd.DataFrame:
    rows = rights_holder_rows(world)
    rows["recorded_on"] = frames.day_dates(start, rows.pop("recorded_day").to_numpy())
    return rows


def _fresh_ids(start: dt.date, per_day: int):
    """Ids that no generated row has: sequence numbers beyond the day's count."""
    def make(day: int, k: int) -> tuple[str, str]:
        stamp = (start + dt.timedelta(days=day)).strftime("%y%m%d")
        seq = str(per_day + 1 + k).zfill(ID_WIDTH)
        return f"CS{stamp}{seq}", f"DE{stamp}{seq}"
    return make


def _check_args(start, days: int, per_day: int, fmt: str, dirty: float) -> None:
    from pipelines.errors import UserError

    if days < 1 or per_day < 1:
        raise UserError(f"--days and --per-day must be at least 1 (got {days} and {per_day})")
    if per_day >= 10 ** ID_WIDTH // 2:
        raise UserError(f"--per-day {per_day} is too large; use fewer than {10 ** ID_WIDTH // 2:,} a day")
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if not 0.0 <= dirty < 0.5:
        raise UserError(f"--dirty is a share of rows between 0 and 0.5 (got {dirty}); try 0.01")


def generate(out: str, start: dt.date, days: int, per_day: int, seed: int, world: dict | NamedWorld,
             fmt: str = "csv", dirty: float = 0.0) -> dict:
    """Write a synthetic input root at `out`; returns a summary (rows per dataset, base rate, files).

    world: a NamedWorld (pipelines.devtools.synthetic.worlds.load_world), or the `synthetic` settings
    (conf/base/synthetic.yaml: patterns, volumes, policies) taken as the base world. The root's
    `_world.json` records the world's name and the digest of its knobs."""
    _check_args(start, days, per_day, fmt, dirty)
    progress = Progress("generate")
    world = world if isinstance(world, NamedWorld) else NamedWorld(BASE, world)
    cfg = world.settings
    rng = np.random.default_rng(seed)
    data = _simulate(cfg, rng, start, days, per_day, progress)
    n_days = int(max(f[write.DAY].max() for f in data.values() if write.DAY in f and len(f))) + 1
    formats = write.choose_formats(fmt, n_days, cfg, rng)
    csv_days = {d for d, f in formats.items() if f == "csv" and d >= 0}
    overrides: dict = {}
    listed = pd.DataFrame()
    if dirty > 0:
        with progress.stage(f"inject corruptions into {dirty:.1%} of rows"):
            extras, overrides, listed = dirty_mod.plan_corruptions(data, dirty, csv_days, _fresh_ids(start, per_day), cfg, rng)
            for name, extra in extras.items():
                data[name] = pd.concat([data[name], extra])
    root = Path(out)
    files = []
    with progress.stage(f"write {root}"):
        empty = pd.DataFrame(columns=["row", "column", "text", "typed", "marker"])
        for name, frame in data.items():
            files += write.write_dataset(frame, name, root, start, formats, cfg, overrides.get(name, empty))
        if dirty > 0:
            files.append(_write_corruptions(listed, root, start))
        files.append(write_record(root, world))
    return {"world": world.name, **_summary(data, root, files, listed, fmt, dirty)}


def _write_corruptions(listed: pd.DataFrame, root: Path, start: dt.date) -> Path:
    table = listed.drop(columns="_row").copy()
    table.insert(1, "partition_date", frames.day_dates(start, table.pop("partition_day").to_numpy()).astype(str))
    path = root / CORRUPTIONS_FILE
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def _summary(data: dict, root: Path, files: list, listed: pd.DataFrame, fmt: str, dirty: float) -> dict:
    truth = data["truth"]
    return {
        "out": str(root),
        "format": fmt,
        "rows": {name: int(len(frame)) for name, frame in data.items()},
        "consignments": int(len(truth)),
        "base_rate": float(truth["is_counterfeit"].mean()) if len(truth) else 0.0,
        "mean_p_counterfeit": float(truth["p_counterfeit"].mean()) if len(truth) else 0.0,
        "inspected": int(data["outcomes"]["consignment_id"].nunique()),
        "seized": int((data["outcomes"]["result"] == "SEIZED").sum()),
        "corruptions": int(len(listed)) if dirty > 0 else 0,
        # Text-only problems need CSV partitions: with --format parquet they are skipped.
        "problems_not_injected": sorted({p[1] for p in dirty_mod.PROBLEMS} - set(listed.get("problem", []))) if dirty > 0 else [],
        "files": [str(f) for f in files],
    }

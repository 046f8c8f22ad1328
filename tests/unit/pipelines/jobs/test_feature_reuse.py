"""When a window's stored features may be reused (pipelines.jobs.feature_reuse): only while every
file, setting and line of code they were built from is as it was when they were built."""
from pathlib import Path

from pipelines.jobs.feature_reuse import record_built, stored_is_current

DAYS = ["2026-06-01", "2026-06-02"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _window(tmp_path: Path) -> tuple[Path, Path]:
    root, ws = tmp_path / "input", tmp_path / "ws"
    for day in DAYS:
        _write(root / "manifests" / f"date={day}" / "part-0.csv", f"consignment_id\nC-{day}\n")
        _write(ws / "features" / f"date={day}" / "part-0.parquet", "features")
        _write(ws / "aggregates" / "party_daily" / f"date={day}" / "part-0.parquet", "aggregate")
    _write(root / "intelligence" / "watchlist.csv", "entity_type,entity_id\nEXPORTER,E1\n")
    _write(ws / "aggregates" / "route_daily" / "date=2026-05-20" / "part-0.parquet", "look-back")
    return root, ws


def test_reused_until_an_input_the_history_the_features_or_the_settings_change(make_ctx, tmp_path):
    root, ws = _window(tmp_path)
    ctx = make_ctx(ws)
    assert not stored_is_current(ctx, str(root), DAYS)  # never built
    record_built(ctx, str(root), DAYS)
    assert stored_is_current(ctx, str(root), DAYS)
    assert stored_is_current(ctx, str(root), DAYS[1:])  # a day inside it (a hold-out, say)
    assert not stored_is_current(ctx, str(root), [*DAYS, "2026-06-03"])  # a wider window: never built

    changes = [
        lambda: _write(root / "manifests" / "date=2026-06-02" / "part-0.csv", "consignment_id\nC-X\nC-Y\n"),
        lambda: _write(root / "intelligence" / "watchlist.csv", "entity_type,entity_id\nEXPORTER,E2\n"),
        lambda: _write(ws / "aggregates" / "route_daily" / "date=2026-05-20" / "part-1.parquet", "late outcome"),
        lambda: (ws / "features" / "date=2026-06-01" / "part-0.parquet").unlink(),  # a night rerun, say
        lambda: _write(ws / "recorded" / "outcomes" / "date=2026-06-01" / "recorded_results.csv", "SEIZED"),
    ]
    for change in changes:
        change()
        assert not stored_is_current(ctx, str(root), DAYS)
        assert not stored_is_current(ctx, str(root), DAYS[1:])
        record_built(ctx, str(root), DAYS)
        assert stored_is_current(ctx, str(root), DAYS)

    # What the window's features cannot have read leaves them reusable: a later day's files.
    _write(root / "manifests" / "date=2026-06-03" / "part-0.csv", "consignment_id\nC-3\n")
    _write(ws / "aggregates" / "party_daily" / "date=2026-06-03" / "part-0.parquet", "a later night")
    _write(ws / "features" / "date=2026-06-03" / "part-0.parquet", "a later night")
    assert stored_is_current(ctx, str(root), DAYS)

    # A feature setting, or the validation's, is part of the key.
    assert not stored_is_current(make_ctx(ws, features={"route_lookback_days": 91}), str(root), DAYS)
    assert not stored_is_current(make_ctx(ws, validation={"quarantine_threshold": 0.5}), str(root), DAYS)
    assert stored_is_current(make_ctx(ws, model={"max_iter": 7}), str(root), DAYS)  # model settings: not features


def test_a_copy_of_the_workspace_keeps_its_key_and_a_touched_file_loses_it(make_ctx, tmp_path):
    import os
    import shutil

    root, ws = _window(tmp_path)
    record_built(make_ctx(ws), str(root), DAYS)
    copy = tmp_path / "copy"
    shutil.copytree(ws, copy)  # copy2: modification times kept
    assert stored_is_current(make_ctx(copy), str(root), DAYS)
    aggregate = copy / "aggregates" / "party_daily" / "date=2026-06-02" / "part-0.parquet"
    os.utime(aggregate, ns=(aggregate.stat().st_atime_ns, aggregate.stat().st_mtime_ns + 5_000_000_000))
    assert not stored_is_current(make_ctx(copy), str(root), DAYS)  # same bytes, rewritten: built again

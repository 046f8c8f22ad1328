"""When a window's stored features may be reused (pipelines.jobs.feature_reuse): only for the
same window, while every file, setting and line of code they were built from is as it was."""
import os
import shutil
from pathlib import Path

from pipelines.jobs.feature_reuse import _day_of, record_built, sources_key, stored_is_current

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


def _built(ctx, root: Path, days=DAYS, recorded=None) -> None:
    record_built(ctx, sources_key(ctx, str(root), days, recorded), days, str(root))


def _current(ctx, root: Path, days=DAYS, recorded=None) -> bool:
    return stored_is_current(ctx, sources_key(ctx, str(root), days, recorded), days)


def test_reused_until_an_input_the_history_the_features_or_the_settings_change(make_ctx, tmp_path):
    root, ws = _window(tmp_path)
    ctx = make_ctx(ws)
    assert not _current(ctx, root)  # never built
    _built(ctx, root)
    assert _current(ctx, root)
    # Another window is validated on its own days (duplicates, orphans): never the stored one's.
    assert not _current(ctx, root, DAYS[1:]) and not _current(ctx, root, [*DAYS, "2026-06-03"])

    changes = [
        lambda: _write(root / "manifests" / "date=2026-06-02" / "part-0.csv", "consignment_id\nC-X\nC-Y\n"),
        lambda: _write(root / "intelligence" / "watchlist.csv", "entity_type,entity_id\nEXPORTER,E2\n"),
        # Manifests of the outcome look-back before the window: orphan outcomes are judged on them.
        lambda: _write(root / "manifests" / "date=2026-03-01" / "part-0.csv", "consignment_id\nC-OLD\n"),
        lambda: _write(ws / "aggregates" / "route_daily" / "date=2026-05-20" / "part-1.parquet", "late outcome"),
        lambda: (ws / "features" / "date=2026-06-01" / "part-0.parquet").unlink(),  # a night rerun, say
    ]
    for change in changes:
        change()
        assert not _current(ctx, root)
        _built(ctx, root)
        assert _current(ctx, root)

    # What the window's features cannot have read leaves them reusable: later days, manifests
    # older than the outcome look-back (120 days), recorded results the run does not read.
    _write(root / "manifests" / "date=2026-06-03" / "part-0.csv", "consignment_id\nC-3\n")
    _write(ws / "aggregates" / "party_daily" / "date=2026-06-03" / "part-0.parquet", "a later night")
    _write(ws / "features" / "date=2026-06-03" / "part-0.parquet", "a later night")
    _write(root / "manifests" / "date=2025-12-01" / "part-0.csv", "consignment_id\nC-OLDER\n")
    recorded = ws / "recorded"
    _write(recorded / "outcomes" / "date=2026-06-01" / "recorded_results.csv", "SEIZED")
    assert _current(ctx, root)
    # Read (the results database holds them): their content is part of the key.
    assert not _current(ctx, root, recorded=str(recorded))
    _built(ctx, root, recorded=str(recorded))
    assert _current(ctx, root, recorded=str(recorded))
    _write(recorded / "outcomes" / "date=2026-06-01" / "recorded_results.csv", "CLEAN")
    assert not _current(ctx, root, recorded=str(recorded))
    _built(ctx, root, recorded=str(recorded))
    # A result of an earlier day reaches the window through that day's aggregates, listed above.
    _write(recorded / "outcomes" / "date=2026-05-01" / "recorded_results.csv", "SEIZED")
    assert _current(ctx, root, recorded=str(recorded))
    _built(ctx, root)

    # A feature setting, or the validation's, is part of the key; the model's is not.
    assert not _current(make_ctx(ws, features={"route_lookback_days": 91}), root)
    assert not _current(make_ctx(ws, validation={"quarantine_threshold": 0.5}), root)
    assert _current(make_ctx(ws, model={"max_iter": 7}), root)


def test_a_copy_of_the_workspace_keeps_its_key_and_a_touched_file_loses_it(make_ctx, tmp_path):
    root, ws = _window(tmp_path)
    _built(make_ctx(ws), root)
    copy = tmp_path / "copy"
    shutil.copytree(ws, copy)  # copy2: modification times kept
    assert _current(make_ctx(copy), root)
    aggregate = copy / "aggregates" / "party_daily" / "date=2026-06-02" / "part-0.parquet"
    os.utime(aggregate, ns=(aggregate.stat().st_atime_ns, aggregate.stat().st_mtime_ns + 5_000_000_000))
    assert not _current(make_ctx(copy), root)  # same bytes, rewritten: built again


def test_a_files_day_is_its_own_folders_not_the_roots():
    assert _day_of("file:/feeds/date=2026-12-01/root/manifests/date=2026-06-01/part-0.csv") == "2026-06-01"
    assert _day_of("file:/feeds/root/intelligence/watchlist.csv") is None

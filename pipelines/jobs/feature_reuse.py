"""A window's stored feature table, reused when nothing it was built from has changed (issue 18
item 4): `train`, `evaluate` and `ablation` over a window whose features an earlier run built
read them back instead of building them again.

The window's key is a digest of everything its features are computed from:
- the code and settings: the feature registry's version, the source of features/ and of the
  readers, validation, history store and jobs that prepare their inputs, the `features`,
  `parties` and `validation` settings, the reference data and the expectation suites;
- the inputs: every file of the input root for the window's days and every snapshot (path,
  size, modification time), and the content of the workspace's recorded results (rewritten
  from the results database by every run, so their content is what counts);
- the workspace's state: the look-back aggregate files of every day up to the window's last
  and the window's stored feature files.
The key is taken after a build and stored beside the features; the next run takes it again
before building and reuses only on an exact match. A night rerun, a back-fill or a late
outcome that rewrites any of those files in between changes it, and the window is built
again. A file rewritten with the same bytes counts as changed: a needless rebuild, never a
stale reuse.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import features
import pipelines
from features.registry import registry_version
from pipelines.io.context import RunContext
from pipelines.io.filesystem import hadoop_fs, list_names, read_bytes, write_bytes
from pipelines.io.settings import conf_root
from pipelines.io.workspace import day_folder, days_between
from pipelines.validation.contract import DATASETS

_SETTINGS = ("features", "parties", "validation")
_CODE = (Path(features.__file__).parent, *(Path(pipelines.__file__).parent / room
                                           for room in ("io", "validation", "jobs")))
_CONF = ("reference", "expectations")


def _digest_of_files(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


def _code_and_conf() -> dict[str, str]:
    code = sorted(p for folder in _CODE for p in folder.rglob("*.py"))
    conf = sorted(p for name in _CONF for p in (conf_root() / name).rglob("*") if p.is_file())
    return {"registry": registry_version(), "code": _digest_of_files(code),
            "conf": _digest_of_files(conf)}


def _file_states(spark, pattern: str) -> list[list]:
    """[path, size, modification time] of each data file matching a glob (checksums left out)."""
    fs, path = hadoop_fs(spark, pattern)
    states = []
    for status in fs.globStatus(path) or []:
        name = str(status.getPath().toString())
        if status.isFile() and not name.endswith(".crc"):
            states.append([name, int(status.getLen()), int(status.getModificationTime())])
    return sorted(states)


def _day_of(path: str) -> str | None:
    marker = path.find("/date=")
    return path[marker + 6:marker + 16] if marker >= 0 else None


def _inputs(spark, input_root: str, days: list[str]) -> list[list]:
    root, wanted = input_root.rstrip("/"), set(days)
    states = []
    for dataset in DATASETS.values():
        if dataset.partitioned:
            found = _file_states(spark, f"{root}/{dataset.name}/date=*/*")
            states += [s for s in found if _day_of(s[0]) in wanted]
        else:
            states += _file_states(spark, f"{root}/{dataset.name}/*")
    return states


def _recorded(ctx: RunContext) -> str:
    spark, root = ctx.spark, ctx.workspace.recorded
    names = [s[0] for s in _file_states(spark, f"{root}/*/date=*/*")]
    sha = hashlib.sha256()
    for name in names:
        sha.update(name.rsplit("/date=", 1)[-1].encode() + b"\0" + read_bytes(spark, name) + b"\0")
    return sha.hexdigest()


def _within(states: list[list], folder: str) -> list[list]:
    """States with paths from `folder` on: a copy of the workspace (times kept) keeps its key."""
    return [[name[name.rfind(f"/{folder}/"):], *rest] for name, *rest in states]


def window_key(ctx: RunContext, input_root: str, days: list[str]) -> str:
    spark, workspace, last = ctx.spark, ctx.workspace, days[-1]
    history = [s for s in _file_states(spark, f"{workspace.aggregates}/*/date=*/*") if (_day_of(s[0]) or "") <= last]
    stored = [s for day in days for s in _file_states(spark, f"{day_folder(workspace.features, day)}/*")]
    parts = {
        **_code_and_conf(),
        "settings": {name: ctx.settings[name] for name in _SETTINGS},
        "inputs": _inputs(spark, input_root, days),
        "recorded": _recorded(ctx),
        "history": _within(history, "aggregates"),
        "features": _within(stored, "features"),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _stamp(ctx: RunContext, days: list[str]) -> str:
    return f"{_stamps(ctx)}/{days[0]}_{days[-1]}.json"


def _stamps(ctx: RunContext) -> str:
    return f"{ctx.workspace.features}/_reuse"


def _windows_holding(ctx: RunContext, days: list[str]) -> list[list[str]]:
    """Stamped windows that hold every one of `days`, narrowest first."""
    windows = []
    for name in list_names(ctx.spark, _stamps(ctx)):
        first, _, last = name.removesuffix(".json").partition("_")
        if name.endswith(".json") and first <= days[0] and days[-1] <= last:
            windows.append(days_between(dt.date.fromisoformat(first), dt.date.fromisoformat(last)))
    return sorted(windows, key=len)


def stored_is_current(ctx: RunContext, input_root: str, days: list[str]) -> bool:
    """Whether the stored features of `days` were built from what they would be built from now:
    as a window of their own, or inside a wider one (a training window's hold-out, say), whose
    key then holds for every day in it."""
    for window in _windows_holding(ctx, days):
        stored = json.loads(read_bytes(ctx.spark, _stamp(ctx, window)))
        if stored["key"] == window_key(ctx, input_root, window):
            return True
    return False


def record_built(ctx: RunContext, input_root: str, days: list[str]) -> None:
    """Store the key of the features just built for `days`."""
    record = {"key": window_key(ctx, input_root, days), "input_root": input_root,
              "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    write_bytes(ctx.spark, _stamp(ctx, days), json.dumps(record, indent=1).encode())

"""A window's stored feature table, reused when nothing it was built from has changed (issue 18
item 4): `train`, `evaluate`, `promote` and `ablation` over the window an earlier one of them
built read its features back instead of building them again.

The key is a digest of everything the window's features are computed from, in two parts:
- its sources, taken before validation reads them (a file replaced during the build must not
  be stamped onto features built from the old one): the feature registry's version, the source
  of features/ and of the readers, validation, history store and jobs that prepare their
  inputs, the `features`, `parties` and `validation` settings, the Spark settings that change
  parsing, the versions of the libraries that read and check the inputs, the reference data
  and the expectation suites; every file of the input root for the window's days, the
  manifests of the outcome look-back before it (orphan outcomes are judged against them) and
  every snapshot (path, size, modification time); the content of the recorded results, when
  the run reads them;
- the workspace's state, taken after the build and again before the next: the look-back
  aggregate files of every day up to the window's last, and the window's feature files.
The next run reuses only on an exact match for the same window: a night rerun, a back-fill or
a late outcome that rewrites any of those files changes it, and the window is built again. (A
window inside a stored one is built on its own: validation judges duplicates and orphans
across the days it reads, so its rows can differ.) A file rewritten with the same bytes counts
as changed: a needless rebuild, never a stale reuse.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib import metadata
from pathlib import Path

import features
import pipelines
from features.registry import registry_version
from pipelines.io.context import RunContext
from pipelines.io.filesystem import hadoop_fs, path_exists, read_bytes, write_bytes
from pipelines.io.settings import conf_root
from pipelines.io.workspace import day_folder
from pipelines.validation.contract import DATASETS

_SETTINGS = ("features", "parties", "validation")
_CODE = (Path(features.__file__).parent, *(Path(pipelines.__file__).parent / room
                                           for room in ("io", "validation", "jobs")))
_LIBRARIES = ("pyspark", "great-expectations", "pycountry", "pyarrow", "pandas")
# Session settings that change how text becomes values (dates, numbers, overflow).
_SPARK_SQL = ("spark.sql.session.timeZone", "spark.sql.ansi.enabled", "spark.sql.caseSensitive",
              "spark.sql.timestampType", "spark.sql.legacy.timeParserPolicy")


def _digest_of_files(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


def _code_and_conf(settings: dict) -> dict[str, str]:
    code = sorted(p for folder in _CODE for p in folder.rglob("*.py"))
    folders = (conf_root() / "reference", conf_root() / settings["validation"]["suites_dir"])
    conf = sorted(p for folder in folders for p in folder.rglob("*") if p.is_file())
    return {"registry": registry_version(), "code": _digest_of_files(code), "conf": _digest_of_files(conf),
            "libraries": ",".join(f"{name}={metadata.version(name)}" for name in _LIBRARIES)}


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
    """The day folder a file is in: the last date= of its path (a root may hold one of its own)."""
    marker = path.rfind("/date=")
    return path[marker + 6:marker + 16] if marker >= 0 else None


def _inputs(spark, input_root: str, days: list[str], outcome_lookback_days: int) -> list[list]:
    root, wanted = input_root.rstrip("/"), set(days)
    # Validation judges the window's outcomes against the manifests of this look-back too.
    earliest = (dt.date.fromisoformat(days[-1]) - dt.timedelta(days=outcome_lookback_days)).isoformat()
    states = []
    for dataset in DATASETS.values():
        if dataset.partitioned:
            found = _file_states(spark, f"{root}/{dataset.name}/date=*/*")
            looked_back = dataset.name == "manifests"
            states += [s for s in found if _day_of(s[0]) in wanted
                       or (looked_back and earliest <= (_day_of(s[0]) or "") <= days[-1])]
        else:
            states += _file_states(spark, f"{root}/{dataset.name}/*")
    return states


def _recorded(spark, root: str, days: list[str]) -> str:
    """The content of the recorded results of the window's days (the ones validation reads)."""
    wanted = set(days)
    names = [s[0] for s in _file_states(spark, f"{root}/*/date=*/*") if _day_of(s[0]) in wanted]
    sha = hashlib.sha256()
    for name in names:
        sha.update(name.rsplit("/date=", 1)[-1].encode() + b"\0" + read_bytes(spark, name) + b"\0")
    return sha.hexdigest()


def _within(states: list[list], folder: str) -> list[list]:
    """States with paths from `folder` on: a copy of the workspace (times kept) keeps its key."""
    return [[name[name.rfind(f"/{folder}/"):], *rest] for name, *rest in states]


def sources_key(ctx: RunContext, input_root: str, days: list[str], recorded: str | None) -> str:
    """The digest of what the window's features are built from, outside the workspace's stored
    state: take it before validation reads the inputs. `recorded`: the recorded results' root
    if the run reads them (pipelines.jobs.outcomes.refresh_recorded), else None."""
    settings = ctx.settings
    parts = {
        **_code_and_conf(settings),
        "settings": {name: settings[name] for name in _SETTINGS},
        "spark_sql": {key: ctx.spark.conf.get(key, None) for key in _SPARK_SQL},
        "inputs": _inputs(ctx.spark, input_root, days, int(settings["validation"]["outcome_lookback_days"])),
        "recorded": _recorded(ctx.spark, recorded, days) if recorded else None,
    }
    return _digest(parts)


def _digest(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def window_key(ctx: RunContext, sources: str, days: list[str]) -> str:
    """sources_key with the workspace's state the window's features read and are."""
    spark, workspace, last = ctx.spark, ctx.workspace, days[-1]
    history = [s for s in _file_states(spark, f"{workspace.aggregates}/*/date=*/*") if (_day_of(s[0]) or "") <= last]
    stored = [s for day in days for s in _file_states(spark, f"{day_folder(workspace.features, day)}/*")]
    return _digest({"sources": sources, "history": _within(history, "aggregates"),
                    "features": _within(stored, "features")})


def _stamp(ctx: RunContext, days: list[str]) -> str:
    return f"{ctx.workspace.features}/_reuse/{days[0]}_{days[-1]}.json"


def stored_is_current(ctx: RunContext, sources: str, days: list[str]) -> bool:
    """Whether the stored features of exactly this window were built from what it holds now."""
    stamp = _stamp(ctx, days)
    if not path_exists(ctx.spark, stamp):
        return False
    return json.loads(read_bytes(ctx.spark, stamp))["key"] == window_key(ctx, sources, days)


def record_built(ctx: RunContext, sources: str, days: list[str], input_root: str) -> None:
    """Store the key of the features just built for `days` from `sources` (sources_key)."""
    record = {"key": window_key(ctx, sources, days), "input_root": input_root,
              "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    write_bytes(ctx.spark, _stamp(ctx, days), json.dumps(record, indent=1).encode())

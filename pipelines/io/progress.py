"""Stage-by-stage progress through Python logging, and a timing record for run summaries.

Logs go to stderr: human-readable lines by default, JSON lines with `--log-format json` (for
schedulers that parse them). Each stage logs its start and its end with the seconds it took.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager

LOGGER = "shiprisk"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the stage fields if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        for key in ("job", "stage", "event", "seconds", "elapsed", "exit_code"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Send the project's logs to stderr in the chosen format (called once by the command line)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter("%(message)s"))
    logger = logging.getLogger(LOGGER)
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


class Progress:
    """Progress of one job: `say` for a line, `stage` for a timed step (quiet: debug level)."""

    def __init__(self, job: str, quiet: bool = False):
        self.job = job
        self.timings: dict[str, float] = {}
        # Spark jobs started per stage, once a counter is attached (count_jobs_with): where a
        # small night's fixed cost goes is mostly in how many jobs it starts, not their size.
        self.jobs: dict[str, int] = {}
        self.warnings: list[str] = []  # every warning said, for the run record
        self._job_counter: Callable[[], int] | None = None
        self._start = time.perf_counter()
        self._log = logging.getLogger(f"{LOGGER}.{job.split()[0]}")
        self._level = logging.DEBUG if quiet else logging.INFO

    def say(self, message: str, level: int | None = None, **fields) -> None:
        elapsed = round(time.perf_counter() - self._start, 1)
        self._log.log(level or self._level, f"[{self.job} {elapsed:7.1f}s] {message}",
                      extra={"job": self.job, "elapsed": elapsed, **fields})

    def count_jobs_with(self, counter: Callable[[], int] | None) -> None:
        """Record, per stage, how far `counter` (e.g. Spark jobs started so far) moved."""
        self._job_counter = counter

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.say(f"WARNING: {message}", logging.WARNING)

    @contextmanager
    def stage(self, name: str):
        self.say(f"{name} ...", stage=name, event="start")
        t0, jobs0 = time.perf_counter(), self._job_counter() if self._job_counter else None
        yield
        elapsed = time.perf_counter() - t0
        self.timings[name] = round(self.timings.get(name, 0.0) + elapsed, 3)
        jobs = ""
        if jobs0 is not None:
            started = self._job_counter() - jobs0
            self.jobs[name] = self.jobs.get(name, 0) + started
            jobs = f", {started} Spark jobs"
        self.say(f"{name} done in {elapsed:.1f}s{jobs}", stage=name, event="done", seconds=round(elapsed, 3))

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

"""Stage-by-stage progress on stderr and a timing record for run summaries."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Progress:
    def __init__(self, job: str, quiet: bool = False):
        self.job = job
        self.quiet = quiet
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    def say(self, message: str) -> None:
        if not self.quiet:
            print(f"[{self.job} {time.perf_counter() - self._start:7.1f}s] {message}", file=sys.stderr, flush=True)

    @contextmanager
    def stage(self, name: str):
        self.say(f"{name} ...")
        t0 = time.perf_counter()
        yield
        elapsed = time.perf_counter() - t0
        self.timings[name] = round(self.timings.get(name, 0.0) + elapsed, 3)
        self.say(f"{name} done in {elapsed:.1f}s")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._start

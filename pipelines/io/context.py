"""The run context a job receives: settings (read once), the workspace, progress, and a
Spark session started on first use (commands that only talk to MLflow never start one)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pyspark.sql import DataFrame, SparkSession

from pipelines.io.progress import Progress
from pipelines.io.workspace import Workspace


@dataclass
class RunContext:
    settings: dict
    workspace: Workspace
    progress: Progress
    session: SparkSession | None = field(default=None, repr=False)

    @property
    def spark(self) -> SparkSession:
        if self.session is None:
            from pipelines.io.spark import get_spark

            with self.progress.stage("start Spark"):
                self.session = get_spark(self.settings)
        return self.session

    def writer_lock(self, job: str):
        """The workspace's writer lock (pipelines.io.publish.workspace_lock) for `job`."""
        from pipelines.io.publish import workspace_lock

        return workspace_lock(self.workspace, job, None if self.workspace.is_local else self.spark)

    @cached_property
    def reference(self) -> dict[str, DataFrame]:
        """conf/reference tables (countries, ports, HS groups, units), loaded once per command."""
        from pipelines.io.reference import load_reference

        return load_reference(self.spark)


def open_context(job: str, workspace: str, settings: dict | None = None, spark: SparkSession | None = None,
                 quiet: bool = False) -> RunContext:
    """The context of one command: settings loaded here unless given (tests pass their own)."""
    from pipelines.io.settings import load_settings

    place = Workspace(workspace)
    place.check_supported()
    return RunContext(settings if settings is not None else load_settings(), place, Progress(job, quiet=quiet), spark)

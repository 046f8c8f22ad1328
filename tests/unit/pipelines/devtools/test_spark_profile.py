"""The event-log profile (pipelines.devtools.spark_profile) on a hand-written event log."""
import json

import pytest

from pipelines.devtools.spark_profile import event_files, main, read_profile, report

SQL = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecution"


def _events() -> list[str]:
    events = [
        {"Event": SQL + "Start", "executionId": 0, "description": "parquet at features", "time": 1_000},
        {"Event": "SparkListenerJobStart", "Job ID": 0, "Stage IDs": [0, 1], "Properties": {"spark.sql.execution.id": "0"}},
        {"Event": "SparkListenerJobStart", "Job ID": 1, "Stage IDs": [2], "Properties": {"spark.sql.execution.id": "0"}},
        {"Event": "SparkListenerTaskEnd", "Stage ID": 0, "Task Metrics": {"Executor Run Time": 3_000,
                                                                          "Executor CPU Time": 500_000_000}},
        {"Event": "SparkListenerTaskEnd", "Stage ID": 0, "Task Metrics": {"Executor Run Time": 1_000,
                                                                          "Executor CPU Time": 250_000_000}},
        {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage ID": 0, "Stage Name": "scan", "Number of Tasks": 2,
                                                               "Submission Time": 1_100, "Completion Time": 4_600}},
        # Stage 1 was skipped (its shuffle output reused): completed with no task run.
        {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage ID": 1, "Stage Name": "skipped", "Number of Tasks": 0}},
        {"Event": "SparkListenerTaskEnd", "Stage ID": 2, "Task Metrics": {"Executor Run Time": 6_000,
                                                                          "Executor CPU Time": 150_000_000}},
        {"Event": "SparkListenerStageCompleted", "Stage Info": {"Stage ID": 2, "Stage Name": "mapInPandas", "Number of Tasks": 1,
                                                               "Submission Time": 4_600, "Completion Time": 10_700}},
        {"Event": SQL + "End", "executionId": 0, "time": 11_000},
        {"Event": SQL + "Start", "executionId": 1, "description": "collect at counts", "time": 12_000},
        {"Event": SQL + "End", "executionId": 1, "time": 12_500},
    ]
    return [json.dumps(e) for e in events]


def test_queries_and_stages_add_up_their_tasks():
    queries, stages = read_profile(_events())
    assert (queries[0].wall_ms, queries[0].jobs, queries[0].stages) == (10_000, 2, [0, 1, 2])
    assert (queries[1].wall_ms, queries[1].jobs) == (500, 0)
    assert (stages[0].tasks, stages[0].wall_ms, stages[0].run_ms, stages[0].cpu_ms) == (2, 3_500, 4_000, 750.0)
    assert (stages[2].run_ms, stages[2].cpu_ms) == (6_000, 150.0)  # waiting on Python: run far above cpu
    lines = report(queries, stages, top=5)
    assert lines[0] == "2 query executions, 2 stages, 3 tasks; task run 10.0 s, task cpu 0.9 s"
    # Slowest query first, counting only the stages that ran.
    assert lines[3].split() == ["10.00", "2", "2", "3", "10.00", "0.90", "parquet", "at", "features"]
    assert lines[4].split()[:2] == ["0.50", "0"]
    assert lines[7].split() == ["6.10", "1", "6.00", "0.15", "2:", "mapInPandas"]


def test_a_compressed_log_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "events_1_local-1.zstd").write_bytes(b"\x28\xb5")
    with pytest.raises(SystemExit, match="spark.eventLog.compress=false"):
        event_files(tmp_path)


def test_command_prints_the_tables(tmp_path, capsys):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "events_1_local-1").write_text("\n".join(_events()) + "\n", encoding="utf-8")
    assert main([str(tmp_path), "--top", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2 query executions") and "parquet at features" in out[3] and "2: mapInPandas" in out[6]

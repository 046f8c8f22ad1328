"""The session builder: what the launch fixed stands, settings fill the rest."""


def test_settings_fill_what_the_launch_left_unset(monkeypatch, tmp_path, settings):
    from pipelines.io.spark import launch_settings, wanted_settings

    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    (tmp_path / "spark-defaults.conf").write_text("spark.executor.memory  3g\n# spark.master local[9]\n")
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--master local[3] --conf spark.sql.shuffle.partitions=5 pyspark-shell")
    launched = launch_settings()
    assert launched == {"spark.executor.memory": "3g", "spark.master": "local[3]", "spark.sql.shuffle.partitions": "5"}
    filled = {k: v for k, v in wanted_settings(settings).items() if k not in launched}
    assert "spark.master" not in filled and filled["spark.driver.memory"] == settings["spark"]["driver_memory"]


def test_jobs_started_counts_the_jobs_an_action_runs(spark):
    from pipelines.io.spark import jobs_started

    before = jobs_started(spark)
    assert spark.range(10).count() == 10
    after_one = jobs_started(spark)
    spark.range(5).collect()
    # Job ids count up: each action starts at least one job, and nothing else runs here.
    assert before < after_one < jobs_started(spark)

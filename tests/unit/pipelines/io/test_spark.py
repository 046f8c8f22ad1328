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


def test_a_cut_lineage_keeps_the_rows_starts_a_short_plan_and_is_freed(spark, tmp_path):
    from pyspark.sql import functions as F

    from pipelines.io.spark import cut_lineage, free_stored

    source = tmp_path / "rows"
    spark.range(6).withColumn("x", F.col("id") * 2).write.parquet(str(source))
    deep = spark.read.parquet(str(source)).where("id > 1").groupBy((F.col("id") % 2).alias("odd")).agg(F.sum("x").alias("s"))
    kept = cut_lineage(deep)
    # The plan starts at the kept rows: the file scan and the aggregation are not in it any more.
    plan = kept._jdf.queryExecution().analyzed().toString()
    assert "LogicalRDD" in plan and "parquet" not in plan.lower() and "Aggregate" not in plan
    # Computed when cut: replacing the files changes nothing it returns.
    spark.range(3).withColumn("x", F.lit(0)).write.mode("overwrite").parquet(str(source))
    assert sorted(tuple(r) for r in kept.collect()) == [(0, 2 * (2 + 4)), (1, 2 * (3 + 5))]
    assert spark.sparkContext._jsc.getPersistentRDDs().size() > 0
    free_stored(spark)
    assert spark.sparkContext._jsc.getPersistentRDDs().size() == 0

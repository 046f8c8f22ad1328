"""Hadoop FileSystem access from the driver: the one way the project lists, moves and deletes
files, so any URI Spark can read (local, hdfs://, s3a://, ...) works the same."""
from __future__ import annotations

from pyspark.sql import SparkSession


def hadoop_fs(spark: SparkSession, uri: str):
    """(FileSystem, Path) of a URI, through the session's Hadoop configuration."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(conf), path


def glob_files(spark: SparkSession, pattern: str) -> list[str]:
    """Files (not folders) matching a glob pattern, sorted."""
    fs, path = hadoop_fs(spark, pattern)
    statuses = fs.globStatus(path)
    if statuses is None:
        return []
    return sorted(str(s.getPath().toString()) for s in statuses if s.isFile())


def delete_path(spark: SparkSession, uri: str) -> None:
    fs, path = hadoop_fs(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)


def replace_path(spark: SparkSession, source: str, target: str) -> bool:
    """Move source to target, removing whatever target held; False if source is absent."""
    delete_path(spark, target)
    fs, src = hadoop_fs(spark, source)
    if not fs.exists(src):
        return False
    _, dst = hadoop_fs(spark, target)
    fs.mkdirs(dst.getParent())
    if not fs.rename(src, dst):
        raise OSError(f"could not move {source} to {target}")
    return True

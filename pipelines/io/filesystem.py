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


def path_exists(spark: SparkSession, uri: str) -> bool:
    fs, path = hadoop_fs(spark, uri)
    return bool(fs.exists(path))


def rename(spark: SparkSession, source: str, target: str) -> None:
    """One FileSystem rename (atomic for a folder on HDFS and the local file system)."""
    fs, src = hadoop_fs(spark, source)
    _, dst = hadoop_fs(spark, target)
    if not fs.rename(src, dst):
        raise OSError(f"could not rename {source} to {target}")


def list_names(spark: SparkSession, uri: str) -> list[str]:
    """Names of the entries of a folder (empty if it does not exist)."""
    fs, path = hadoop_fs(spark, uri)
    if not fs.exists(path):
        return []
    return sorted(str(s.getPath().getName()) for s in fs.listStatus(path))


def write_bytes(spark: SparkSession, uri: str, data: bytes, overwrite: bool = True) -> None:
    """Create (or replace) a file; with overwrite=False an existing file raises (an exclusive create)."""
    fs, path = hadoop_fs(spark, uri)
    stream = fs.create(path, overwrite)
    try:
        stream.write(bytearray(data))
    finally:
        stream.close()


def read_bytes(spark: SparkSession, uri: str) -> bytes:
    fs, path = hadoop_fs(spark, uri)
    stream = fs.open(path)
    try:
        jvm = spark.sparkContext._jvm
        return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
    finally:
        stream.close()


def copy_from_local(spark: SparkSession, local_dir: str, uri: str) -> None:
    """Copy a local folder's files into uri (created if absent)."""
    fs, dst = hadoop_fs(spark, uri)
    jvm = spark.sparkContext._jvm
    fs.mkdirs(dst)
    from pathlib import Path

    for child in sorted(Path(local_dir).iterdir()):
        fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(child.resolve().as_uri()), dst)

"""shiprisk jobs and CLI: the only package that reads configuration, starts Spark and does I/O."""

"""`python -m pipelines.cli` and the file to hand to spark-submit: the same `shiprisk` command line."""
import sys

from pipelines.cli import main

sys.exit(main())

"""`python -m pipelines.cli` and the file to hand to spark-submit: the same `shiprisk` command line."""
import os
import sys

# Run as a file (`spark-submit pipelines/cli/__main__.py`), Python puts this folder first on
# sys.path, where the command module cli/features.py would shadow the `features` package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

from pipelines.cli import main  # noqa: E402

sys.exit(main())

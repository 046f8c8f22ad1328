"""Errors a user can act on, each with its own exit code (docs/operations.md lists them).

The command line prints the message (which says what to do next) and exits with the code;
anything else is an internal error: its traceback is printed and the exit code is 70.
"""

EXIT_USAGE = 2  # bad arguments or settings (argparse uses 2 too)
EXIT_FEED = 3  # the input feed is broken as a whole
EXIT_LOCKED = 4  # another run holds the lock for this job and day
EXIT_NO_MODEL = 5  # the registry has no such model version or alias
EXIT_STORE = 6  # the MLflow tracking or registry store cannot be reached
EXIT_INTERNAL = 70  # a bug: counts that do not reconcile, an unexpected exception


class UserError(Exception):
    """Bad input, configuration or state that the user can fix; the message says how."""

    exit_code = EXIT_USAGE


class FeedError(UserError):
    """The feed is broken as a whole; the message names dataset, file, column or counts."""

    exit_code = EXIT_FEED


class LockedError(UserError):
    """Another run of the same job for the same day holds the workspace lock."""

    exit_code = EXIT_LOCKED


class NoModelError(UserError):
    """The registry has no version behind the alias or number asked for."""

    exit_code = EXIT_NO_MODEL


class StoreError(UserError):
    """The MLflow store failed: unreachable, refusing, or broken; never read as 'no model'."""

    exit_code = EXIT_STORE


class ReconciliationError(RuntimeError):
    """Rows or consignments do not add up: a bug in the pipeline, never to be ignored."""

    exit_code = EXIT_INTERNAL

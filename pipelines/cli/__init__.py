"""`shiprisk` command line. Each subcommand lives in pipelines/cli/<name>.py with
`register(parser)` and `run(args) -> int`; heavy imports stay inside `run` so `--help` is fast."""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> one-line help. Order is the order shown in --help.
COMMANDS = {
    "generate": "write a synthetic input root that follows DATA_CONTRACT.md, with ground truth",
    "validate": "check a day's feed against the expectation suites without scoring it",
    "features": "build (back-fill) the feature table for a range of days",
    "train": "train, evaluate and register a model on a window of labelled consignments",
    "evaluate": "evaluate a registered model version on any window",
    "promote": "move the champion alias to the challenger if it is not worse",
    "rollback": "point the champion alias back at the previous champion",
    "models": "list registered versions, aliases and headline metrics",
    "nightly": "validate, build features, score and write inspection lists for one day",
    "report": "write the self-contained HTML trend report of a period (seizures, hit rates, routes, model, drift)",
    "demo": "generate a modest dataset, train, run the last nights, show a list and write a trend report",
    "bench": "time the stages at a chosen scale and print throughput, ratios and peak memory",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shiprisk", description="Risk scoring of outbound customs consignments for counterfeit goods.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        try:
            module = importlib.import_module(f"pipelines.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"pipelines.cli.{name}":
                raise
            continue  # command not built yet
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.register(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a clear one-line message; the traceback helps nobody at 3 a.m.
        from pipelines.errors import UserError

        if isinstance(exc, UserError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


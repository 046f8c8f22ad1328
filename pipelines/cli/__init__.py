"""`shiprisk` command line. Each subcommand lives in pipelines/cli/<name>.py with
`register(parser)` and `run(args) -> int`; heavy imports stay inside `run` so `--help` is fast."""
from __future__ import annotations

import argparse
import importlib
import logging

from pipelines.errors import EXIT_INTERNAL, UserError
from pipelines.io.progress import configure_logging

# name -> one-line help. Order is the order shown in --help.
COMMANDS = {
    "generate": "write a synthetic input root that follows DATA_CONTRACT.md, with ground truth",
    "validate": "check a day's feed against the expectation suites without scoring it",
    "features": "build (back-fill) the feature table for a range of days",
    "train": "train, evaluate and register a model on a window of labelled consignments",
    "evaluate": "evaluate a registered model version on any window",
    "ablation": "precision at the headline capacity on a hold-out with and without each feature family",
    "promote": "move the champion alias to the challenger if it is not worse",
    "rollback": "point the champion alias back at the previous champion",
    "models": "list registered versions, aliases and headline metrics",
    "nightly": "validate, build features, score and write inspection lists for one day",
    "outcomes": "export recorded inspection results as an outcomes feed, or import a filled-in XLSX list",
    "report": "write the self-contained HTML trend report of a period (seizures, hit rates, routes, model, drift)",
    "demo": "generate a modest dataset, train, run the last nights, show a list and write a trend report",
    "bench": "time the stages at a chosen scale and print throughput, ratios and peak memory",
    "share": "exchange intelligence with partner administrations: export a package of seizures, import partners' packages",
    "serve": "the inspector workbench: web pages per office to work the lists and record results",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shiprisk", description="Risk scoring of outbound customs consignments for counterfeit goods.",
        epilog="Exit codes: 0 done, 2 bad arguments or settings, 3 broken feed, 4 another run holds the lock, "
               "5 no such model, 6 MLflow store unreachable, 70 internal error (docs/operations.md).")
    parser.add_argument("--log-format", choices=["text", "json"], default="text",
                        help="progress on stderr as readable lines (default) or JSON lines for schedulers")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"pipelines.cli.{name}")
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.register(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_format)
    log = logging.getLogger(f"shiprisk.{args.command}")
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    except UserError as exc:  # a clear message that says what to do; no traceback at 3 a.m.
        log.error(f"error: {exc}", extra={"event": "failed", "exit_code": exc.exit_code})
        return exc.exit_code
    except Exception as exc:  # a bug: keep the traceback for whoever fixes it
        log.error(f"internal error: {type(exc).__name__}: {exc}; nothing further was published. "
                  "Report this as a bug with the traceback below.", exc_info=True)
        return getattr(exc, "exit_code", EXIT_INTERNAL)

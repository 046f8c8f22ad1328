"""shiprisk rollback --workspace W"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--workspace", required=True)


def run(args) -> int:
    from pipelines.io.context import open_context
    from pipelines.jobs.promote import rollback

    current, previous = rollback(open_context("rollback", args.workspace))
    print(f"champion moved back from version {current} to version {previous}")
    return 0

"""shiprisk rollback --workspace W"""
from __future__ import annotations


def register(parser):
    parser.add_argument("--workspace", required=True)


def run(args) -> int:
    from pipelines.io import tracking
    from pipelines.io.settings import load_config

    cfg = load_config()
    tracking.configure(cfg, args.workspace)
    current, previous = tracking.rollback_champion(cfg["mlflow"]["registered_model"])
    print(f"champion moved back from version {current} to version {previous}")
    return 0

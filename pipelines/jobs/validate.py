"""`shiprisk validate`: check days of a feed against the contract and the expectation suites,
quarantine the bad rows in the workspace and write the validation report, without scoring."""
from __future__ import annotations

from pipelines.io.context import RunContext
from pipelines.validation.inputs import ValidationResult, validate_inputs


def validate(ctx: RunContext, input_root: str, days: list[str]) -> ValidationResult:
    with ctx.writer_lock(f"validate {', '.join(days)}"):
        return validate_inputs(ctx, input_root, days)

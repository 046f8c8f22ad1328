"""`shiprisk validate`: check days of a feed against the contract and the expectation suites,
quarantine the bad rows in the workspace and write the validation report, without scoring."""
from __future__ import annotations

from pipelines.io.context import RunContext
from pipelines.io.publish import workspace_lock
from pipelines.validation.inputs import ValidationResult, validate_inputs


def validate(ctx: RunContext, input_root: str, days: list[str]) -> ValidationResult:
    with workspace_lock(ctx.workspace, f"validate {', '.join(days)}"):
        result = validate_inputs(ctx, input_root, days)
        result.release()
        return result

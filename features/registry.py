"""The feature registry: every feature is defined once, here or in its family module.

Each family module (features/destination.py, features/route.py, ...) exports
`FEATURES: list[FeatureDef]` next to the transform that computes them; `all_features()`
collects them. Training, scoring, docs/features.md and the feature-table expectations all
read this one list, so a feature cannot mean one thing in training and another at night.
"""
from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass

DTYPES = ("double", "integer", "string")
KINDS = ("numeric", "categorical", "flag")  # flags are integer 0/1

# Family modules, in the order they appear in docs and in the feature table.
FAMILY_MODULES = (
    "features.destination",
    "features.route",
    "features.commodity",
    "features.items",
    "features.parties",
    "features.intelligence",
    "features.shape",
)


@dataclass(frozen=True)
class FeatureDef:
    name: str
    dtype: str
    kind: str
    family: str
    meaning: str
    sources: tuple[str, ...]
    window: str  # what it looks back over, e.g. "day of lodging", "365 days before lodging"
    nullable: bool = False
    model_input: bool = True

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"feature {self.name}: dtype {self.dtype!r} not in {DTYPES}")
        if self.kind not in KINDS:
            raise ValueError(f"feature {self.name}: kind {self.kind!r} not in {KINDS}")
        if self.kind == "categorical" and self.dtype != "string":
            raise ValueError(f"feature {self.name}: categorical features are strings")


def all_features() -> list[FeatureDef]:
    """Every registered feature, family by family.

    A family module that cannot be imported, or that defines no FEATURES, is an error: a
    renamed file must not make its features vanish from the model in silence."""
    found: list[FeatureDef] = []
    for module_name in FAMILY_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ImportError(f"feature family {module_name} cannot be imported ({exc}); fix the module or "
                              "remove it from features.registry.FAMILY_MODULES") from exc
        if not getattr(module, "FEATURES", None):
            raise ValueError(f"feature family {module_name} defines no FEATURES")
        found.extend(module.FEATURES)
    names = [f.name for f in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"features defined twice: {duplicates}")
    return found


def model_inputs() -> tuple[list[str], list[str]]:
    """(numeric columns, categorical columns) the model consumes, flags counted as numeric."""
    feats = [f for f in all_features() if f.model_input]
    numeric = [f.name for f in feats if f.kind in ("numeric", "flag")]
    categorical = [f.name for f in feats if f.kind == "categorical"]
    return numeric, categorical


def registry_version() -> str:
    """A digest of the definitions, logged with every model so a changed feature is visible."""
    text = "\n".join(repr(f) for f in all_features())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

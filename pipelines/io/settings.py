"""Layered configuration: conf/base, then conf/local, then SHIPRISK__* environment variables."""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

ENV_PREFIX = "SHIPRISK__"


def conf_root() -> Path:
    """The conf/ folder: SHIPRISK_CONF_DIR if set, else the one beside the package."""
    override = os.environ.get("SHIPRISK_CONF_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "conf"


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _env_overrides(environ: dict[str, str]) -> dict:
    """SHIPRISK__SPARK__MASTER=spark://h:7077 -> {"spark": {"master": "spark://h:7077"}}."""
    overrides: dict = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX):].split("__") if k]
        node = overrides
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = yaml.safe_load(raw)  # so numbers and booleans keep their type
    return overrides


def load_config(name: str = "shiprisk", environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The merged configuration of conf/base/<name>.yaml."""
    root = conf_root()
    base = _read_yaml(root / "base" / f"{name}.yaml")
    if not base:
        raise FileNotFoundError(f"no configuration at {root / 'base' / (name + '.yaml')}; set SHIPRISK_CONF_DIR")
    merged = _merge(base, _read_yaml(root / "local" / f"{name}.yaml"))
    return _merge(merged, _env_overrides(dict(os.environ if environ is None else environ)))


def reference_path(filename: str) -> Path:
    """A versioned reference data file under conf/reference/."""
    path = conf_root() / "reference" / filename
    if not path.exists():
        raise FileNotFoundError(f"reference data {path} is missing")
    return path

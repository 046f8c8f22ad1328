"""Settings: every conf/base/*.yaml file, merged with conf/local/ and SHIPRISK__* variables, once.

One tree, one override rule. `shiprisk.yaml`'s sections (spark, mlflow, model, ...) sit at
the top; every other file is the section named after it (features.yaml -> `features`,
validation.yaml -> `validation`, ...). Then, in order, each layer replaces what it names:

    conf/base/<file>.yaml  <  conf/local/<file>.yaml  <  SHIPRISK__<SECTION>__<KEY>=value

A key that base does not define is an error naming the key and its source (a misspelt
override would otherwise be ignored in silence), except inside the open maps below, whose
keys are data (office codes, currencies, spark.* settings). Lists are replaced whole.

A command loads the settings once (`load_settings`) and passes them down; nothing below
the command line reads a YAML file.
"""
from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pipelines.errors import UserError

ENV_PREFIX = "SHIPRISK__"
MAIN_FILE = "shiprisk"
SECTION_FILES = ("features", "parties", "validation", "selection", "profiles", "reasons", "report", "synthetic",
                 "workbench", "exchange")
# Maps whose keys are data, not settings: any key may be added.
OPEN_MAPS = {
    ("spark", "extra"),
    ("features", "fx_fallback_hkd_per_unit"),
    ("validation", "thresholds"),
    ("selection", "office_capacity"),
    ("reasons", "features"),
    ("reasons", "basis"),
    ("workbench", "users"),
    ("exchange", "source_names"),
}


class SettingsError(UserError):
    """A configuration file or override that cannot be used; the message names it."""


def conf_root() -> Path:
    """The conf/ folder, the first of:

    1. SHIPRISK_CONF_DIR, if set (a cluster's own configuration);
    2. the repository's conf/ beside the package, if it holds base/shiprisk.yaml (a source
       checkout or an editable install: edits take effect at once);
    3. the copy shipped in the wheel as the package `shiprisk_conf` (an installed wheel),
       as a real directory: wheels install unpacked, so importlib.resources gives a path.

    If none holds a configuration, the repository path: load_settings then names it and
    asks for SHIPRISK_CONF_DIR.
    """
    override = os.environ.get("SHIPRISK_CONF_DIR")
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parents[2] / "conf"
    if (checkout / "base" / f"{MAIN_FILE}.yaml").is_file():
        return checkout
    from importlib import resources

    try:
        # A data-only (namespace) package: files() may be a MultiplexedPath, whose children are
        # Paths; a zipped install would give a zipfile.Path, which is no use to Spark or GX.
        marker = resources.files("shiprisk_conf") / "base" / f"{MAIN_FILE}.yaml"
    except (ImportError, TypeError, ValueError, OSError):
        marker = None
    if isinstance(marker, Path) and marker.is_file():
        return marker.resolve().parents[1]
    return checkout


def reference_path(filename: str, root: Path | None = None) -> Path:
    """A versioned reference data file under conf/reference/."""
    path = (root or conf_root()) / "reference" / filename
    if not path.exists():
        raise SettingsError(f"reference data {path} is missing; restore it from the repository")
    return path


def read_mapping(path: Path) -> dict:
    """A YAML file holding a mapping ({} if the file is absent); anything else is a SettingsError."""
    if not path.exists():
        return {}
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _layer(root: Path, folder: str) -> dict:
    """One layer (base or local) as a single tree."""
    tree = read_mapping(root / folder / f"{MAIN_FILE}.yaml")
    for name in SECTION_FILES:
        content = read_mapping(root / folder / f"{name}.yaml")
        if content:
            if name in tree:
                raise SettingsError(f"{root / folder}: section {name!r} is defined both in {MAIN_FILE}.yaml and "
                                    f"{name}.yaml; keep it in {name}.yaml")
            tree[name] = content
    return tree


def _env_layer(environ: Mapping[str, str]) -> dict:
    """SHIPRISK__SPARK__MASTER=spark://h:7077 -> {"spark": {"master": "spark://h:7077"}}."""
    overrides: dict = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k for k in name[len(ENV_PREFIX):].split("__") if k]
        if not keys:
            continue
        # Setting names are lower case; keys inside an open map are data (office codes) and keep theirs.
        for i in range(len(keys)):
            if tuple(keys[:i]) in OPEN_MAPS:
                break
            keys[i] = keys[i].lower()
        node = overrides
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = yaml.safe_load(raw)  # so numbers and booleans keep their type
    return overrides


def _merge(base: dict, override: dict, source: str, path: tuple[str, ...] = ()) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        where = (*path, key)
        if key not in base and path not in OPEN_MAPS:
            known = sorted(base)
            hint = difflib.get_close_matches(str(key), known, n=1)
            raise SettingsError(
                f"unknown setting {'.'.join(map(str, where))} in {source}"
                + (f"; did you mean {'.'.join(map(str, (*path, hint[0])))}?" if hint else "")
                + (f" (known here: {', '.join(known)})" if known and not hint else ""))
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value, source, where)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_section(base: dict, override: dict, source: str) -> dict:
    """`override` deep-merged over one section `base` by the same rule as the layers: a key that
    base does not define is an error naming the key and `source`; lists are replaced whole."""
    return _merge(base, override, source)


def load_settings(root: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The merged, checked settings tree (see the module docstring)."""
    root = root or conf_root()
    base = _layer(root, "base")
    if not base.get("spark"):
        raise SettingsError(f"no configuration at {root / 'base' / (MAIN_FILE + '.yaml')}; set SHIPRISK_CONF_DIR "
                            "to the project's conf/ folder")
    merged = _merge(base, _layer(root, "local"), f"{root / 'local'}")
    env = _env_layer(os.environ if environ is None else environ)
    return _merge(merged, env, "the SHIPRISK__* environment variables")

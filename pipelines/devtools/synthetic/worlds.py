"""Worlds of the generator: the base world (the `synthetic` settings) or one of conf/worlds/<name>.yaml.

A world file is a partial `synthetic` tree deep-merged over the configured settings with the
settings' own rule (pipelines.io.settings.merge_section): a key that conf/base/synthetic.yaml
does not define is refused with its name, lists are replaced whole. docs/synthetic_data.md
("Worlds") says what each world changes. Every generated root records its world in
`_world.json` (name and a digest of the merged knobs), so an evaluation can say where it ran.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.devtools.synthetic.simulate import HUBS
from pipelines.io.settings import SettingsError, conf_root, merge_section, read_mapping

BASE = "base"
WORLDS_FOLDER = "worlds"
RECORD_FILE = "_world.json"
OPERATION_KEYS = ("hub", "at_share", "factor", "displaced_to", "boost")


@dataclass(frozen=True)
class NamedWorld:
    """The knobs of one world (a whole `synthetic` tree) and the name it is known by."""
    name: str
    settings: dict

    @property
    def digest(self) -> str:
        """sha256 of the merged knobs: two roots with the same digest come from the same world."""
        text = json.dumps(self.settings, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def available_worlds(root: Path | None = None) -> list[str]:
    """`base` and the names of the world files in conf/worlds/."""
    folder = (root or conf_root()) / WORLDS_FOLDER
    names = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    return [BASE, *names]


def _world_file(choice: str, root: Path | None) -> Path:
    if choice.endswith((".yaml", ".yml")) or "/" in choice:
        path = Path(choice)
        if not path.is_file():
            raise SettingsError(f"world file {path} does not exist")
        return path
    path = (root or conf_root()) / WORLDS_FOLDER / f"{choice}.yaml"
    if not path.is_file():
        raise SettingsError(f"unknown world {choice!r}; available: {', '.join(available_worlds(root))} "
                            f"(conf/{WORLDS_FOLDER}/<name>.yaml), or a path to a .yaml file")
    return path


def check_world(settings: dict, source: str) -> None:
    """What the merge cannot check inside lists: each enforcement operation's keys and hubs."""
    for i, op in enumerate(settings["enforcement_operations"]):
        where = f"enforcement_operations[{i}] in {source}"
        if not isinstance(op, dict) or set(op) != set(OPERATION_KEYS):
            found = sorted(op) if isinstance(op, dict) else op
            raise SettingsError(f"{where}: expected the keys {', '.join(OPERATION_KEYS)}, got {found}")
        unknown = [h for h in [op["hub"], *op["displaced_to"]] if h not in HUBS]
        if unknown:
            raise SettingsError(f"{where}: unknown hub {', '.join(map(str, unknown))} (hubs: {', '.join(HUBS)})")
        if not 0.0 <= float(op["at_share"]) <= 1.0:
            raise SettingsError(f"{where}: at_share is a share of the period, between 0 and 1 (got {op['at_share']})")


def load_world(choice: str | None, synthetic: dict, root: Path | None = None) -> NamedWorld:
    """The world named `choice` (a conf/worlds/ name, a .yaml path, or `base`/None) over `synthetic`."""
    if not choice or choice == BASE:
        check_world(synthetic, "the synthetic settings")
        return NamedWorld(BASE, synthetic)
    path = _world_file(choice, root)
    merged = merge_section(synthetic, read_mapping(path), str(path))
    check_world(merged, str(path))
    return NamedWorld(path.stem, merged)


def write_record(out: Path, world: NamedWorld) -> Path:
    """`<out>/_world.json`: the world's name and the digest of its knobs."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / RECORD_FILE
    record = {"name": world.name, "settings_sha256": world.digest}
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path

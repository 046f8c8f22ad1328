"""The house rules of the tree, checked on the source (docs/architecture.md): imports flow one way
with no cycle, jobs take a run context instead of long parameter lists, and only the workspace
module spells a workspace folder."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipelines", "features", "models")
WORKSPACE_FOLDERS = ("scores", "lists", "runs", "features", "aggregates", "quarantine", "reports", "locks")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    deps = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                deps.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            deps.update(alias.name for alias in node.names)
    return {d for d in deps if d in modules}


def test_no_import_cycle_and_imports_flow_one_way():
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            assert state.get(dep) != 1, "import cycle: " + " -> ".join([*path[path.index(dep):], dep])
            if dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    for name, deps in graph.items():
        if name.startswith(("features", "models")):
            assert not {d for d in deps if d.startswith("pipelines") and d != "pipelines.errors"}, f"{name} is not pure"
        if name.startswith(("pipelines.io", "pipelines.validation", "pipelines.outputs")):
            assert not {d for d in deps if d.startswith(("pipelines.jobs", "pipelines.cli"))}, f"adapter {name} imports a job"
        if name.startswith("pipelines.jobs"):
            assert not {d for d in deps if d.startswith("pipelines.cli")}, f"job {name} imports the command line"


def test_no_function_under_pipelines_takes_more_than_eight_parameters():
    long = []
    for path in (ROOT / "pipelines").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                count = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
                if count > 8:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({count})")
    assert not long, long


def test_only_the_workspace_module_spells_workspace_folders():
    names = "|".join(WORKSPACE_FOLDERS)
    # A folder joined to a path (`/ "scores"`), or inside a path string ("scores/date=", f"{w}/lists").
    as_path = re.compile(rf"""/\s*["'](?:{names})["']|["'][^"'\n]*(?:\b(?:{names})/|/(?:{names})\b)""")
    offenders = []
    for path in (ROOT / "pipelines").rglob("*.py"):
        if path.name == "workspace.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if as_path.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, offenders

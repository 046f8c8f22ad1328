"""The wheel carries its configuration: built, installed in a fresh venv, run outside the repository.

conf/ ships in the wheel as the data-only package `shiprisk_conf` (pyproject.toml's
[tool.setuptools] packages, package-dir and package-data); pipelines.io.settings.conf_root()
finds it there when SHIPRISK_CONF_DIR is unset and no repository conf/ sits beside the code.

- A quick check (no build) that pyproject's explicit package list and package-data patterns
  still cover the source tree and conf/: a package or a conf file added later cannot be left
  out of the wheel in silence.
- The slow test builds the wheel from a copy of the working tree (an in-tree build would
  write build/ into the repository, and setuptools reuses a stale build/lib), checks what it
  holds, installs it with its dependencies from the package index into a fresh venv (pip's
  cache makes that quick) and runs `shiprisk --help`, `generate` and `validate` (Spark, Great
  Expectations, the reference data) from a directory outside the repository. It skips only
  when the index cannot be reached; any other build or install problem fails it.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CODE_ROOTS = ("pipelines", "features", "models")
CONF_PACKAGE = "shiprisk_conf"
# What the wheel must hold from conf/ (relative to conf/); conf/local never.
CONF_SHIPPED = {"base": ["*.yaml"], "expectations": ["*.json"], "reference": ["*.csv", "README.md"], "worlds": ["*.yaml"]}

# Not copied for the build: environments, build output, caches, workspaces (see .gitignore).
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache",
    ".ipynb_checkpoints", "workspace", "demo-workspace", "bench-workspace", "mlruns", "mlflow.db",
    "spark-warehouse", "metastore_db", "derby.log",
)

# pip's words for "the index could not be reached"; a skip also needs pip to say that this is
# why it got no package (not, say, that a pinned version does not exist).
_UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|"
    r"Name or service not known|Network is unreachable|Connection refused|ConnectTimeoutError|"
    r"ReadTimeoutError|Max retries exceeded|ProxyError|No route to host"
)
_NOT_OBTAINED = re.compile(r"No matching distribution found|Could not find a version that satisfies|due to an OSError")

DAY = "2026-06-01"
PER_DAY = 50


def _expected_conf_files() -> set[str]:
    """conf/ files that the wheel must carry, as paths relative to conf/."""
    files = set()
    for folder, patterns in CONF_SHIPPED.items():
        for path in (REPO / "conf" / folder).iterdir():
            if path.is_file() and any(fnmatch.fnmatch(path.name, p) for p in patterns):
                files.add(f"{folder}/{path.name}")
    return files


def _code_packages() -> set[str]:
    """Every folder under pipelines/, features/, models/ that holds Python code, as a dotted name."""
    found = set()
    for root in CODE_ROOTS:
        for module in (REPO / root).rglob("*.py"):
            if "__pycache__" not in module.parts:
                found.add(".".join(module.parent.relative_to(REPO).parts))
    return found


def test_pyproject_lists_every_package_and_every_conf_file():
    setuptools_cfg = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(setuptools_cfg["packages"])
    missing = _code_packages() - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml, or the wheel lacks them"
    assert setuptools_cfg["package-dir"] == {CONF_PACKAGE: "conf"}
    data = setuptools_cfg["package-data"]
    assert {name for name in listed if name.startswith(CONF_PACKAGE)} == {CONF_PACKAGE} | {
        f"{CONF_PACKAGE}.{folder}" for folder in CONF_SHIPPED}, "conf/local must stay out of the packages"
    for folder in CONF_SHIPPED:
        patterns = data[f"{CONF_PACKAGE}.{folder}"]
        present = sorted(p.name for p in (REPO / "conf" / folder).iterdir() if p.is_file())
        uncovered = [name for name in present if not any(fnmatch.fnmatch(name, p) for p in patterns)]
        assert not uncovered, f"conf/{folder}/{uncovered} would not ship: extend package-data {patterns}"


def _run(cmd, log: Path, *, env=None, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    """Run `cmd` with stdout and stderr into `log`; the output is also returned."""
    with open(log, "w") as out:
        proc = subprocess.run([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    proc.stdout = log.read_text(errors="replace")
    return proc


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _pip_must_succeed(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode == 0:
        return
    unreachable = _UNREACHABLE.search(proc.stdout)
    if unreachable and _NOT_OBTAINED.search(proc.stdout):
        pytest.skip(f"cannot {what}: the package index is unreachable ({unreachable.group(0)})")
    pytest.fail(f"{what} failed (exit {proc.returncode}):\n{_tail(proc.stdout)}")


def _outside_env(venv: Path) -> dict:
    """The environment of a cluster node: no SHIPRISK_CONF_DIR or other SHIPRISK* variable, nothing
    that points at the repository or its .venv (tests/conftest.py sets PYSPARK_PYTHON to it)."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_HOME",
            "MLFLOW_TRACKING_URI"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("SHIPRISK")}
    env.update({
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYSPARK_PYTHON": str(venv / "bin" / "python"),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "GX_ANALYTICS_ENABLED": "False",
        # An override layer on top of the packaged base settings: small data, few partitions.
        "SHIPRISK__SPARK__SHUFFLE_PARTITIONS": "2",
    })
    return env


@pytest.mark.slow
@pytest.mark.wheel
def test_wheel_in_a_fresh_venv_runs_on_its_packaged_configuration(tmp_path):
    timings: dict[str, float] = {}

    def timed(step, cmd, log, **kwargs):
        start = time.monotonic()
        proc = _run(cmd, tmp_path / f"{log}.log", **kwargs)
        timings[step] = round(time.monotonic() - start, 1)
        return proc

    # 1. Build from a copy of the working tree, with a machine's override that must not ship.
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=_IGNORE)
    (src / "conf" / "local" / "shiprisk.yaml").write_text("spark: {master: 'local[1]'}\n", encoding="utf-8")
    dist = tmp_path / "dist"
    built = timed("build", [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-input",
                            "--disable-pip-version-check", "-w", dist, src], "build", timeout=600)
    _pip_must_succeed(built, "build the wheel (setuptools comes from the index)")
    assert "BuildBackendWarning" not in built.stdout, _tail(built.stdout)
    wheels = list(dist.glob("shiprisk-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {dist}: {wheels}"

    names = set(zipfile.ZipFile(wheels[0]).namelist())
    conf_in_wheel = {n.removeprefix(f"{CONF_PACKAGE}/") for n in names if n.startswith(f"{CONF_PACKAGE}/")}
    assert conf_in_wheel == _expected_conf_files()
    assert not [n for n in names if n.startswith("conf/") or "/local/" in n], "conf/local or a bare conf/ shipped"
    modules = {str(p.relative_to(REPO)) for root in CODE_ROOTS for p in (REPO / root).rglob("*.py")
               if "__pycache__" not in p.parts}
    assert not modules - names, f"modules missing from the wheel: {sorted(modules - names)}"

    # 2. A fresh venv, the wheel and its dependencies from the index.
    venv = tmp_path / "venv"
    made = timed("venv", [sys.executable, "-m", "venv", venv], "venv", timeout=300)
    assert made.returncode == 0, _tail(made.stdout)
    # --no-compile: byte-compiling the whole 1.4 GB tree doubles the install time; the commands
    # below compile only what they import.
    installed = timed("install", [venv / "bin" / "python", "-m", "pip", "install", "--no-input", "--no-compile",
                                  "--disable-pip-version-check", wheels[0]],
                      "install", env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
                      timeout=1500)
    _pip_must_succeed(installed, "install the wheel's dependencies")

    # 3. Run from a directory outside the repository, SHIPRISK_CONF_DIR unset.
    outside = tmp_path / "outside"
    outside.mkdir()
    assert REPO not in outside.resolve().parents
    env = _outside_env(venv)
    cli = venv / "bin" / "shiprisk"

    helped = timed("help", [cli, "--help"], "help", env=env, cwd=outside, timeout=120)
    assert helped.returncode == 0 and "usage: shiprisk" in helped.stdout, _tail(helped.stdout)

    where = timed("conf_root", [venv / "bin" / "python", "-c", (
        "import json, sysconfig, pipelines; from pipelines.io.settings import conf_root, load_settings; "
        "s = load_settings(); "
        "print(json.dumps({'conf': str(conf_root()), 'code': pipelines.__file__, "
        "'site': sysconfig.get_paths()['purelib'], 'master': s['spark']['master']}))")],
        "conf_root", env=env, cwd=outside, timeout=120)
    assert where.returncode == 0, _tail(where.stdout)
    found = json.loads(where.stdout.strip().splitlines()[-1])
    site = Path(found["site"]).resolve()
    assert Path(found["conf"]).resolve() == site / CONF_PACKAGE, found
    assert site in Path(found["code"]).resolve().parents, f"the code did not come from the wheel: {found}"
    assert found["master"] == "local[2]", f"not the packaged base settings: {found}"

    data, workspace = outside / "input", outside / "workspace"
    generated = timed("generate", [cli, "generate", "--out", data, "--start", DAY, "--days", 2, "--per-day", PER_DAY,
                                   "--seed", 1], "generate", env=env, cwd=outside, timeout=600)
    assert generated.returncode == 0, _tail(generated.stdout)
    assert list((data / "manifests" / f"date={DAY}").iterdir()), f"generate wrote no manifests for {DAY}"

    validated = timed("validate", [cli, "validate", "--input", data, "--date", DAY, "--workspace", workspace],
                      "validate", env=env, cwd=outside, timeout=900)
    assert validated.returncode == 0, _tail(validated.stdout)
    record = json.loads((workspace / "runs" / f"date={DAY}" / "validation.json").read_text(encoding="utf-8"))
    assert record["status"] == "OK", record
    assert record["consignments_read"] == PER_DAY
    assert (workspace / "runs" / f"date={DAY}" / "validation.html").exists()

    print(f"wheel install test timings (s): {timings}, total {round(sum(timings.values()), 1)}")
    # pytest keeps the last three runs' tmp_path: not 1.4 GB of venv each (kept when a step fails).
    shutil.rmtree(venv, ignore_errors=True)
    shutil.rmtree(src, ignore_errors=True)

"""Every notebook in notebooks/ runs top to bottom on the trained workspace, so none of them rots."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
KERNEL = "shiprisk-test"


@pytest.fixture(scope="module")
def venv_kernel(tmp_path_factory, trained, input_root):
    """A kernel running this interpreter (the project's venv, its kernelspec found through
    JUPYTER_PATH) with the environment the notebooks read their paths from. One kernel, so one
    Spark JVM, for the three notebooks: each starts from an emptied namespace (`%reset -f`), so a
    notebook that leans on another's names or imports still fails."""
    from jupyter_client.manager import KernelManager

    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "shiprisk (test venv)", "language": "python"}), encoding="utf-8")
    env = {"JUPYTER_PATH": str(root), "SHIPRISK_WORKSPACE": trained, "SHIPRISK_INPUT": input_root,
           "SHIPRISK__SPARK__SHUFFLE_PARTITIONS": "2"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        manager = KernelManager(kernel_name=KERNEL)
        manager.start_kernel(cwd=str(NOTEBOOKS[0].parent))
        try:
            yield manager
        finally:
            manager.shutdown_kernel(now=True)


def test_notebooks_are_committed_without_outputs():
    import nbformat

    assert [p.name for p in NOTEBOOKS] == ["01_explore_workspace.ipynb", "02_model_evaluation.ipynb",
                                           "03_route_displacement.ipynb"]
    for path in NOTEBOOKS:
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        assert all(c.outputs == [] and c.execution_count is None for c in code), f"{path.name} holds outputs"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, venv_kernel):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("%reset -f"))
    client = NotebookClient(notebook, timeout=300, km=venv_kernel)
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for o in outputs), \
        f"{path.name} drew no plot"

"""A real Spark standalone cluster (one master, two workers) and an MLflow tracking server on
this machine, loopback only, with bounded memory: for the cluster integration test and for
trying `spark-submit` by hand.

    python -m pipelines.devtools.local_cluster start --dir /tmp/shiprisk-cluster
    python -m pipelines.devtools.local_cluster stop  --dir /tmp/shiprisk-cluster
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _spark_class() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-class")


def _wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f}s")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _spawn(cmd: list[str], log: Path, env: dict) -> int:
    with log.open("ab") as fh:
        # A new session, so stop() can end the daemon and every child it started.
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return proc.pid


def start(folder: str, worker_memory: str = "3g", worker_cores: int = 1) -> dict:
    """Starts master, two workers and an MLflow server; returns their addresses and pids."""
    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SPARK_LOCAL_IP": HOST, "SPARK_MASTER_HOST": HOST, "PYSPARK_PYTHON": sys.executable,
           "SPARK_NO_DAEMONIZE": "1"}
    master_port, mlflow_port = _free_port(), _free_port()
    master = f"spark://{HOST}:{master_port}"
    state = {"master": master, "tracking_uri": f"http://{HOST}:{mlflow_port}", "pids": [], "dir": str(root)}
    try:
        state["pids"].append(_spawn([_spark_class(), "org.apache.spark.deploy.master.Master", "--host", HOST,
                                     "--port", str(master_port), "--webui-port", str(_free_port())],
                                    root / "master.log", env))
        _wait_for(lambda: _port_open(master_port), "Spark master")
        for i in range(2):
            work = root / f"worker{i}"
            work.mkdir(exist_ok=True)
            state["pids"].append(_spawn([_spark_class(), "org.apache.spark.deploy.worker.Worker", master,
                                         "--host", HOST, "--cores", str(worker_cores), "--memory", worker_memory,
                                         "--work-dir", str(work), "--webui-port", str(_free_port())],
                                        root / f"worker{i}.log", env))
        _wait_for(lambda: (root / "worker0.log").read_text(errors="ignore").count("Successfully registered") > 0
                  and (root / "worker1.log").read_text(errors="ignore").count("Successfully registered") > 0,
                  "two Spark workers")
        mlflow_bin = str(Path(sys.executable).parent / "mlflow")
        state["pids"].append(_spawn([mlflow_bin, "server", "--host", HOST, "--port", str(mlflow_port),
                                     "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
                                     "--artifacts-destination", str(root / "mlartifacts"), "--workers", "1"],
                                    root / "mlflow.log", {**env, "MLFLOW_DISABLE_TELEMETRY": "true"}))
        _wait_for(lambda: _http_ok(f"{state['tracking_uri']}/health"), "MLflow server", timeout=90)
    except BaseException:
        stop_pids(state["pids"])
        raise
    (root / "cluster.json").write_text(json.dumps(state, indent=2))
    return state


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child (stopped from another process): nothing to reap


def stop_pids(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + 15
    for pid in pids:
        while time.time() < deadline:
            _reap(pid)
            try:
                os.killpg(pid, 0)
                time.sleep(0.2)
            except ProcessLookupError:
                break
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            time.sleep(0.5)
            _reap(pid)


def stop(folder: str) -> None:
    state_file = Path(folder) / "cluster.json"
    if state_file.exists():
        stop_pids(json.loads(state_file.read_text())["pids"])
        state_file.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", required=True, help="folder for logs, work dirs and the MLflow store")
    args = parser.parse_args(argv)
    if args.action == "start":
        state = start(args.dir)
        print(f"Spark master {state['master']}\nMLflow server {state['tracking_uri']}\n"
              f"run jobs with SHIPRISK__SPARK__MASTER={state['master']} MLFLOW_TRACKING_URI={state['tracking_uri']}\n"
              f"stop with: python -m pipelines.devtools.local_cluster stop --dir {args.dir}")
    else:
        stop(args.dir)
        print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

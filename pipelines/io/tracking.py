"""The one MLflow wrapper: tracking store, runs, model logging, registry and aliases."""
from __future__ import annotations

import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

from pipelines.errors import NoModelError, StoreError, UserError
from pipelines.io.workspace import Workspace

CHAMPION = "champion"
CHALLENGER = "challenger"
_HISTORY_TAG = "champion_history"  # registered-model tag: JSON list of earlier champions, newest last


def _mlflow():
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # Progress bars of artifact downloads would clutter job logs, reports and notebooks.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    return mlflow


def tracking_uri(cfg: dict, workspace: Workspace) -> str:
    """MLFLOW_TRACKING_URI, else conf mlflow.tracking_uri, else a SQLite store inside the workspace."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or cfg["mlflow"]["tracking_uri"]
    if uri:
        return uri
    if not workspace.is_local:
        raise UserError(f"the workspace {workspace.root} is not a local folder, so it cannot hold the default SQLite "
                        "MLflow store: set MLFLOW_TRACKING_URI (or mlflow.tracking_uri) to a tracking server or database")
    workspace.mlflow_db.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{workspace.mlflow_db}"


def configure(cfg: dict, workspace: Workspace) -> str:
    mlflow = _mlflow()
    uri = tracking_uri(cfg, workspace)
    operator_set = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # MLflow also exports the URI as MLFLOW_TRACKING_URI; left there, the next workspace
    # configured in this process would take it for the operator's choice and use another
    # workspace's store. Only the operator's own setting stays in the environment.
    if operator_set is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = operator_set
    return uri


def _experiment_id(name: str, workspace: Workspace) -> str:
    mlflow = _mlflow()
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    artifact_location = None
    if mlflow.get_tracking_uri().startswith("sqlite:"):
        # Without this, a SQLite store puts artifacts in ./mlruns of whatever folder we run from.
        artifact_location = workspace.mlflow_artifacts.as_uri()
    return mlflow.create_experiment(name, artifact_location=artifact_location)


@contextmanager
def run(experiment: str, workspace: Workspace, run_name: str, tags: dict | None = None):
    mlflow = _mlflow()
    with store_errors(f"opening experiment {experiment!r}"):
        experiment_id = _experiment_id(experiment, workspace)
    all_tags = {"git_commit": git_commit(), **(tags or {})}
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=all_tags) as active:
        yield active


def log_params(params: dict) -> None:
    _mlflow().log_params({k: str(v)[:500] for k, v in params.items()})


def log_metrics(metrics: dict, step: int | None = None) -> None:
    clean = {k.replace("@", "_at_"): float(v) for k, v in metrics.items() if v is not None}
    _mlflow().log_metrics(clean, step=step)


def log_dict(data: dict, artifact_file: str) -> None:
    _mlflow().log_dict(data, artifact_file)


def log_artifact(path: str, artifact_path: str | None = None) -> None:
    _mlflow().log_artifact(path, artifact_path)


def log_and_register_model(model, input_example, registered_name: str) -> str:
    """Logs the whole Pipeline (sklearn + pyfunc flavours) and registers it; returns the version."""
    mlflow = _mlflow()
    from mlflow.models import infer_signature

    signature = infer_signature(input_example, model.predict_proba(input_example)[:, 1])
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        # skops refuses HistGradientBoosting's types; the artifact stays inside our own store.
        serialization_format="cloudpickle",
        signature=signature,
        input_example=input_example,
        registered_model_name=registered_name,
        pyfunc_predict_fn="predict_proba",
    )
    return str(info.registered_model_version)


def client():
    return _mlflow().MlflowClient()


_MISSING = ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")


def _is_missing(exc: Exception) -> bool:
    """MLflow's own 'no such model, version, alias or artifact': anything else is a store failure.
    (A missing alias comes back as INVALID_PARAMETER_VALUE '... not found' from the SQL store.)"""
    code = getattr(exc, "error_code", None)
    return code in _MISSING or (code == "INVALID_PARAMETER_VALUE" and "not found" in str(exc).lower())


@contextmanager
def store_errors(action: str):
    """Turn a failing store (unreachable, refusing, broken) into StoreError that says so."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        if _is_missing(exc):
            raise
        raise StoreError(f"the MLflow store failed while {action}: {str(exc).splitlines()[0][:300]}; "
                         f"check MLFLOW_TRACKING_URI / mlflow.tracking_uri ({_mlflow().get_tracking_uri()}) "
                         "and that the store is up") from exc
    except (OSError, ConnectionError) as exc:
        raise StoreError(f"the MLflow store could not be reached while {action}: {exc}; "
                         f"check {_mlflow().get_tracking_uri()} is up and reachable") from exc


def alias_version(name: str, alias: str) -> str | None:
    """The version behind an alias, None if the model or alias does not exist (a store failure raises)."""
    from mlflow.exceptions import MlflowException

    try:
        with store_errors(f"reading alias {alias!r} of model {name}"):
            return str(client().get_model_version_by_alias(name, alias).version)
    except MlflowException:  # only the 'does not exist' kind gets here
        return None


def resolve_version(name: str, ref: str) -> str:
    """A version number or an alias -> the version number, with a clear error if unknown."""
    from mlflow.exceptions import MlflowException

    if ref.isdigit():
        try:
            with store_errors(f"reading version {ref} of model {name}"):
                client().get_model_version(name, ref)
        except MlflowException:
            raise NoModelError(f"model {name} has no version {ref}; list them with `shiprisk models`") from None
        return ref
    version = alias_version(name, ref)
    if version is None:
        raise NoModelError(
            f"model {name} has no version with alias {ref!r}; train one first with `shiprisk train`, "
            "or list versions with `shiprisk models`"
        )
    return version


def load_model(name: str, ref: str):
    """The fitted Pipeline of a version or alias (e.g. 'champion'), and its version number."""
    version = resolve_version(name, ref)
    with store_errors(f"loading version {version} of model {name}"):
        return _mlflow().sklearn.load_model(f"models:/{name}/{version}"), version


def set_alias(name: str, alias: str, version: str) -> None:
    client().set_registered_model_alias(name, alias, version)


def delete_alias(name: str, alias: str) -> None:
    client().delete_registered_model_alias(name, alias)


def champion_history(name: str) -> list[str]:
    model = client().get_registered_model(name)
    return json.loads(model.tags.get(_HISTORY_TAG, "[]"))


def set_champion(name: str, version: str) -> str | None:
    """Moves the champion alias, remembering the one it replaces for rollback."""
    previous = alias_version(name, CHAMPION)
    if previous is not None and previous != version:
        history = champion_history(name) + [previous]
        client().set_registered_model_tag(name, _HISTORY_TAG, json.dumps(history[-20:]))
    set_alias(name, CHAMPION, version)
    return previous


def rollback_champion(name: str) -> tuple[str, str]:
    """Points champion back at the previous champion; returns (from_version, to_version)."""
    history = champion_history(name)
    current = alias_version(name, CHAMPION)
    if current is None:
        raise NoModelError(f"model {name} has no champion to roll back; train one with `shiprisk train`")
    if not history:
        raise NoModelError(f"model {name} has no earlier champion than version {current}; nothing to roll back to")
    previous = history.pop()
    client().set_registered_model_tag(name, _HISTORY_TAG, json.dumps(history))
    set_alias(name, CHAMPION, previous)
    return current, previous


def list_versions(name: str) -> list[dict]:
    from mlflow.exceptions import MlflowException

    try:
        with store_errors(f"listing the versions of model {name}"):
            versions = client().search_model_versions(f"name='{name}'")
    except MlflowException:  # no such model yet
        return []
    # Version search results do not carry aliases in MLflow 3: the registered model does.
    with store_errors(f"reading the aliases of model {name}"):
        by_version: dict[str, list[str]] = {}
        for alias, version in (client().get_registered_model(name).aliases or {}).items():
            by_version.setdefault(str(version), []).append(alias)
    rows = []
    for mv in sorted(versions, key=lambda v: int(v.version)):
        run = client().get_run(mv.run_id) if mv.run_id else None
        rows.append(
            {
                "version": mv.version,
                "aliases": sorted(by_version.get(str(mv.version), [])),
                "run_id": mv.run_id,
                "created": mv.creation_timestamp,
                "metrics": dict(run.data.metrics) if run else {},
                "params": dict(run.data.params) if run else {},
            }
        )
    return rows


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parents[2],
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_dict(run_id: str, artifact_file: str) -> dict:
    with store_errors(f"reading {artifact_file} of run {run_id}"):
        return _mlflow().artifacts.load_dict(f"runs:/{run_id}/{artifact_file}")


def load_dict_if_logged(run_id: str, artifact_file: str) -> dict | None:
    """A JSON artifact of a run, or None if the run never logged it (a store failure raises)."""
    folder, _, _ = artifact_file.rpartition("/")
    with store_errors(f"listing the artifacts of run {run_id}"):
        logged = {a.path for a in client().list_artifacts(run_id, folder or None)}
    if artifact_file not in logged:
        return None
    return load_dict(run_id, artifact_file)

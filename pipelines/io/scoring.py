"""Applying the model in Spark: the one place pandas meets the data, through Arrow batches."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from features.registry import model_inputs
from models.factory import StaleModelError, fitted_inputs
from pipelines.errors import NoModelError

CONTRIBUTIONS_TYPE = T.ArrayType(
    T.StructType(
        [
            T.StructField("feature", T.StringType()),
            T.StructField("value", T.StringType()),
            T.StructField("contribution", T.DoubleType()),
        ]
    )
)


def stored_model_inputs(model, version: str) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns a stored model version reads: those it was fitted on, so a
    model trained before a feature was added keeps scoring until a retrained one is promoted."""
    try:
        return fitted_inputs(model, *model_inputs())
    except StaleModelError as exc:
        raise NoModelError(f"model version {version} cannot score with this code: {exc}. Train a model on this "
                           "code (`shiprisk train`) and promote it, or roll back the code") from exc


def score_consignments(features: DataFrame, model, numeric: list[str], categorical: list[str]) -> DataFrame:
    """Every input row with a `score` column: P(counterfeit) from the fitted Pipeline.

    mapInPandas with Arrow: each executor unpickles the broadcast model once per Python
    worker and scores whole record batches, so nothing is collected to the driver.
    """
    broadcast = features.sparkSession.sparkContext.broadcast(model)
    schema = T.StructType(features.schema.fields + [T.StructField("score", T.DoubleType(), False)])

    def predict(batches):
        from models.factory import to_model_frame

        fitted = broadcast.value
        for pdf in batches:
            if len(pdf) == 0:
                continue
            pdf["score"] = fitted.predict_proba(to_model_frame(pdf, numeric, categorical))[:, 1]
            yield pdf

    return features.mapInPandas(predict, schema=schema)


def explain_consignments(rows: DataFrame, model, numeric: list[str], categorical: list[str], k: int = 3) -> DataFrame:
    """consignment_id + `top_contributions` (SHAP, see models.explain) for the given rows.

    Meant for the listed consignments only: SHAP costs far more than scoring.
    """
    broadcast = rows.sparkSession.sparkContext.broadcast(model)
    schema = T.StructType(
        [T.StructField("consignment_id", T.StringType()), T.StructField("top_contributions", CONTRIBUTIONS_TYPE)]
    )
    inputs = rows.select("consignment_id", *[F.col(c) for c in categorical + numeric])

    def explain(batches):
        import pandas as pd

        from models.explain import make_explainer, top_contributions
        from models.factory import to_model_frame

        fitted = broadcast.value
        explainer = make_explainer(fitted)
        for pdf in batches:
            if len(pdf) == 0:
                continue
            tops = top_contributions(fitted, to_model_frame(pdf, numeric, categorical), k=k, explainer=explainer)
            yield pd.DataFrame({"consignment_id": pdf["consignment_id"].values, "top_contributions": tops})

    return inputs.mapInPandas(explain, schema=schema)

"""Writing datasets in the contract's layout: CSV (RFC 4180) or Parquet (typed), per date= partition.

A frame to write carries a hidden `_day` column (its partition day offset) for
partitioned datasets. Corruptions (pipelines.devtools.synthetic.dirty) are applied here,
because some exist only as CSV text.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.devtools.synthetic.frames import day_dates
from pipelines.validation.contract import DATASETS

DAY = "_day"
PART_NAME = "part-0"
_ARROW = {"string": pa.string(), "integer": pa.int64(), "decimal": pa.float64(), "double": pa.float64(),
          "date": pa.date32(), "boolean": pa.bool_()}


def utc_offset_hours(offset: str) -> int:
    """'+08:00' -> 8."""
    sign = -1 if offset.startswith("-") else 1
    return sign * int(offset[1:3])


def _text_column(values: pd.Series, kind: str, offset: str) -> np.ndarray:
    if kind == "date":
        arr = values.to_numpy().astype("datetime64[D]")
        return np.where(np.isnat(arr), "", np.datetime_as_string(arr, unit="D"))
    if kind == "timestamp":
        arr = values.to_numpy().astype("datetime64[s]")
        return np.char.add(np.datetime_as_string(arr, unit="s"), offset)
    if kind == "integer":
        ints = pd.array(values.to_numpy(), dtype="Int64")
        return np.where(pd.isna(ints), "", ints.astype(str))
    if kind == "boolean":
        return np.where(values.to_numpy(dtype=bool), "true", "false")
    return values.to_numpy()


def to_csv_text(frame: pd.DataFrame, name: str, offset: str, overrides: pd.DataFrame, terminator: str) -> str:
    """RFC 4180 text of a frame; overrides put raw text (even unparseable values) into cells."""
    dataset = DATASETS[name]
    text = pd.DataFrame({c.name: _text_column(frame[c.name], c.type, offset) for c in dataset.columns}, index=frame.index)
    markers = {}
    for row in overrides.itertuples(index=False):
        if row.row not in text.index:
            continue
        if text[row.column].dtype != object:
            text[row.column] = text[row.column].astype(object)
        if row.marker:
            markers[row.marker] = row.text
            text.at[row.row, row.column] = row.marker
        else:
            text.at[row.row, row.column] = row.text
    csv = text.to_csv(index=False, lineterminator=terminator)
    # Broken quoting cannot be produced by a CSV writer: the marker stands for it.
    for marker, raw in markers.items():
        csv = csv.replace(marker, raw)
    return csv


def to_arrow(frame: pd.DataFrame, name: str, offset: str, overrides: pd.DataFrame) -> pa.Table:
    """A typed Arrow table; timestamps as UTC instants."""
    frame = frame.copy()
    for row in overrides.itertuples(index=False):
        if row.row in frame.index:
            if frame[row.column].dtype.kind in "iu" and row.typed is None:
                frame[row.column] = frame[row.column].astype("Int64")
            frame.at[row.row, row.column] = row.typed
    arrays, fields = [], []
    for col in DATASETS[name].columns:
        values = frame[col.name]
        if col.type == "timestamp":
            local = values.to_numpy().astype("datetime64[s]")
            utc = local - np.timedelta64(utc_offset_hours(offset), "h")
            arr = pa.array(utc.astype("datetime64[us]"), type=pa.timestamp("us", tz="UTC"))
        elif col.type == "date":
            arr = pa.array(values.to_numpy().astype("datetime64[D]"), type=pa.date32())
        elif col.type == "integer":
            arr = pa.array(pd.array(values.to_numpy(), dtype="Int64"), type=pa.int64())
        elif col.type == "string":
            # An empty optional field is null in Parquet, as an empty CSV field reads as null.
            arr = pa.array(values.astype(object).where(values.notna() & (values != ""), None).to_numpy(), type=pa.string())
        else:
            arr = pa.array(values.astype(object).where(values.notna(), None).to_numpy(), type=_ARROW[col.type])
        arrays.append(arr)
        fields.append(pa.field(col.name, arr.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_file(frame: pd.DataFrame, name: str, folder: Path, fmt: str, cfg: dict, overrides: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    offset = cfg["lodging"]["utc_offset"]
    path = folder / f"{PART_NAME}.{fmt}"
    if fmt == "csv":
        path.write_bytes(to_csv_text(frame, name, offset, overrides, cfg["output"]["csv_line_terminator"]).encode("utf-8"))
    else:
        pq.write_table(to_arrow(frame, name, offset, overrides), path)
    return path


def write_dataset(frame: pd.DataFrame, name: str, out: Path, start: dt.date, formats: dict[int, str], cfg: dict,
                  overrides: pd.DataFrame) -> list[Path]:
    """A partitioned dataset (one file per date= folder) or a snapshot (formats[-1])."""
    if not DATASETS[name].partitioned:
        return [write_file(frame, name, out / name, formats[-1], cfg, overrides)]
    paths = []
    days = frame[DAY].to_numpy()
    for day in np.unique(days):
        part = frame[days == day]
        date = str(day_dates(start, np.array([day]))[0])
        paths.append(write_file(part, name, out / name / f"date={date}", formats[int(day)], cfg, overrides))
    return paths


def choose_formats(fmt: str, n_days: int, cfg: dict, rng: np.random.Generator) -> dict[int, str]:
    """File format per partition day (and -1 for snapshots); mixed puts both kinds in one root."""
    if fmt != "mixed":
        return {d: fmt for d in range(-1, n_days)}
    parquet = rng.random(n_days) < cfg["output"]["mixed_parquet_share"]
    if n_days >= 2:
        parquet[0], parquet[1] = False, True  # both formats, whatever the draw
    chosen = {d: ("parquet" if p else "csv") for d, p in enumerate(parquet)}
    chosen[-1] = "csv"
    return chosen

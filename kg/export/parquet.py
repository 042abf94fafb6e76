"""Parquet writers and readers for kgpipe records outside Beam.

Tables follow ``schemas.arrow`` exactly (one row per record plus ``run_id``)
and live under ``DIR/parquet/<table>/``. This writer puts each run in its own
folder, ``run=<run id>/part-00000.parquet``: the Hive-style key is ``run``, not
``run_id``, because Spark refuses a partition column that repeats a column of
the files. Readers take every ``*.parquet`` below the table folder, so they
read this layout and the Beam pipeline's flat ``run-<run id>-*.parquet`` alike.

Files are zstd-compressed with row groups of ``row_group_rows`` rows (128 Ki
by default: large enough for fast scans in DuckDB and Spark, small enough to
stream), written as records arrive, never holding a whole table in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from kgpipe.kg.commit import belongs_to
from kgpipe.kg.manifest import completed_runs
from kgpipe.schemas import arrow
from kgpipe.schemas.records import Triple

DEFAULT_ROW_GROUP_ROWS = 128 * 1024
DEFAULT_FILE_ROWS = 16 * 1024 * 1024


def table_dir(output_dir: str | os.PathLike[str], record_type: type) -> Path:
    """Returns ``DIR/parquet/<table>`` for a record type."""
    try:
        return Path(output_dir) / "parquet" / arrow.TABLES[record_type]
    except KeyError:
        raise TypeError(f"No Parquet table for {record_type!r}. Known: {sorted(t.__name__ for t in arrow.TABLES)}") from None


def records_to_table(records: list[Any], run_id: str, record_type: type | None = None) -> pa.Table:
    """Returns records of one type as an Arrow table (``schemas.arrow.to_table``, the one converter)."""
    return arrow.to_table(records, run_id, record_type)


class ParquetRecordWriter:
    """Streams records of one type into ``DIR/parquet/<table>/run=<run id>/part-NNNNN.parquet``.

    Use as a context manager; ``write`` takes any iterable of records::

        with ParquetRecordWriter(out, Triple, run_id) as writer:
            writer.write(triples)
    """

    def __init__(self, output_dir: str | os.PathLike[str], record_type: type, run_id: str, *,
                 row_group_rows: int = DEFAULT_ROW_GROUP_ROWS, file_rows: int = DEFAULT_FILE_ROWS,
                 compression_level: int = 3) -> None:
        if row_group_rows < 1 or file_rows < row_group_rows:
            raise ValueError(
                "`row_group_rows` must be positive and at most `file_rows`. "
                f"Received: row_group_rows={row_group_rows}, file_rows={file_rows}"
            )
        if not run_id or "/" in run_id:
            raise ValueError(f"`run_id` must be a non-empty name without '/'. Received: run_id={run_id!r}")
        self.record_type = record_type
        self.run_id = run_id
        self.schema = arrow.schema_for(record_type)
        self.folder = table_dir(output_dir, record_type) / f"run={run_id}"
        self.row_group_rows = row_group_rows
        self.file_rows = file_rows
        self.compression_level = compression_level
        self.paths: list[Path] = []
        self.count = 0
        self._writer: pq.ParquetWriter | None = None
        self._in_file = 0
        self._pending: list[Any] = []

    def __enter__(self) -> "ParquetRecordWriter":
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def write(self, records: Iterable[Any]) -> None:
        """Buffers records and writes every full row group."""
        for record in records:
            self._pending.append(record)
            if len(self._pending) >= self.row_group_rows:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        table = records_to_table(self._pending, self.run_id, self.record_type)
        self._pending = []
        if self._writer is None or self._in_file >= self.file_rows:
            self._close_file()
            path = self.folder / f"part-{len(self.paths):05d}.parquet"
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(path, self.schema, compression="zstd",
                                            compression_level=self.compression_level)
            self.paths.append(path)
        self._writer.write_table(table, row_group_size=self.row_group_rows)
        self._in_file += table.num_rows
        self.count += table.num_rows

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._in_file = 0

    def close(self) -> list[Path]:
        """Writes what is buffered and closes the file; returns the paths written."""
        self._flush()
        self._close_file()
        return self.paths


def write_records(output_dir: str | os.PathLike[str], records: Iterable[Any], record_type: type, run_id: str,
                  **kwargs: Any) -> list[Path]:
    """Writes records of one type for one run; returns the files written."""
    with ParquetRecordWriter(output_dir, record_type, run_id, **kwargs) as writer:
        writer.write(records)
    return writer.paths


def _committed(path: Path, folder: Path, runs: list[str]) -> bool:
    """A file of a complete run (when ``DIR`` has manifests), not hidden and not a writer's temporary file."""
    parts = path.relative_to(folder).parts
    if any(part.startswith((".", "_", "beam-temp")) for part in parts):
        return False
    return not runs or any(belongs_to(path, run_id) for run_id in runs)


def dataset(output_dir: str | os.PathLike[str], record_type: type) -> ds.Dataset | None:
    """Returns an Arrow dataset over all complete runs of one table, or ``None`` if it has no files.

    Files of no complete run (left by a killed run of an older kgpipe: a run
    now writes into ``DIR/_staging`` until it is committed) are not read.
    """
    folder = table_dir(output_dir, record_type)
    runs = completed_runs(output_dir)
    files = sorted(str(p) for p in folder.rglob("*.parquet") if _committed(p, folder, runs)) if folder.is_dir() else []
    if not files:
        return None
    return ds.dataset(files, format="parquet", schema=arrow.schema_for(record_type))


def read_table(output_dir: str | os.PathLike[str], record_type: type, run_id: str | None = None,
               columns: list[str] | None = None) -> pa.Table:
    """Reads one table (all runs, or one run) into memory; empty table if none."""
    data = dataset(output_dir, record_type)
    schema = arrow.schema_for(record_type)
    if data is None:
        return schema.empty_table() if columns is None else schema.empty_table().select(columns)
    where = ds.field("run_id") == run_id if run_id else None
    return data.to_table(columns=columns, filter=where)


def iter_records(output_dir: str | os.PathLike[str], record_type: type = Triple, run_id: str | None = None,
                 batch_rows: int = 65536) -> Iterator[Any]:
    """Yields records from Parquet batch by batch (constant memory)."""
    data = dataset(output_dir, record_type)
    if data is None:
        return
    where = ds.field("run_id") == run_id if run_id else None
    for batch in data.to_batches(filter=where, batch_size=batch_rows):
        for row in batch.to_pylist():
            yield arrow.from_row(record_type, row)

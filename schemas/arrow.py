"""Arrow schemas: the single source of truth for every Parquet table kgpipe writes.

Each table holds one record type from ``schemas.records`` plus a ``run_id``
column, so tables from several runs can share a dataset partitioned by run.
``to_row`` and ``from_row`` convert between records and the dicts that
pyarrow (and Beam's ``WriteToParquet``) take.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from kgpipe.schemas import records

_CANDIDATE = pa.struct([("entity_id", pa.string()), ("score", pa.float64())])

DOCUMENT = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("language", pa.string(), nullable=False),
        pa.field("metadata", pa.map_(pa.string(), pa.string()), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ],
    metadata={"kgpipe.record": "Document"},
)

MENTION = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("start", pa.int32(), nullable=False),
        pa.field("end", pa.int32(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ],
    metadata={"kgpipe.record": "Mention"},
)

LINK = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("start", pa.int32(), nullable=False),
        pa.field("end", pa.int32(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("entity_id", pa.string(), nullable=True),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("alternatives", pa.list_(_CANDIDATE), nullable=False),
        pa.field("nil_key", pa.string(), nullable=True),
        pa.field("entity_name", pa.string(), nullable=True),
        pa.field("entity_types", pa.list_(pa.string()), nullable=False),
        pa.field("kb_version", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ],
    metadata={"kgpipe.record": "Link"},
)

TRIPLE = pa.schema(
    [
        pa.field("subject", pa.string(), nullable=False),
        pa.field("predicate", pa.string(), nullable=False),
        pa.field("object", pa.string(), nullable=False),
        pa.field("object_kind", pa.string(), nullable=False),
        pa.field("datatype", pa.string(), nullable=True),
        pa.field("language", pa.string(), nullable=True),
        pa.field("doc_id", pa.string(), nullable=True),
        pa.field("start", pa.int32(), nullable=True),
        pa.field("end", pa.int32(), nullable=True),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("extractor", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ],
    metadata={"kgpipe.record": "Triple"},
)

DEAD_LETTER = pa.schema(
    [
        pa.field("input_ref", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=False),
        pa.field("payload", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ],
    metadata={"kgpipe.record": "DeadLetter"},
)

SCHEMAS: dict[type, pa.Schema] = {
    records.Document: DOCUMENT,
    records.Mention: MENTION,
    records.Link: LINK,
    records.Triple: TRIPLE,
    records.DeadLetter: DEAD_LETTER,
}

# Table name (the Parquet folder under DIR/parquet/) for each record type.
TABLES: dict[type, str] = {
    records.Document: "documents",
    records.Mention: "mentions",
    records.Link: "links",
    records.Triple: "triples",
}


def schema_for(record_type: type) -> pa.Schema:
    """Returns the Arrow schema of a record type."""
    try:
        return SCHEMAS[record_type]
    except KeyError:
        raise TypeError(
            f"No Arrow schema for {record_type!r}. Known: {sorted(t.__name__ for t in SCHEMAS)}"
        ) from None


def to_row(record: Any, run_id: str) -> dict[str, Any]:
    """Returns the Parquet row (a dict matching ``schema_for(type(record))``) of a record."""
    row: dict[str, Any] = {}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, records.TermKind):
            value = value.value
        elif isinstance(value, Mapping):
            value = list(value.items())  # Arrow maps take (key, value) pairs.
        elif isinstance(value, tuple):
            value = [dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for v in value]
        row[field.name] = value
    row["run_id"] = run_id
    return row


def from_row(record_type: type, row: Mapping[str, Any]) -> Any:
    """Rebuilds a record from a Parquet row (as given by ``Table.to_pylist()``)."""
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(record_type):
        value = row[field.name]
        if field.name == "metadata" and isinstance(value, list):
            value = dict(value)
        elif field.name == "alternatives":
            value = tuple(records.Candidate(**c) for c in value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[field.name] = value
    return record_type(**kwargs)


def _column(values: list[Any]) -> list[Any]:
    """Converts one field's values to what pyarrow takes (enums, mappings, tuples)."""
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, enum.Enum):
        return [None if v is None else v.value for v in values]
    if isinstance(sample, Mapping):
        return [list(v.items()) for v in values]
    if isinstance(sample, tuple) or (sample is None and values and isinstance(values[0], tuple)):
        return [[dataclasses.asdict(x) if dataclasses.is_dataclass(x) else x for x in v] for v in values]
    return values


def to_table(items: Sequence[Any], run_id: str) -> pa.Table:
    """Returns records of one type as an Arrow table with that type's schema.

    Builds the table column by column (several times faster than ``to_row`` per
    record), for writers that handle many records at once.
    """
    if not items:
        raise ValueError("to_table needs at least one record to know its type.")
    record_type = type(items[0])
    schema = schema_for(record_type)
    columns = {f.name: _column([getattr(item, f.name) for item in items]) for f in dataclasses.fields(record_type)}
    columns["run_id"] = [run_id] * len(items)
    return pa.Table.from_pydict(columns, schema=schema)

"""Arrow schemas: the single source of truth for every Parquet table kgpipe writes.

Each table holds one record type from ``schemas.records`` plus a ``run_id``
column, so tables from several runs can share a dataset partitioned by run.
``to_table`` (and ``to_row``, the same rule per record) turn records into
Arrow, ``from_row`` turns rows back into records: the one converter kgpipe has.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
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
    """Returns the Parquet row (a dict matching ``schema_for(type(record))``) of a record.

    The same conversion as ``to_table`` (one rule for both), one record at a time.
    """
    row = {f.name: _column([getattr(record, f.name)])[0] for f in dataclasses.fields(record)}
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
    """Converts one field's values to what pyarrow takes: the only record -> Arrow rule.

    Enums become their values, mappings ``(key, value)`` pairs (Arrow maps), tuples
    and lists of dataclasses lists of dicts (Arrow structs); ``None`` stays null.
    """
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, enum.Enum):
        return [None if v is None else v.value for v in values]
    if isinstance(sample, Mapping):
        return [None if v is None else list(v.items()) for v in values]
    if isinstance(sample, (tuple, list)):
        return [None if v is None else [dataclasses.asdict(x) if dataclasses.is_dataclass(x) else x for x in v]
                for v in values]
    return values


def to_table(items: Sequence[Any], run_id: str, record_type: type | None = None) -> pa.Table:
    """Returns records of one type as an Arrow table with that type's schema.

    Builds the table column by column (several times faster than ``to_row`` per
    record); every writer of kgpipe records (Beam or not) goes through here.

    Args:
        items: Records, all of one type.
        run_id: Value of the ``run_id`` column.
        record_type: The records' type; needed only for an empty ``items``.

    Raises:
        ValueError: ``items`` is empty and ``record_type`` not given.
        TypeError: a record of another type is among ``items``.
    """
    if not items and record_type is None:
        raise ValueError("to_table needs at least one record or `record_type` to know the schema.")
    record_type = record_type or type(items[0])
    schema_for(record_type)  # Raises for a type that has no table.
    strays = {type(item).__name__ for item in items if type(item) is not record_type}
    if strays:
        raise TypeError(f"to_table takes records of one type ({record_type.__name__}). Received also: {sorted(strays)}")
    columns = {f.name: list(map(operator.attrgetter(f.name), items)) for f in dataclasses.fields(record_type)}
    return columns_to_table(record_type, columns, run_id)


def columns_to_table(record_type: type, columns: Mapping[str, Sequence[Any]], run_id: str) -> pa.Table:
    """Returns records given column by column (one sequence per field) as an Arrow table.

    The same table as ``to_table`` on the records those columns hold, for producers that never
    make the record objects (a run's co-occurrence statements).

    Raises:
        ValueError: ``columns`` does not name exactly ``record_type``'s fields (a ``run_id``
            column is allowed and replaced), or its columns differ in length.
    """
    names = [f.name for f in dataclasses.fields(record_type) if f.name != "run_id"]
    given = set(columns) - {"run_id"}
    if given != set(names):
        raise ValueError(f"Columns must be the fields of {record_type.__name__}. Missing: "
                         f"{sorted(set(names) - given)}, unknown: {sorted(given - set(names))}")
    lengths = {len(columns[name]) for name in names}
    if len(lengths) > 1:
        raise ValueError(f"Columns must have equal lengths. Received lengths: {sorted(lengths)}")
    table = {name: _column(c if isinstance(c := columns[name], list) else list(c)) for name in names}
    table["run_id"] = [run_id] * (lengths.pop() if lengths else 0)
    return pa.Table.from_pydict(table, schema=schema_for(record_type))

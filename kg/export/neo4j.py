"""``kgpipe export --format neo4j``: CSV files for ``neo4j-admin database import full``.

Written from the Parquet tables through the property-graph model of
``kg.stores.tables`` (entities, documents, mentions, typed relationships), not
through RDF. Every file starts with a typed header: node files with ``:ID``
(the node's IRI, one ID space), properties such as ``name:string``,
``start_offset:int``, ``minted:boolean``, ``labels:string[]`` and ``:LABEL``;
relationship files with ``:START_ID``, ``:END_ID``, ``:TYPE`` and properties such
as ``count:long``. Arrays (and several labels) are separated by U+001F, which
no label or alias holds, hence ``--array-delimiter=U+001F``; document texts may
span lines, hence ``--multiline-fields=true``. The exact command is written
next to the files as ``neo4j-admin-import.sh``.
"""

from __future__ import annotations

import csv
import os
import shlex
from pathlib import Path
from typing import Any

import pyarrow as pa

from kgpipe.kg.stores.tables import GraphTables, build_tables

ARRAY_DELIMITER = "\x1f"
# Arrow type -> neo4j-admin header type.
_TYPES = {pa.string(): "string", pa.int32(): "int", pa.int64(): "long", pa.float64(): "double", pa.bool_(): "boolean",
          pa.list_(pa.string()): "string[]"}
NODE_FILES = {"Entity": "nodes-entity.csv", "Document": "nodes-document.csv", "Mention": "nodes-mention.csv"}


def header(schema: pa.Schema, *, relationship: bool) -> list[str]:
    """The typed header of a table: ``:ID`` / ``:START_ID``, ``:END_ID`` first, then ``name:type`` properties."""
    names = [":START_ID", ":END_ID"] if relationship else [":ID"]
    skip = 2 if relationship else 1
    for field in list(schema)[skip:]:
        names.append(f"{field.name}:{_TYPES[field.type]}")
    return names + ([":TYPE"] if relationship else [":LABEL"])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ARRAY_DELIMITER.join(str(v).replace(ARRAY_DELIMITER, " ") for v in value)
    return str(value)


def _write(path: Path, table: pa.Table, relationship: bool, tag: str, labels_of=None) -> int:
    columns = table.column_names
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(header(table.schema, relationship=relationship))
        for batch in table.to_batches(max_chunksize=65536):
            for row in batch.to_pylist():
                label = labels_of(row) if labels_of else tag
                writer.writerow([_cell(row[c]) for c in columns] + [label])
    return table.num_rows


def _entity_labels(row: dict[str, Any]) -> str:
    return ARRAY_DELIMITER.join(["Entity", *(t for t in row["types"] if t != "Entity")])


def import_command(directory: str | os.PathLike[str], files: dict[str, list[str]], database: str = "neo4j") -> str:
    """The ``neo4j-admin database import full`` command for the files in ``directory``."""
    directory = Path(directory)
    parts = ["neo4j-admin", "database", "import", "full", database, "--overwrite-destination",
             "--array-delimiter=U+001F", "--multiline-fields=true"]
    parts += [f"--nodes={directory / name}" for name in files["nodes"]]
    parts += [f"--relationships={directory / name}" for name in files["relationships"]]
    return " ".join(shlex.quote(p) for p in parts)


def write_tables(tables: GraphTables, target: str | os.PathLike[str]) -> dict[str, Any]:
    """Writes the node and relationship CSV files and the import script into ``target``.

    Returns:
        ``{"nodes": n, "relationships": n, "paths": [...], "command": str}``.
    """
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {"nodes": [], "relationships": []}
    nodes = _write(target / NODE_FILES["Entity"], tables.entities, False, "", _entity_labels)
    nodes += _write(target / NODE_FILES["Document"], tables.documents, False, "Document")
    nodes += _write(target / NODE_FILES["Mention"], tables.mentions, False, "Mention")
    files["nodes"] = list(NODE_FILES.values())
    relationships = 0
    fixed = {"IN_DOCUMENT": tables.in_document, "REFERS_TO": tables.refers_to}
    for name, table in {**fixed, **tables.relations}.items():
        file = f"relationships-{name.lower()}.csv"
        relationships += _write(target / file, table, True, name)
        files["relationships"].append(file)
    command = import_command(target.resolve(), files)
    script = target / "neo4j-admin-import.sh"
    script.write_text("#!/bin/sh\n# Stop Neo4j first; this replaces the database `neo4j`.\n" + command + "\n", "utf-8")
    paths = [str(target / n) for n in files["nodes"] + files["relationships"]] + [str(script)]
    return {"nodes": nodes, "relationships": relationships, "paths": paths, "command": command}


def export_neo4j(output_dir: str | os.PathLike[str], target: str | os.PathLike[str],
                 run_id: str | None = None) -> dict[str, Any]:
    """Builds the property-graph tables of ``DIR`` (or ``run_id`` only) and writes them as import CSV files."""
    return write_tables(build_tables(output_dir, run_id), target)

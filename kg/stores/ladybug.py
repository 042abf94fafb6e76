"""Loading a run directory into LadybugDB, an embedded property-graph database queried in Cypher.

LadybugDB (PyPI ``real_ladybug``) is the maintained continuation of Kuzu. The
graph is built from the Parquet tables (``kg.stores.tables``), not through RDF:
``Entity``, ``Document`` and ``Mention`` node tables, ``IN_DOCUMENT`` and
``REFERS_TO``, and one relationship table per predicate between entities.

The database file holds exactly the runs of one load. Loading builds a fresh
database beside the target (``<path>.loading``) by bulk ``COPY`` from Parquet
and renames it over the target only when every table has loaded, so a reload
replaces the graph and a failed load leaves the earlier database untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from kgpipe.kg.stores.runs import LoadResult, StoreError, StoreKind, run_manifests
from kgpipe.kg.stores.tables import GraphTables, build_tables

NODE_TABLES = {
    "Entity": "iri STRING PRIMARY KEY, name STRING, labels STRING[], types STRING[], aliases STRING[], "
              "kb_id STRING, minted BOOLEAN, description STRING",
    "Document": "iri STRING PRIMARY KEY, id STRING, source STRING, language STRING, title STRING, text STRING, "
                "run_id STRING",
    "Mention": "iri STRING PRIMARY KEY, doc_id STRING, start_offset INT32, end_offset INT32, text STRING, "
               "label STRING, ner_score DOUBLE, link_score DOUBLE, run_id STRING",
}
FIXED_RELATIONSHIPS = {"IN_DOCUMENT": "FROM Mention TO Document", "REFERS_TO": "FROM Mention TO Entity, score DOUBLE"}
ENTITY_RELATIONSHIP = "FROM Entity TO Entity, predicate STRING, count INT64, confidence DOUBLE, run_id STRING"
_SIDE_FILES = (".wal", ".shadow", ".lock")


@dataclasses.dataclass(frozen=True)
class LadybugConfig:
    """Where the LadybugDB database lives.

    Attributes:
        path: The database file (its folder must exist or is created).
    """

    path: str

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, os.PathLike)) or not str(self.path) or str(self.path).endswith("/"):
            raise ValueError(f"`path` must name a database file. Received: path={self.path!r}")


def _import():
    try:
        import real_ladybug
    except ImportError:
        raise StoreError("ladybug: the Python package real_ladybug is not installed (pip install real_ladybug)") from None
    return real_ladybug


def _remove(path: Path) -> None:
    for candidate in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)):
        candidate.unlink(missing_ok=True)


def _tables(tables: GraphTables) -> list[tuple[str, Any]]:
    """``(table name, pyarrow table)`` in load order: nodes before relationships."""
    fixed = [("Entity", tables.entities), ("Document", tables.documents), ("Mention", tables.mentions),
             ("IN_DOCUMENT", tables.in_document), ("REFERS_TO", tables.refers_to)]
    return fixed + sorted(tables.relations.items())


def _build(path: Path, tables: GraphTables, scratch: Path) -> None:
    lb = _import()
    database = lb.Database(str(path))
    connection = lb.Connection(database)
    try:
        for name, columns in NODE_TABLES.items():
            connection.execute(f"CREATE NODE TABLE {name}({columns})")
        for name, columns in {**FIXED_RELATIONSHIPS, **{t: ENTITY_RELATIONSHIP for t in tables.relations}}.items():
            connection.execute(f"CREATE REL TABLE {name}({columns})")
        for name, table in _tables(tables):
            if table.num_rows:
                file = scratch / f"{name}.parquet"
                pq.write_table(table, file)
                quoted = str(file).replace("\\", "\\\\").replace("'", "\\'")
                connection.execute(f"COPY {name} FROM '{quoted}'")
    finally:
        connection.close()
        database.close()


def load(output_dir: str | os.PathLike[str], config: LadybugConfig, run_id: str | None = None) -> LoadResult:
    """Builds the graph of ``DIR``'s runs (or ``run_id`` only) and swaps it in as ``config.path``.

    Raises:
        StoreError: If the package is missing or a table fails to load; the earlier database is left as it was.
    """
    started = time.perf_counter()
    tables = build_tables(output_dir, run_id)
    target = Path(config.path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".loading")
    _remove(staging)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".kgpipe-load-") as scratch:
        try:
            _build(staging, tables, Path(scratch))
        except (RuntimeError, OSError) as error:
            _remove(staging)
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise StoreError(f"ladybug: loading {output_dir} failed ({first}); {target} was left unchanged") from None
    _remove(target)  # Its WAL must not be replayed onto the new file.
    for suffix in ("", *_SIDE_FILES):
        if staging.with_name(staging.name + suffix).exists():
            os.replace(staging.with_name(staging.name + suffix), target.with_name(target.name + suffix))
    counts = table_counts(target)
    seconds = time.perf_counter() - started
    runs = {record["run_id"]: "" for record in run_manifests(output_dir, run_id)}
    hint = (f"python -c \"import real_ladybug as lb; c = lb.Connection(lb.Database('{target}', read_only=True)); "
            f"print(c.execute('MATCH (e:Entity) RETURN e.name, e.types LIMIT 5').get_all())\"")
    return LoadResult(StoreKind.LADYBUG, str(target), runs, counts, seconds, hint)


@contextlib.contextmanager
def _connection(path: str | os.PathLike[str]):
    lb = _import()
    if not Path(path).exists():
        raise StoreError(f"ladybug: no database at {path}")
    try:
        database = lb.Database(str(path), read_only=True)
    except RuntimeError as error:
        raise StoreError(f"ladybug: cannot open {path}: {str(error).splitlines()[0]}") from None
    connection = lb.Connection(database)
    try:
        yield connection
    finally:
        connection.close()
        database.close()


def _rows(connection, path, query: str, parameters: Mapping[str, Any] | None = None) -> list[tuple]:
    try:
        result = connection.execute(query, dict(parameters or {}))
    except RuntimeError as error:
        raise StoreError(f"ladybug at {path}: {str(error).splitlines()[0]}") from None
    rows = []
    while result.has_next():
        rows.append(tuple(result.get_next()))
    return rows


def cypher(path: str | os.PathLike[str], query: str, parameters: Mapping[str, Any] | None = None) -> list[tuple]:
    """Runs a Cypher query on a database (read-only); returns the rows as tuples.

    Raises:
        StoreError: If the database cannot be opened or the query fails.
    """
    with _connection(path) as connection:
        return _rows(connection, path, query, parameters)


def table_counts(path: str | os.PathLike[str]) -> dict[str, int]:
    """Rows per node table and relationship table of a database."""
    counts = {}
    with _connection(path) as connection:
        for (name,) in _rows(connection, path, "CALL show_tables() RETURN name ORDER BY name"):
            query = (f"MATCH (n:{name}) RETURN count(n)" if name in NODE_TABLES
                     else f"MATCH ()-[r:{name}]->() RETURN count(r)")
            counts[name] = int(_rows(connection, path, query)[0][0])
    return counts

"""Bulk-loading a run directory into an Oxigraph database (pyoxigraph, on disk).

Each run goes into its own named graph. Loading is staged: the shards are
bulk-loaded into a staging graph first and moved over the run's graph in one
transaction (SPARQL ``MOVE``) only when every shard has loaded, so reloading a
run replaces it and a failed load leaves the earlier graph (or none) in place.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import time
from pathlib import Path

import pyoxigraph as ox

from kgpipe.kg.stores.runs import LoadResult, RunShards, StoreError, StoreKind, find_runs

STAGING_PREFIX = "urn:kgpipe:staging:"


@dataclasses.dataclass(frozen=True)
class OxigraphConfig:
    """Where the Oxigraph database lives.

    Attributes:
        path: The database directory (created if missing).
    """

    path: str

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, os.PathLike)) or not str(self.path):
            raise ValueError(f"`path` must name a database directory. Received: path={self.path!r}")


def staging_iri(run_id: str) -> str:
    """The graph a run is loaded into before it replaces the run's graph."""
    return STAGING_PREFIX + run_id


def open_store(config: OxigraphConfig) -> ox.Store:
    """Opens (or creates) the database; raises ``StoreError`` if it cannot (locked, not a database, ...)."""
    try:
        return ox.Store(str(config.path))
    except OSError as error:
        raise StoreError(f"oxigraph: cannot open the database at {config.path}: {error}") from None


def _bulk_load(store: ox.Store, path: Path, graph: ox.NamedNode) -> None:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            store.bulk_load(handle, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    else:
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)


def graph_size(store: ox.Store, graph_iri: str) -> int:
    """Number of triples in a named graph."""
    rows = list(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}"))
    return int(rows[0][0].value)


def load_run(store: ox.Store, run: RunShards) -> int:
    """Loads one run into its named graph, replacing it; returns its triple count.

    Raises:
        StoreError: If a shard fails to parse or load; the staging graph is dropped and
            the run's graph is left as it was.
    """
    staging = staging_iri(run.run_id)
    store.update(f"DROP SILENT GRAPH <{staging}>")
    try:
        for path in run.paths:
            _bulk_load(store, path, ox.NamedNode(staging))
        store.update(f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{run.graph_iri}>")
    except (OSError, SyntaxError, ValueError) as error:
        store.update(f"DROP SILENT GRAPH <{staging}>")
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StoreError(f"oxigraph: loading run {run.run_id} failed ({first}); its graph was left unchanged") from None
    return graph_size(store, run.graph_iri)


def load(output_dir: str | os.PathLike[str], config: OxigraphConfig, run_id: str | None = None) -> LoadResult:
    """Loads every run of ``DIR`` (or ``run_id`` only) into the database, one named graph per run."""
    runs = find_runs(output_dir, run_id)
    started = time.perf_counter()
    store = open_store(config)
    counts = {run.graph_iri: load_run(store, run) for run in runs}
    store.flush()
    seconds = time.perf_counter() - started
    hint = (f"python -c \"import pyoxigraph as ox; s = ox.Store.read_only('{config.path}'); "
            f"print(list(s.query('SELECT * {{ ?s ?p ?o }} LIMIT 5', use_default_graph_as_union=True)))\"")
    del store  # Releases the database lock.
    return LoadResult(StoreKind.OXIGRAPH, str(config.path), {r.run_id: r.graph_iri for r in runs},
                      counts, seconds, hint)

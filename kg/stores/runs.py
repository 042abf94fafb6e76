"""What a load takes from a run directory: run ids, their graph IRIs and RDF shards.

A run directory ``DIR`` holds one manifest per run under ``DIR/manifests/``
(see ``kg.manifest``); the RDF shards of a run are ``DIR/rdf/<run id>-*.nt[.gz]``
(Beam) or ``DIR/rdf/run-<run id>-*.nt[.gz]`` (``kg.local``), or the list the
manifest names. Each run goes into its own named graph ``<base>graph/<run id>``,
the graph the N-Quads export uses.
"""

from __future__ import annotations

import dataclasses
import enum
import gzip
import os
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgpipe.kg import manifest
from kgpipe.kg.export.rdf import run_graph_iri
from kgpipe.schemas import vocab


class StoreKind(str, enum.Enum):
    """Stores ``kgpipe load`` writes to."""

    OXIGRAPH = "oxigraph"
    VIRTUOSO = "virtuoso"
    LADYBUG = "ladybug"


class StoreError(RuntimeError):
    """A store is unreachable or a load failed; the message is one line naming the store and the cause."""


@dataclasses.dataclass(frozen=True)
class RunShards:
    """One run of a run directory, as an RDF store loads it.

    Attributes:
        run_id: The run id (``run-<20 hex>``).
        base_iri: The base IRI its resources were minted under.
        graph_iri: The named graph its triples go into.
        paths: Its N-Triples shards (``.nt`` or ``.nt.gz``), sorted.
    """

    run_id: str
    base_iri: str
    graph_iri: str
    paths: tuple[Path, ...]


@dataclasses.dataclass(frozen=True)
class LoadResult:
    """What a load did.

    Attributes:
        store: The store kind.
        target: Where the data went (a database path or a server address).
        runs: ``{run id: graph IRI or "" for the property graph}``.
        counts: Counts after the load (``{"triples": n}`` or rows per table).
        seconds: Wall-clock seconds of the load (reading, loading, swapping).
        query_hint: How to query what was loaded (a command or an endpoint).
    """

    store: StoreKind
    target: str
    runs: dict[str, str]
    counts: dict[str, int]
    seconds: float
    query_hint: str

    @property
    def rows(self) -> int:
        """All triples (RDF stores) or all nodes and relationships (property graph) loaded."""
        return sum(self.counts.values())


def base_iri_of(record: dict[str, Any]) -> str:
    """The base IRI a manifest records (``kg.local``: top level; the pipeline: its config), or the default."""
    config = record.get("config") if isinstance(record.get("config"), dict) else {}
    return record.get("base_iri") or config.get("base_iri") or vocab.DEFAULT_BASE_IRI


def run_manifests(output_dir: str | os.PathLike[str], run_id: str | None = None) -> list[dict[str, Any]]:
    """The manifests of ``DIR``'s completed runs (oldest first), or of ``run_id`` only.

    Raises:
        StoreError: If ``DIR`` has no manifest, or none for ``run_id``.
    """
    records = manifest.read_manifests(output_dir)
    if not records:
        raise StoreError(f"{output_dir} holds no run manifest under {manifest.MANIFEST_DIR}/ (not a finished run?)")
    if run_id is None:
        return records
    chosen = [r for r in records if r.get("run_id") == run_id]
    if not chosen:
        raise StoreError(f"--run_id {run_id!r} is not a run of {output_dir}; runs: {[r.get('run_id') for r in records]}")
    return chosen


def _shards_of(rdf_dir: Path, record: dict[str, Any], all_ids: list[str]) -> tuple[Path, ...]:
    listed = [rdf_dir.parent / p for p in record.get("rdf", [])]
    if listed:
        return tuple(sorted(listed))
    run_id = record["run_id"]
    longer = [other for other in all_ids if other != run_id and other.startswith(run_id)]
    found = []
    for path in rdf_dir.glob("*.nt*") if rdf_dir.is_dir() else ():
        name = path.name.removeprefix("run-") if path.name.startswith(f"run-{run_id}-") else path.name
        if (name.startswith(f"{run_id}-") and not name.endswith(".tmp")
                and not any(name.startswith(f"{other}-") for other in longer)):
            found.append(path)
    return tuple(sorted(found))


def find_runs(output_dir: str | os.PathLike[str], run_id: str | None = None) -> list[RunShards]:
    """Returns the runs of ``DIR`` (or ``run_id`` alone) with their graph IRIs and shards.

    Raises:
        StoreError: If there is no such run, or a run has no RDF shard or a listed shard is missing.
    """
    output_dir = Path(output_dir)
    records = run_manifests(output_dir, run_id)
    all_ids = [r.get("run_id") for r in manifest.read_manifests(output_dir)]
    runs = []
    for record in records:
        base = base_iri_of(record)
        paths = _shards_of(output_dir / "rdf", record, all_ids)
        if not paths:
            raise StoreError(f"run {record['run_id']} has no N-Triples shard under {output_dir / 'rdf'}")
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise StoreError(f"run {record['run_id']}: shard(s) named in its manifest are missing: {missing[:3]}")
        runs.append(RunShards(record["run_id"], base, run_graph_iri(base, record["run_id"]), paths))
    return runs


def check_shard(path: Path) -> int:
    """Parses a shard strictly (pyoxigraph) without loading it; returns its triple count.

    Raises:
        SyntaxError: At the first line that is not valid N-Triples.
    """
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            return sum(1 for _ in ox.parse(handle, format=ox.RdfFormat.N_TRIPLES))
    return sum(1 for _ in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))


def check_shards(run: RunShards, store: str) -> int:
    """Parses every shard of a run before a store is touched (about a seventh of a bulk load's time).

    Returns:
        The number of N-Triples lines (duplicates included).

    Raises:
        StoreError: Naming the store, the run and the first bad line; nothing was loaded.
    """
    try:
        return sum(check_shard(path) for path in run.paths)
    except (OSError, SyntaxError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StoreError(f"{store}: run {run.run_id} not loaded ({first}); its graph was left unchanged") from None

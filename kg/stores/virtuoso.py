"""Bulk-loading a run directory into OpenLink Virtuoso 7 and querying it over SPARQL.

Loading uses Virtuoso's bulk loader (``ld_add`` + ``rdf_loader_run()``) through
its ``isql`` client, so the server reads the shards itself: it must see them at
the same absolute path (same machine or a shared mount). Every shard is parsed
strictly first (pyoxigraph; Virtuoso's own parser is lax and takes a bare word
for a relative IRI), so a bad shard fails before the server is touched and the
run's graph stays as it was. Then the run's graph is deleted and bulk-loaded
again (a reload replaces it); if the loader reports an error for any shard, the
run's graph is deleted rather than left half-loaded. Loading into a staging
graph and renaming it was measured 2.3x slower than the bulk load itself
(renaming rewrites every index of every quad) and, logged, exceeds Virtuoso's
default transaction log limit on a 700k-triple run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from kgpipe.kg.stores.runs import LoadResult, RunShards, StoreError, StoreKind, check_shards, find_runs

@dataclasses.dataclass(frozen=True)
class VirtuosoConfig:
    """How to reach a Virtuoso server.

    Attributes:
        host: Server host (the SQL port and the HTTP port share it).
        port: SQL (isql / ODBC) port, Virtuoso's ``[Parameters] ServerPort``.
        http_port: HTTP port of the SPARQL endpoint (``[HTTPServer] ServerPort``).
        user: SQL user allowed to bulk-load (``dba``).
        password: That user's password.
        isql: The isql client (Debian: ``isql-vt``).
        timeout: Seconds one isql call or SPARQL request may take.
    """

    host: str = "127.0.0.1"
    port: int = 1111
    http_port: int = 8890
    user: str = "dba"
    password: str = "dba"
    isql: str = "isql-vt"
    timeout: float = 3600.0

    def __post_init__(self) -> None:
        for name in ("port", "http_port"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 < value < 65536:
                raise ValueError(f"`{name}` must be a TCP port (1-65535). Received: {name}={value!r}")
        if not self.host or any(c in self.host for c in "/ '\""):
            raise ValueError(f"`host` must be a host name or address. Received: host={self.host!r}")
        if self.timeout <= 0:
            raise ValueError(f"`timeout` must be positive. Received: timeout={self.timeout!r}")

    @property
    def endpoint(self) -> str:
        """The SPARQL endpoint URL."""
        return f"http://{self.host}:{self.http_port}/sparql"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def isql(config: VirtuosoConfig, sql: str) -> str:
    """Runs SQL statements (``;``-separated) through isql; returns its output.

    Raises:
        StoreError: If isql is missing, cannot connect, times out, or a statement fails.
    """
    binary = shutil.which(config.isql)
    if binary is None:
        raise StoreError(f"virtuoso: the isql client {config.isql!r} is not installed "
                         f"(Debian: apt-get install virtuoso-opensource)")
    command = [binary, f"{config.host}:{config.port}", config.user, config.password, f"exec={sql}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=config.timeout)
    except subprocess.TimeoutExpired:
        raise StoreError(f"virtuoso: isql at {config.host}:{config.port} took over {config.timeout:.0f}s") from None
    output = done.stdout + done.stderr
    errors = [line for line in output.splitlines() if line.startswith("*** Error")]
    if errors or done.returncode:
        message = errors[0].removeprefix("*** ") if errors else f"isql exited with {done.returncode}"
        raise StoreError(f"virtuoso at {config.host}:{config.port}: {message}")
    return done.stdout


def _scalars(output: str) -> list[str]:
    """The values of a one-column result in isql's output (the lines between the rule and the row count)."""
    lines = output.splitlines()
    values, inside = [], False
    for line in lines:
        if line.startswith("_____"):
            inside, values = True, []
        elif inside and (not line.strip() or " Rows. -- " in line):
            if values:
                inside = False
        elif inside:
            values.append(line.strip())
    return values


def graph_size(config: VirtuosoConfig, graph_iri: str) -> int:
    """Number of triples in a named graph (SQL, no HTTP)."""
    values = _scalars(isql(config, f"select count(*) from DB.DBA.RDF_QUAD where G = iri_to_id({_sql_string(graph_iri)}, 0);"))
    return int(values[-1]) if values else 0


def sparql_select(config: VirtuosoConfig, query: str, default_graph: str | None = None) -> list[tuple[str, ...]]:
    """Runs a SPARQL SELECT on the HTTP endpoint; returns rows of term values (``None`` for unbound).

    Raises:
        StoreError: If the endpoint is unreachable or answers with an error.
    """
    params = {"query": query, "format": "application/sparql-results+json"}
    if default_graph:
        params["default-graph-uri"] = default_graph
    request = urllib.request.Request(config.endpoint, data=urllib.parse.urlencode(params).encode("utf-8"),
                                     headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=config.timeout) as response:
            body = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace").strip().splitlines()[:1]
        raise StoreError(f"virtuoso SPARQL at {config.endpoint}: HTTP {error.code} {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise StoreError(f"virtuoso SPARQL at {config.endpoint} is unreachable: {error}") from None
    names = body["head"]["vars"]
    return [tuple(row.get(n, {}).get("value") for n in names) for row in body["results"]["bindings"]]


def _failed_files(config: VirtuosoConfig, paths: list[str]) -> list[str]:
    listed = ", ".join(_sql_string(p) for p in paths)
    output = isql(config, f"select ll_file || ' : ' || ll_error from DB.DBA.LOAD_LIST "
                          f"where ll_file in ({listed}) and (ll_error is not null or ll_state <> 2);")
    return _scalars(output)


def load_run(config: VirtuosoConfig, run: RunShards) -> int:
    """Loads one run into its named graph, replacing it; returns the graph's triple count.

    Raises:
        StoreError: If a shard does not parse (nothing touched) or the loader fails on one (the
            run's graph is deleted, never left half-loaded).
    """
    check_shards(run, "virtuoso")
    paths = [str(p.resolve()) for p in run.paths]
    listed = ", ".join(_sql_string(p) for p in paths)
    # Unlogged row-by-row deletes (log_enable 3) scale to any graph; the loader skips files
    # already in its list, so they are forgotten for a reload to read them again.
    clear = (f"log_enable(3, 1); delete from DB.DBA.RDF_QUAD where G = iri_to_id({_sql_string(run.graph_iri)}); "
             f"delete from DB.DBA.LOAD_LIST where ll_file in ({listed});")
    isql(config, clear)
    try:
        graph = _sql_string(run.graph_iri)
        isql(config, "".join(f"ld_add({_sql_string(p)}, {graph}); " for p in paths) + "rdf_loader_run();")
        failed = _failed_files(config, paths)
        if failed:
            raise StoreError(f"virtuoso: loading run {run.run_id} failed: {failed[0]}")
    except StoreError as error:
        try:
            isql(config, clear)
            outcome = "was deleted, not left half-loaded"
        except StoreError:
            outcome = "may be half-loaded (the server stopped answering): load again or delete it"
        raise StoreError(f"{error}; the graph {run.graph_iri} {outcome}") from None
    return graph_size(config, run.graph_iri)


def load(output_dir: str | os.PathLike[str], config: VirtuosoConfig, run_id: str | None = None) -> LoadResult:
    """Loads every run of ``DIR`` (or ``run_id`` only) into Virtuoso, one named graph per run, then checkpoints.

    Raises:
        StoreError: If the server is unreachable or a load fails.
    """
    runs = find_runs(output_dir, run_id)
    isql(config, "select 1;")  # Fails early, in one line, when the server is not there.
    started = time.perf_counter()
    counts = {run.graph_iri: load_run(config, run) for run in runs}
    isql(config, "checkpoint;")
    seconds = time.perf_counter() - started
    return LoadResult(StoreKind.VIRTUOSO, f"{config.host}:{config.port}", {r.run_id: r.graph_iri for r in runs},
                      counts, seconds, f"{config.endpoint} (default-graph-uri=<graph IRI>, or FROM <graph IRI>)")

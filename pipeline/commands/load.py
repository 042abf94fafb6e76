"""``kgpipe load DIR --store oxigraph|virtuoso|ladybug``: bulk-load a run's output into a graph store.

Flags are parsed here and turned into the store configs of ``kg.stores``; the
loading happens there. RDF stores get one named graph per run; LadybugDB gets
the property graph built from the Parquet tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the top-level command ``load``."""
    from kgpipe.kg.stores.runs import StoreKind

    load = subparsers.add_parser(
        "load", help="Bulk-load a run's output into Oxigraph, Virtuoso or LadybugDB (idempotent).",
        description="Loads DIR's runs (or --run_id) into a store. RDF stores (oxigraph, virtuoso) get one named "
                    "graph per run, <base>graph/<run id>, replaced on reload; ladybug (an embedded property-graph "
                    "database with Cypher) is rebuilt from DIR/parquet. Shards are parsed before the store is touched; "
                    "a failed load never leaves a half-loaded graph under the run's name.")
    load.add_argument("output_dir", metavar="DIR", help="run output directory")
    load.add_argument("--store", required=True, choices=[k.value for k in StoreKind])
    load.add_argument("--run_id", help="only this run (default: every run with a manifest in DIR)")
    load.add_argument("--db", metavar="PATH",
                      help="oxigraph: database directory (default: DIR/stores/oxigraph); "
                           "ladybug: database file (default: DIR/stores/kg.lbug)")
    virtuoso = load.add_argument_group("virtuoso (the server reads DIR/rdf itself: it must see DIR at the same path)")
    virtuoso.add_argument("--host", default="127.0.0.1", help="server host (default: 127.0.0.1)")
    virtuoso.add_argument("--port", type=int, default=1111, help="SQL/isql port (default: 1111)")
    virtuoso.add_argument("--http_port", type=int, default=8890, help="SPARQL endpoint port (default: 8890)")
    virtuoso.add_argument("--user", default="dba", help="SQL user (default: dba)")
    virtuoso.add_argument("--password", default="dba", help="its password (default: dba)")
    virtuoso.add_argument("--isql", default="isql-vt", help="isql client (default: isql-vt, Debian's name)")
    load.set_defaults(func=run_load)


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _load(args: argparse.Namespace):
    from kgpipe.kg.stores import ladybug, oxigraph, virtuoso

    out = Path(args.output_dir)
    if args.store == "oxigraph":
        return oxigraph.load(out, oxigraph.OxigraphConfig(args.db or str(out / "stores" / "oxigraph")), args.run_id)
    if args.store == "ladybug":
        return ladybug.load(out, ladybug.LadybugConfig(args.db or str(out / "stores" / "kg.lbug")), args.run_id)
    config = virtuoso.VirtuosoConfig(host=args.host, port=args.port, http_port=args.http_port, user=args.user,
                                     password=args.password, isql=args.isql)
    return virtuoso.load(out, config, args.run_id)


def run_load(args: argparse.Namespace) -> int:
    """``kgpipe load``: 0 on success, 1 if the store is unreachable or the load failed, 2 on bad arguments."""
    from kgpipe.kg.stores.runs import StoreError

    if not Path(args.output_dir).is_dir():
        return _fail(f"{args.output_dir} is not a directory")
    try:
        result = _load(args)
    except ValueError as error:
        return _fail(str(error))
    except StoreError as error:
        return _fail(str(error), 1)
    unit = "triples" if result.store.value != "ladybug" else "nodes + relationships"
    rate = result.rows / result.seconds if result.seconds > 0 else 0.0
    print(f"loaded {len(result.runs)} run(s) into {result.store.value} at {result.target}: "
          f"{result.rows:,} {unit} in {result.seconds:.2f}s ({rate:,.0f}/s)")
    for run_id, graph in result.runs.items():
        print(f"  {run_id}" + (f" -> graph <{graph}>" if graph else ""))
    width = max((len(name) for name in result.counts), default=0)
    for name, count in result.counts.items():
        print(f"  {name:<{width}}  {count:>12,}")
    print(f"query: {result.query_hint}")
    return 0

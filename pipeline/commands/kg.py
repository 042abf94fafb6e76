"""``kgpipe validate | export | graph stats | report``: checking and using a run's output.

Flags are parsed here and turned into the ``kg`` configs; the work happens in
``kg.validate``, ``kg.export.convert``, ``kg.graph`` and ``kg.report``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the top-level commands ``validate``, ``export``, ``graph`` (``stats``) and ``report``."""
    from kgpipe.kg.export.convert import ExportFormat

    validate = subparsers.add_parser(
        "validate", help="Check a run's RDF shards, Parquet schemas and SHACL shapes.",
        description="Strictly parses every DIR/rdf shard (pyoxigraph), checks DIR/parquet schemas and validates "
                    "the graph against schemas/shapes.ttl (pyshacl). Exit code 1 on any error.")
    validate.add_argument("output_dir", metavar="DIR", help="run output directory")
    validate.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    validate.add_argument("--shacl_max_triples", type=int, default=100_000,
                          help="above this many triples, SHACL checks a sample of focus nodes (default: 100000)")
    validate.add_argument("--shacl_sample_nodes", type=int, default=1_000,
                          help="focus nodes per shape target when sampling (default: 1000)")
    validate.set_defaults(func=run_validate)

    export = subparsers.add_parser(
        "export", help="Write a run's triples as Turtle, JSON-LD, N-Triples or N-Quads, or Neo4j import CSV.",
        description="Turtle and JSON-LD (rdflib, in memory) are for small outputs; nt and nq stream from "
                    "DIR/parquet/triples into shards, nq with one named graph per run.")
    export.add_argument("output_dir", metavar="DIR", help="run output directory")
    export.add_argument("--format", required=True, choices=[f.value for f in ExportFormat])
    export.add_argument("--output", required=True, metavar="PATH",
                        help="output file (turtle, json-ld) or directory of shards (nt, nq) or CSV files (neo4j)")
    export.add_argument("--run_id", help="only this run (default: all runs in DIR)")
    export.add_argument("--max_triples", type=int, default=500_000, help="limit for turtle/json-ld (default: 500000)")
    export.add_argument("--gzip", action="store_true", help="gzip nt/nq shards")
    export.add_argument("--shard_size", type=int, default=1_000_000, help="lines per nt/nq shard (default: 1000000)")
    export.add_argument("--base_iri", help="base of the run graph IRIs (default: from the run manifest)")
    export.set_defaults(func=run_export)

    graph = subparsers.add_parser("graph", help="Graph analytics (`kgpipe graph stats DIR`).")
    graph.set_defaults(func=lambda args: _usage(graph))
    graph_commands = graph.add_subparsers(dest="graph_command", metavar="COMMAND")
    stats = graph_commands.add_parser(
        "stats", help="Node/edge counts by type, components, degrees, PageRank top entities.",
        description="Reads DIR/parquet/triples, prints the statistics and writes them as JSON.")
    stats.add_argument("output_dir", metavar="DIR", help="run output directory")
    stats.add_argument("--output", metavar="PATH", help="JSON file (default: DIR/graph_stats.json)")
    stats.add_argument("--top", type=int, default=20, help="entities listed by PageRank (default: 20)")
    stats.add_argument("--run_id", help="only this run (default: all runs in DIR)")
    stats.set_defaults(func=run_graph_stats)

    report = subparsers.add_parser(
        "report", help="Write a single-file HTML report with tables and a drawing of the graph's core.")
    report.add_argument("output_dir", metavar="DIR", help="run output directory")
    report.add_argument("--output", metavar="PATH", help="HTML file (default: DIR/report.html)")
    report.add_argument("--core_size", type=int, default=40, help="entities drawn (default: 40)")
    report.add_argument("--top", type=int, default=25, help="entities listed by PageRank (default: 25)")
    report.add_argument("--run_id", help="only this run (default: all runs in DIR)")
    report.set_defaults(func=run_report)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run_validate(args: argparse.Namespace) -> int:
    """``kgpipe validate DIR``: 0 if the output is valid, 1 if not, 2 on bad arguments."""
    from kgpipe.kg.validate import ValidateConfig, validate_run, write_report_json

    try:
        config = ValidateConfig(shacl_max_triples=args.shacl_max_triples, shacl_sample_nodes=args.shacl_sample_nodes)
    except ValueError as error:
        return _fail(str(error))
    report = validate_run(args.output_dir, config)
    print(report.to_text(), end="")
    if args.json:
        write_report_json(report, args.json)
    return 0 if report.ok else 1


def run_export(args: argparse.Namespace) -> int:
    """``kgpipe export DIR --format F --output PATH``."""
    from kgpipe.kg.export.convert import ExportConfig, export

    try:
        config = ExportConfig(format=args.format, run_id=args.run_id, max_triples=args.max_triples,
                              compress=args.gzip, shard_size=args.shard_size, base_iri=args.base_iri)
        result = export(args.output_dir, args.output, config)
    except ValueError as error:
        return _fail(str(error))
    if "command" in result:  # Neo4j: nodes and relationships, and how to import them.
        print(f"wrote {result['nodes']:,} nodes and {result['triples']:,} relationships as neo4j-admin CSV:")
    else:
        print(f"wrote {result['triples']:,} triples as {result['format']} to {len(result['paths'])} file(s):")
    for path in result["paths"]:
        print(f"  {path}")
    if "command" in result:
        print(f"import (Neo4j stopped):\n  {result['command']}")
    return 0


def run_graph_stats(args: argparse.Namespace) -> int:
    """``kgpipe graph stats DIR``: prints the statistics and writes them as JSON."""
    from kgpipe.kg.graph import GraphStatsConfig, format_stats, graph_stats, write_stats

    try:
        config = GraphStatsConfig(top=args.top, run_id=args.run_id)
    except ValueError as error:
        return _fail(str(error))
    if not Path(args.output_dir).is_dir():
        return _fail(f"{args.output_dir} is not a directory")
    stats = graph_stats(args.output_dir, config)
    print(format_stats(stats), end="")
    target = Path(args.output) if args.output else Path(args.output_dir) / "graph_stats.json"
    write_stats(stats, target)
    print(f"\nwrote {target}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """``kgpipe report DIR``: writes the HTML report."""
    from kgpipe.kg.report import ReportConfig, write_report

    try:
        config = ReportConfig(core_size=args.core_size, top=args.top, run_id=args.run_id)
    except ValueError as error:
        return _fail(str(error))
    if not Path(args.output_dir).is_dir():
        return _fail(f"{args.output_dir} is not a directory")
    path = write_report(args.output_dir, args.output, config)
    print(f"wrote {path}")
    return 0

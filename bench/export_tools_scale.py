"""Validate, graph stats and report on a ~1.2M-triple run directory (synthetic corpus).

Writes the synthetic corpus of ``bench/export_speed.py`` as a run directory
with ``kg.local.write_run``, then times ``validate_run``, ``graph_stats`` and
``write_report`` (wall and CPU seconds).

Usage: python bench/export_tools_scale.py --output DIR [--documents 5000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_speed import synthetic_corpus  # noqa: E402

from kgpipe.kg.builder import BuilderConfig  # noqa: E402
from kgpipe.kg.graph import graph_stats  # noqa: E402
from kgpipe.kg.local import write_run  # noqa: E402
from kgpipe.kg.report import write_report  # noqa: E402
from kgpipe.kg.validate import validate_run  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", required=True, help="run directory to write (must not exist)")
    parser.add_argument("--documents", type=int, default=5000, help="synthetic documents (240 triples each)")
    args = parser.parse_args(argv)
    corpus = synthetic_corpus(args.documents)
    documents = [doc for doc, _, _ in corpus]
    annotations = {doc.id: (mentions, links) for doc, mentions, links in corpus}
    steps = [
        ("write_run", lambda: write_run(args.output, BuilderConfig("run-synthetic"), documents, annotations)),
        ("validate", lambda: validate_run(args.output)),
        ("graph stats", lambda: graph_stats(args.output)),
        ("report", lambda: write_report(args.output)),
    ]
    for name, step in steps:
        wall, cpu = time.perf_counter(), time.process_time()
        result = step()
        print(f"{name:<12} wall {time.perf_counter() - wall:7.2f} s   cpu {time.process_time() - cpu:7.2f} s", flush=True)
        if name == "write_run":
            print(f"  {result['counts']}")
        elif name == "validate":
            print(result.to_text())
        elif name == "graph stats":
            print(f"  {result['entity_graph']['nodes']:,} entities, {result['entity_graph']['edges']:,} edges")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

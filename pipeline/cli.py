"""The ``kgpipe`` command line.

``kgpipe run`` hands its flags to Beam (so any runner option passes through);
the other commands are registered by ``pipeline.commands.*``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any

RUN_HELP = """\
usage: kgpipe run --input PATH [--input PATH ...] --output DIR [--model DIR] [--kb PATH] [options]
                  [Beam pipeline options, e.g. --runner DataflowRunner --project P --region R]

Reads documents, tags entities with the NER model, links them to the KB and
writes DIR/parquet/{documents,mentions,links,triples}/, DIR/rdf/*.nt,
DIR/dead_letter/ and DIR/summary.json. Without --model/--kb it uses the
bundled default model and KB.

kgpipe options:
  --input PATH            input file or glob, repeatable (.jsonl, .txt, .tsv, .parquet; .gz ok)
  --output DIR            output directory (local or any Beam filesystem, e.g. gs://)
  --model DIR             NER model directory (default: bundled model)
  --kb PATH               KB file (jsonl/csv/tsv/ttl/nt/CCKS/Wikidata) or `kgpipe kb build` index
  --input_format F        auto|jsonl|text|tsv|parquet (default: by extension)
  --tsv_columns A,B       column names of header-less TSV (the text column is `text`)
  --language TAG          language of documents that name none (default: zh)
  --kb_language TAG       language of the KB's names (default: zh for the bundled KB, untagged for yours)
  --batch_tokens N        token budget of one NER batch (default: 4096)
  --max_batch_size N      most windows in one NER batch (default: 256)
  --device D              TensorFlow device for NER, e.g. /GPU:0 (default: GPU if any)
  --mixed_precision M     auto|on|off (default: auto = on for GPU)
  --dictionary_mentions   also find KB aliases that NER missed
  --base_iri IRI          base of minted IRIs
  --rdf_shards N          number of N-Triples shards (default: runner's choice)
  --rdf_compression C     none|gzip
  --incremental           skip documents seen in earlier runs in DIR; append a new run
  --no_progress           no progress log lines

Runner examples:
  --runner DirectRunner --direct_running_mode multi_processing --direct_num_workers 4
  --runner PortableRunner --job_endpoint embed
  --runner DataflowRunner --project P --region R --temp_location gs://B/tmp --setup_file ./setup.py
"""


def _print_summary(summary: Mapping[str, Any]) -> None:
    counts = summary["counts"]
    rows = [
        ("documents", counts.get("documents", 0)),
        ("windows tagged", counts.get("ner_windows", 0)),
        ("mentions", counts.get("links", 0)),
        ("linked to KB", counts.get("links", 0) - counts.get("links_nil", 0)),
        ("NIL (minted)", counts.get("links_nil", 0)),
        ("triples", counts.get("triples", 0)),
        ("dead letters", sum(summary["dead_letters"].values())),
        ("seconds", summary["seconds"]),
        ("NER seconds", summary["ner"]["ner_seconds"]),
        ("NER chars/s", summary["throughput"]["ner_chars_per_second"]),
        ("padding waste", f"{summary['padding_waste']:.1%}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"\nkgpipe run {summary['run_id']} -> {summary['output']}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>12,}" if isinstance(value, int) else f"  {name:<{width}}  {value:>12}")
    if summary["dead_letters"]:
        print(f"  dead letters by stage: {summary['dead_letters']} (see {summary['output']}/dead_letter/)")


def _run(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(RUN_HELP)
        return 0
    from kgpipe.pipeline.run import run

    _print_summary(run(list(argv)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from kgpipe.pipeline.commands import kb, kg, load, ner

    parser = argparse.ArgumentParser(
        prog="kgpipe", description="Build knowledge graphs from raw text: NER, entity linking, Parquet + RDF."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="Log more.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="Run the pipeline (see `kgpipe run --help`).", add_help=False)
    ner.add_parser(commands)
    kb.add_kb_parser(commands)
    kb.add_link_parser(commands)
    kg.add_parser(commands)
    load.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv[:1] or "--verbose" in argv[:1]
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("kgpipe").setLevel(logging.INFO)  # Progress lines on long runs.
    rest = argv[1:] if verbose else argv
    if rest and rest[0] == "run":
        return _run(rest[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""The ``kgpipe`` command line.

``kgpipe run`` hands its flags to Beam (so any runner option passes through);
the other commands are registered by ``pipeline.commands.*``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import threading
import warnings
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
  --linker DIR            trained linker from `kgpipe link train` (its KB unless --kb; default: unsupervised)
  --input_format F        auto|jsonl|text|tsv|parquet (default: by extension)
  --tsv_columns A,B       column names of header-less TSV (the text column is `text`)
  --language TAG          language of documents that name none (default: zh)
  --kb_language TAG       language of the KB's names (default: zh for the bundled KB, untagged for yours)
  --batch_tokens N        token budget of one NER batch (default: 4096)
  --max_batch_size N      most windows in one NER batch (default: 256)
  --ner_process M         auto|on|off: tag in a child process, one batch ahead of linking and
                          writing (default auto: on with 2+ cores per worker); same output
  --device D              TensorFlow device for NER, e.g. /GPU:0 (default: GPU if any)
  --mixed_precision M     auto|on|off (default: auto = on for GPU)
  --dictionary_mentions   also find KB aliases that NER missed
  --relations             typed relations (founder, author, ...) with the bundled relation model
  --relation_model DIR    relation model from `kgpipe re train` (implies --relations)
  --relation_threads N    ONNX Runtime threads of the relation model (default 0: automatic)
  --relation_precision P  auto|int8|float32: int8 relation scoring on ONNX Runtime, about 2x the
                          stage's speed (default auto: int8 on a CPU-only machine)
  --base_iri IRI          base of minted IRIs
  --product_facts M       auto|all|none: which documents get a product node with brand, category and
                          attributes (default auto: kind=product metadata, or title-like lines)
  --product_heads M       on|off: tag product text with the NER model's brand/product heads only
                          (default on; off: every head, e.g. news PER on 李宁 in a title)
  --rdf_shards N          number of N-Triples shards (default: runner's choice)
  --rdf_compression C     none|gzip
  --incremental           skip documents seen in earlier runs in DIR; append a new run
  --no_progress           no progress log lines
  --workers N             worker processes, each with its own model (default 1: in-process;
                          0: one per core); 1.15x faster than in-process on the 1k news, 2 cores
  --append                add this run to a DIR that holds runs of other inputs or settings
  --overwrite             replace the runs DIR holds, once this run is complete

Global flags (before `run`): -v/--verbose shows TensorFlow/Beam start-up lines, --debug tracebacks.
Exit codes: 0 done, 1 failed while running (DIR unchanged), 2 bad flags/input/output/model/KB, 130 interrupted.

Runner examples:
  --runner DirectRunner --direct_running_mode multi_processing --direct_num_workers 4
  --runner PortableRunner --job_endpoint embed
  --runner DataflowRunner --project P --region R --temp_location gs://B/tmp --setup_file ./setup.py
"""


# (summary.json key, what it counts): the table prints summary.json's own names and numbers.
_SUMMARY_ROWS = (
    ("documents", "documents written"),
    ("ner_windows", "sentence windows tagged"),
    ("links", "mentions (one link each)"),
    ("links_kb", "mentions linked to a KB entity"),
    ("links_nil", "mentions not in the KB (NIL, minted)"),
    ("entities_linked", "distinct KB entities linked"),
    ("triples", "triples (besides the run node's own statements)"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _print_summary(summary: Mapping[str, Any]) -> None:
    counts, throughput = summary["counts"], summary["throughput"]
    rows = [(key, counts.get(key, 0), what) for key, what in _SUMMARY_ROWS]
    rows += [
        ("dead_letters", sum(summary["dead_letters"].values()), "records set aside, with a reason"),
        ("seconds", summary["seconds"], "wall clock"),
        ("ner_seconds", summary["ner"]["ner_seconds"], "in NER model calls"),
        ("ner_chars_per_second", throughput["ner_chars_per_second"], "NER throughput"),
        ("documents_per_second", throughput["documents_per_second"], "pipeline throughput"),
        ("padding_waste", f"{summary['padding_waste']:.1%}", "padded tokens that were padding"),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"\nkgpipe run {summary['run_id']} -> {summary['output']}")
    for name, value, what in rows:
        print(f"  {name:<{width}}  {_cell(value):>12}  {what}")
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
    from kgpipe.pipeline.commands import re as relations

    parser = argparse.ArgumentParser(
        prog="kgpipe", description="Build knowledge graphs from raw text: NER, entity linking, Parquet + RDF."
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="Log more, including TensorFlow's and Beam's start-up lines.")
    parser.add_argument("--debug", action="store_true", help="Show the traceback of an error.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="Run the pipeline (see `kgpipe run --help`).", add_help=False)
    ner.add_parser(commands)
    kb.add_kb_parser(commands)
    kb.add_link_parser(commands)
    kg.add_parser(commands)
    load.add_parser(commands)
    relations.add_parser(commands)
    return parser


EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_NOISY_LOGGERS = ("apache_beam", "absl", "tensorflow", "keras", "h5py", "jieba", "urllib3", "google")
_TRACEBACK_HINT = " (run with --debug for the traceback)"


def _global_flags(argv: list[str]) -> tuple[set[str], list[str]]:
    """Splits the leading ``-v/--verbose`` and ``--debug`` flags from the command."""
    flags: set[str] = set()
    while argv and argv[0] in ("-v", "--verbose", "--debug"):
        flags.add("debug" if argv[0] == "--debug" else "verbose")
        argv = argv[1:]
    return flags, argv


_LIBRARY_PATHS = re.compile(r"[/\\\\](apache_beam|tensorflow|keras|absl|google)[/\\\\]")


def _drop_library_warnings(record: logging.LogRecord) -> bool:
    """Keeps kgpipe's records and libraries' errors; drops libraries' warnings logged on the root logger."""
    return record.levelno >= logging.ERROR or not _LIBRARY_PATHS.search(record.pathname or "")


class StderrFilter:
    """Drops TensorFlow's and absl's C++ start-up lines, which are written to file descriptor 2 directly.

    They bypass Python logging and, before absl is initialised, even
    ``TF_CPP_MIN_LOG_LEVEL``. Everything else written to the descriptor (our own
    messages, Python tracebacks, real C++ errors) passes through unchanged.
    Worker processes inherit the filtered descriptor.
    """

    NOISE = re.compile(
        rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
        rb"|[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*"  # glog-style INFO and WARNING lines
        rb"|E\d{4} [\d:.]+ +\d+ cuda_[\w.]+:\d+\] .*"  # "failed call to cuInit" on machines without a GPU
        rb"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.)$")

    def __enter__(self) -> "StderrFilter":
        sys.stderr.flush()
        self._saved = os.dup(2)
        read, write = os.pipe()
        os.dup2(write, 2)
        os.close(write)
        self._thread = threading.Thread(target=self._pump, args=(read,), daemon=True)
        self._thread.start()
        return self

    def _pump(self, read: int) -> None:
        with os.fdopen(read, "rb") as pipe:
            for line in pipe:
                if not self.NOISE.match(line.rstrip(b"\r\n")):
                    os.write(self._saved, line)

    def __exit__(self, *exc) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)  # Closes the pipe's write end: the pump reads to the end and stops.
        self._thread.join(timeout=2)
        os.close(self._saved)


def quiet_start_up(verbose: bool) -> None:
    """Silences TensorFlow/absl/Beam start-up noise unless ``verbose``; kgpipe's progress stays on.

    Must run before TensorFlow is imported: its C++ log level is read from the
    environment once. A level the user set in the environment is kept.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("kgpipe").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("kgpipe.progress").setLevel(logging.INFO)  # Progress lines on long runs.
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # C++ INFO/WARNING/ERROR lines (e.g. "cuInit" without a GPU)
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for handler in logging.getLogger().handlers:  # Beam logs some warnings on the root logger.
        handler.addFilter(_drop_library_warnings)
    warnings.filterwarnings("ignore", module=r"(apache_beam|tensorflow|keras|absl|google|jieba)(\.|$)")


def one_line(error: BaseException) -> str:
    """A readable one-line message for ``error``: the innermost ``XxxError: ...`` line of a runner's report."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    named = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception)\b.*?:", line)]
    text = named[-1] if named else (lines[0] if lines else type(error).__name__)
    if not named and not isinstance(error, ValueError):
        text = f"{type(error).__name__}: {text}"
    return text if len(text) <= 400 else text[:400] + "..."


def _usage_errors() -> tuple[type[BaseException], ...]:
    from kgpipe.pipeline.preflight import UsageError

    return (UsageError, ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "run":
        return _run(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv)  # The command line as given (model cards record it).
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK if args.command is None else EXIT_USAGE
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one ``kgpipe`` command; returns its exit code (see README: 0 ok, 1 failed, 2 usage, 130 interrupted).

    Errors print one line (``kgpipe: error: ...``) unless ``--debug`` is given first.
    """
    flags, argv = _global_flags(list(sys.argv[1:] if argv is None else argv))
    verbose = "verbose" in flags or "debug" in flags
    quiet_start_up(verbose)
    command = argv[0] if argv else "kgpipe"
    try:
        with contextlib.nullcontext() if verbose else StderrFilter():
            return _dispatch(argv)
    except KeyboardInterrupt:
        print(f"kgpipe {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the one place errors become a line and an exit code
        if "debug" in flags:
            raise
        usage = isinstance(error, _usage_errors())
        print(f"kgpipe {command}: error: {one_line(error)}" + ("" if usage else _TRACEBACK_HINT), file=sys.stderr)
        return EXIT_USAGE if usage else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

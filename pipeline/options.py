"""The one place where kgpipe's run flags are parsed and turned into configs.

``KgpipeOptions`` is a Beam ``PipelineOptions`` view, so the same flags work
on every runner (and in Dataflow templates); ``RunConfig.from_options`` turns
them into a frozen, validated config that the rest of the pipeline reads.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import os
from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

from kgpipe.kg.builder import Provenance
from kgpipe.kg.products.facts import ProductDocuments
from kgpipe.linking.ranker import linker_kb_path, linker_version
from kgpipe.pipeline.readers import InputFormat
from kgpipe.schemas.vocab import DEFAULT_BASE_IRI


class RdfCompression(str, enum.Enum):
    NONE = "none"
    GZIP = "gzip"


class KgpipeOptions(PipelineOptions):
    """Flags of ``kgpipe run`` (Beam's own flags, e.g. ``--runner``, pass through)."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        # Not `required=True`: Beam parses every PipelineOptions subclass for every
        # pipeline in the process, so a required flag here would break other pipelines.
        # RunConfig.from_options checks them instead.
        parser.add_argument("--input", action="append", default=None,
                            help="Input file or glob (repeatable): JSON Lines, text, TSV or Parquet.")
        parser.add_argument("--output", default=None, help="Output directory.")
        parser.add_argument("--model", default=None, help="NER model directory (default: bundled model).")
        parser.add_argument("--kb", default=None,
                            help="KB file or index directory from `kgpipe kb build` (default: bundled KB).")
        parser.add_argument("--linker", default=None,
                            help="Linker directory from `kgpipe link train` (trained ranker; its KB unless --kb).")
        parser.add_argument("--input_format", default=InputFormat.AUTO.value,
                            choices=[f.value for f in InputFormat])
        parser.add_argument("--tsv_columns", default=None,
                            help="Comma-separated column names for TSV input without a header.")
        parser.add_argument("--language", default="zh", help="Language of documents that name none.")
        parser.add_argument("--kb_language", default=None,
                            help="Language tag of the KB's names (default: zh for the bundled KB, none for yours).")
        parser.add_argument("--batch_tokens", type=int, default=4096,
                            help="Token budget of one NER batch (padded tokens).")
        parser.add_argument("--max_batch_size", type=int, default=256, help="Most windows in one NER batch.")
        parser.add_argument("--ner_process", default="auto", choices=["auto", "on", "off"],
                            help="Tag in a child process of each worker process, one batch ahead of linking and "
                                 "writing (auto: on when a worker process has two or more cores).")
        parser.add_argument("--device", default=None, help="TensorFlow device for NER, e.g. /GPU:0.")
        parser.add_argument("--mixed_precision", default=None, choices=["auto", "on", "off"],
                            help="Mixed precision for NER (auto: on for GPU).")
        parser.add_argument("--dictionary_mentions", action="store_true",
                            help="Also find KB aliases the NER model missed (Aho-Corasick).")
        parser.add_argument("--relations", action="store_true",
                            help="Read typed relations (founder, author, ...) with the relation model (off by "
                                 "default: dev triple F1 0.43 only, see its MODEL_CARD).")
        parser.add_argument("--relation_threads", type=int, default=0,
                            help="Threads of one relation-model call on ONNX Runtime (0: the cores per worker "
                                 "process less the NER child process's, at least 1, at most 4).")
        parser.add_argument("--relation_model", default=None,
                            help="Relation model directory from `kgpipe re train` (implies --relations).")
        parser.add_argument("--relation_precision", default="auto", choices=["auto", "int8", "float32"],
                            help="Relation scoring: int8 matrix products on ONNX Runtime (about twice the stage's "
                                 "speed, dev F1 0.426 vs 0.430) or float32; auto: int8 where ONNX Runtime serves the "
                                 "model (a CPU-only machine), else float32.")
        parser.add_argument("--base_iri", default=DEFAULT_BASE_IRI, help="Base IRI of minted resources.")
        parser.add_argument("--provenance", default=Provenance.COMPACT.value, choices=[p.value for p in Provenance],
                            help="Per-mention provenance: compact (one node per mention with offsets, label, score, "
                                 "link) or full (also NIF/PROV statements per mention).")
        parser.add_argument("--product_facts", default=ProductDocuments.AUTO.value,
                            choices=[d.value for d in ProductDocuments],
                            help="Which documents get a product node with brand, category and attributes: auto "
                                 "(kind metadata of product text, or title-like lines naming a category), all, none.")
        parser.add_argument("--product_heads", default="on", choices=["on", "off"],
                            help="Tag product text (as --product_facts decides) with the NER model's brand/product "
                                 "heads only, when it has other heads too (on), or with every head (off).")
        parser.add_argument("--rdf_shards", type=int, default=0,
                            help="Number of N-Triples shards (0: let the runner choose).")
        parser.add_argument("--rdf_compression", default=RdfCompression.NONE.value,
                            choices=[c.value for c in RdfCompression])
        parser.add_argument("--incremental", action="store_true",
                            help="Skip documents already in DIR from earlier runs; append a new run.")
        parser.add_argument("--no_progress", action="store_true", help="Do not log progress lines.")
        parser.add_argument("--workers", type=int, default=1,
                            help="Worker processes of the direct runner, each with its own model and KB "
                                 "(0: one per CPU core; 1: in-process, the default). Shorthand for "
                                 "--direct_running_mode multi_processing --direct_num_workers N.")
        parser.add_argument("--append", action="store_true",
                            help="Add this run to an output folder that holds runs of other inputs.")
        parser.add_argument("--overwrite", action="store_true",
                            help="Replace the runs an output folder holds (once this run is complete).")


def check_flags(argv: Sequence[str]) -> None:
    """Fails on a flag that looks like a misspelt known one (Beam would only warn and ignore it).

    Unknown flags with no close match pass: runner modules register their own
    options (e.g. ``--flink_master``) only when loaded.
    """
    parser = _BeamArgumentParser(allow_abbrev=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)  # What PipelineOptions.get_all_options parses.
    _, unknown = parser.parse_known_args(list(argv))
    known = [option for action in parser._actions for option in action.option_strings]
    for arg in unknown:
        name = arg.split("=", 1)[0]
        if not name.startswith("--"):
            continue
        close = difflib.get_close_matches(name.replace("-", "_").replace("__", "--", 1), known, n=1, cutoff=0.85)
        if close:
            raise ValueError(f"Unknown flag {name}: did you mean {close[0]}?")


def tri_state(value: str | None) -> bool | None:
    return {None: None, "auto": None, "on": True, "off": False}[value]


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything a kgpipe run needs, validated.

    Attributes:
        inputs: Input files or globs.
        output_dir: Output directory (local path or any Beam filesystem URL).
        model_dir: NER model directory; ``None``: the bundled model, resolved
            on each worker (so workers need not share the submitter's paths).
        kb_path: KB file or index directory; ``None``: the bundled KB, likewise.
        linker_dir: Linker directory from ``kgpipe link train`` (``None``: unsupervised linking).
        input_format: Format of every input (``AUTO``: by extension).
        tsv_columns: Column names for header-less TSV.
        language: Default document language.
        kb_language: Language tag of KB names and aliases (``None``: untagged).
        batch_tokens: Padded-token budget of one NER batch.
        max_batch_size: Most windows per NER batch.
        ner_process: Tag in a child process of each worker process, one batch ahead of the stages
            after NER (``pipeline.handlers.NerModelProcess``); outputs are the same either way.
        device, mixed_precision: NER placement (``None``: automatic).
        dictionary_mentions: Add KB-dictionary mentions to NER's.
        relations: Run the relation-extraction stage.
        relation_model_dir: Relation model directory (``None``: the bundled one).
        relation_threads: ONNX Runtime threads of one relation-model call (the in-process runner
            runs one stage at a time, so an otherwise idle core can serve it).
        relation_int8: Score relations with int8 matrix products (``RelationExtractorModel.load``).
        base_iri: Base of minted IRIs.
        provenance: Per-mention provenance statements (``kg.builder.Provenance``).
        product_facts: Which documents get a product node (``kg.products.facts.ProductDocuments``).
        product_heads: Tag those documents with the NER model's product heads only.
        rdf_shards: N-Triples shard count (0: runner's choice).
        rdf_compression: Compression of the N-Triples shards.
        incremental: Process only documents not seen in earlier runs.
        progress: Log progress lines.
        append: Add the run beside other runs already in ``output_dir``.
        overwrite: Replace every run in ``output_dir`` once this run is complete.
    """

    inputs: tuple[str, ...]
    output_dir: str
    model_dir: str | None = None
    kb_path: str | None = None
    linker_dir: str | None = None
    input_format: InputFormat = InputFormat.AUTO
    tsv_columns: tuple[str, ...] | None = None
    language: str = "zh"
    kb_language: str | None = None
    batch_tokens: int = 4096
    max_batch_size: int = 256
    ner_process: bool = False
    device: str | None = None
    mixed_precision: bool | None = None
    dictionary_mentions: bool = False
    relations: bool = False
    relation_model_dir: str | None = None
    relation_threads: int = 1
    relation_int8: bool = False
    base_iri: str = DEFAULT_BASE_IRI
    provenance: Provenance = Provenance.COMPACT
    product_facts: ProductDocuments = ProductDocuments.AUTO
    product_heads: bool = True
    rdf_shards: int = 0
    rdf_compression: RdfCompression = RdfCompression.NONE
    incremental: bool = False
    progress: bool = True
    append: bool = False
    overwrite: bool = False

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ValueError("At least one --input is needed. Received: inputs=()")
        if self.batch_tokens < 16:
            raise ValueError(f"`batch_tokens` must be >= 16. Received: batch_tokens={self.batch_tokens}")
        if self.max_batch_size < 1:
            raise ValueError(f"`max_batch_size` must be >= 1. Received: max_batch_size={self.max_batch_size}")
        if self.incremental and "://" in self.output_dir:
            raise ValueError(
                "--incremental reads earlier runs from a local output directory only. "
                f"Received: output={self.output_dir!r}"
            )
        if self.overwrite and (self.append or self.incremental):
            raise ValueError("--overwrite cannot be combined with --append or --incremental. "
                             f"Received: overwrite=True, append={self.append}, incremental={self.incremental}")
        if self.rdf_shards < 0:
            raise ValueError(f"`rdf_shards` must be >= 0. Received: rdf_shards={self.rdf_shards}")
        if self.relation_threads < 1:
            raise ValueError(f"`relation_threads` must be >= 1. Received: relation_threads={self.relation_threads}")
        if not self.base_iri.endswith("/"):
            # Minted IRIs use fragments themselves (doc/<id>#char=s,e), so the base cannot.
            raise ValueError(f"`base_iri` must end with '/'. Received: base_iri={self.base_iri!r}")

    @classmethod
    def from_options(cls, options: PipelineOptions) -> "RunConfig":
        """Builds the config from parsed flags, filling in the bundled model and KB."""
        opts = options.view_as(KgpipeOptions)
        if opts.relation_threads < 0:
            raise ValueError(f"--relation_threads must be >= 0 (0: automatic). Received: --relation_threads "
                             f"{opts.relation_threads}")
        ner_process = auto_threads(options) >= 2 if opts.ner_process == "auto" else opts.ner_process == "on"
        relations = bool(opts.relations or opts.relation_model)
        missing = [flag for flag, value in (("--input", opts.input), ("--output", opts.output)) if not value]
        if missing:
            raise ValueError(f"kgpipe run needs {' and '.join(missing)}. Received: input={opts.input!r}, "
                             f"output={opts.output!r}")
        return cls(
            inputs=tuple(opts.input),
            output_dir=opts.output.rstrip("/"),
            model_dir=opts.model,
            kb_path=opts.kb or (linker_kb_path(opts.linker) if opts.linker else None),
            linker_dir=opts.linker,
            input_format=InputFormat(opts.input_format),
            tsv_columns=tuple(c.strip() for c in opts.tsv_columns.split(",")) if opts.tsv_columns else None,
            language=opts.language,
            kb_language=opts.kb_language or (None if opts.kb else "zh"),
            batch_tokens=opts.batch_tokens,
            max_batch_size=opts.max_batch_size,
            ner_process=ner_process,
            device=opts.device,
            mixed_precision=tri_state(opts.mixed_precision),
            dictionary_mentions=opts.dictionary_mentions,
            relations=relations,
            relation_model_dir=opts.relation_model,
            relation_int8=relations and int8_relations(opts.relation_precision),
            # The NER child process (if any) keeps a core busy: the relation model's threads leave it one.
            relation_threads=opts.relation_threads or auto_threads(options, reserve=int(ner_process)),
            base_iri=opts.base_iri,
            provenance=Provenance(opts.provenance),
            product_facts=ProductDocuments(opts.product_facts),
            product_heads=opts.product_heads == "on",
            rdf_shards=opts.rdf_shards,
            rdf_compression=RdfCompression(opts.rdf_compression),
            incremental=opts.incremental,
            progress=not opts.no_progress,
            append=opts.append,
            overwrite=opts.overwrite,
        )

    def fingerprint(self) -> dict[str, object]:
        """The settings that change what a run outputs (for the run id)."""
        return {
            "input_format": self.input_format.value,
            "tsv_columns": list(self.tsv_columns or ()),
            "language": self.language,
            "kb_language": self.kb_language,
            "dictionary_mentions": self.dictionary_mentions,
            "base_iri": self.base_iri,
            "provenance": self.provenance.value,
            **({"product_facts": self.product_facts.value} if self.product_facts is not ProductDocuments.AUTO else {}),
            **({"product_heads": "off"} if not self.product_heads else {}),
            # Precision changes scores: a bf16 GPU run is not the same run as an fp32 CPU one.
            "device": self.device,
            "mixed_precision": self.mixed_precision,
            **({"linker": linker_version(self.linker_dir)} if self.linker_dir else {}),
            **({"relations": self.relation_model_dir or "bundled"} if self.relations else {}),
            **({"relation_int8": True} if self.relations and self.relation_int8 else {}),
        }


def int8_relations(precision: str) -> bool:
    """``--relation_precision`` -> int8 relation scoring? (auto: where ONNX Runtime serves the model)."""
    if precision == "auto":
        from kgpipe.ner.relations.extractor import onnx_serves

        return onnx_serves()
    return precision == "int8"


def auto_threads(options: PipelineOptions, cap: int = 4, reserve: int = 0) -> int:
    """Cores this process may run on per worker process (``--direct_num_workers``; 0 there means
    one per core), less ``reserve`` cores kept for other work, 1 to ``cap``."""
    from apache_beam.options.pipeline_options import DirectOptions

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = options.view_as(DirectOptions).direct_num_workers or cores
    return max(1, min(cap, cores // max(workers, 1) - reserve))


def local_model_dir(config: RunConfig) -> str:
    """The model directory as seen from this machine (the bundled one if none was given)."""
    from kgpipe.pipeline.handlers import default_model_dir

    return config.model_dir or default_model_dir()

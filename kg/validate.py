"""``kgpipe validate DIR``: strict RDF parsing, Parquet schemas and SHACL shapes.

Checks, in order:

0. ``DIR`` holds exactly the files of its complete runs, with the row
   counts their manifests record (``kg.commit.check_runs``): a killed or
   half-written run fails here;
1. every RDF shard under ``DIR/rdf`` (``.nt``, ``.nq``, optionally ``.gz``)
   parses strictly with pyoxigraph (IRIs, language tags and escapes checked);
   a shard that fails is re-read line by line to list each bad line;
2. every Parquet file under ``DIR/parquet/<table>`` has its table's schema
   from ``schemas.arrow``;
3. the parsed graph satisfies ``schemas/shapes.ttl`` (pyshacl, with the
   ontology mixed in so that class targets reach subclasses). Graphs larger
   than ``shacl_max_triples`` are checked on a deterministic sample of focus
   nodes per shape target (the report says so).
"""

from __future__ import annotations

import collections
import dataclasses
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from kgpipe.kg import commit, manifest
from kgpipe.schemas import arrow, vocab

_TABLE_SCHEMAS = {name: arrow.schema_for(t) for t, name in arrow.TABLES.items()}


@dataclasses.dataclass(frozen=True)
class ValidateConfig:
    """Limits of ``validate_run``.

    Attributes:
        shacl_max_triples: Above this many triples SHACL runs on a sample.
        shacl_sample_nodes: Focus nodes sampled per shape target when sampling.
        max_syntax_errors: Most bad lines listed per shard.
        max_examples: Example focus nodes shown per group of SHACL results.
    """

    shacl_max_triples: int = 100_000
    shacl_sample_nodes: int = 1_000
    max_syntax_errors: int = 20
    max_examples: int = 3

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{field.name}` must be a positive integer. Received: {field.name}={value!r}")


@dataclasses.dataclass
class SyntaxProblem:
    """One line of a shard that does not parse."""

    path: str
    line: int
    message: str
    text: str


@dataclasses.dataclass
class ShaclGroup:
    """SHACL results sharing severity, shape, path and message."""

    severity: str
    shape: str
    path: str
    message: str
    count: int = 0
    examples: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (focus node, value)


@dataclasses.dataclass
class ValidationReport:
    """What ``validate_run`` found; ``ok`` is False on any error."""

    output_dir: str
    shards: dict[str, int] = dataclasses.field(default_factory=dict)  # path -> statements parsed
    syntax: list[SyntaxProblem] = dataclasses.field(default_factory=list)
    parquet: dict[str, int] = dataclasses.field(default_factory=dict)  # table -> rows
    parquet_problems: list[str] = dataclasses.field(default_factory=list)
    shacl: list[ShaclGroup] = dataclasses.field(default_factory=list)
    shacl_checked: int = 0
    shacl_sampled: bool = False
    runs: int = 0  # complete runs (manifests)
    run_problems: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def violations(self) -> int:
        return sum(g.count for g in self.shacl if g.severity == "Violation")

    @property
    def ok(self) -> bool:
        return (bool(self.shards) and not self.syntax and not self.parquet_problems and not self.run_problems
                and self.violations == 0)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(ok=self.ok, violations=self.violations)
        return out

    def to_text(self) -> str:
        """Returns the report as the text ``kgpipe validate`` prints."""
        lines = [f"kgpipe validate {self.output_dir}"]
        bad_files = collections.Counter(p.path for p in self.syntax)
        total = sum(self.shards.values())
        lines.append(f"  RDF      {len(self.shards)} shard(s), {total:,} statements parsed strictly"
                     + ("" if bad_files else ": OK"))
        for path, count in bad_files.items():
            lines.append(f"  RDF      {path}: {count} bad line(s)")
            for problem in (p for p in self.syntax if p.path == path):
                lines.append(f"             line {problem.line}: {problem.message}")
                lines.append(f"               > {problem.text}")
        tables = ", ".join(f"{name} {rows:,}" for name, rows in sorted(self.parquet.items())) or "none"
        lines.append(f"  Parquet  rows: {tables}" + ("" if self.parquet_problems else ": OK"))
        lines += [f"  Parquet  {problem}" for problem in self.parquet_problems]
        lines.append(f"  Runs     {self.runs} complete run(s); files and row counts match their manifests"
                     + ("" if self.run_problems else ": OK"))
        lines += [f"  Runs     {problem}" for problem in self.run_problems]
        scope = "a sample of" if self.shacl_sampled else "all"
        lines.append(f"  SHACL    {scope} {self.shacl_checked:,} triples checked against schemas/shapes.ttl: "
                     + (f"{self.violations} violation(s)" if self.violations else "OK"))
        for group in sorted(self.shacl, key=lambda g: (g.severity != "Violation", -g.count, g.shape)):
            lines.append(f"    [{group.severity}] {group.shape} / {group.path}: {group.message} ({group.count} node(s))")
            for focus, value in group.examples:
                lines.append(f"        focus <{focus}>" + (f"  value {value}" if value else ""))
        lines += [f"  Note     {note}" for note in self.notes]
        errors = len(self.syntax) + len(self.parquet_problems) + len(self.run_problems) + self.violations
        lines.append("Result: OK" if self.ok else f"Result: FAILED ({errors} error(s))")
        return "\n".join(lines) + "\n"


def _shard_format(path: Path) -> ox.RdfFormat | None:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    return {".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS}.get(Path(name).suffix)


def _open(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def _load_shard(path: Path, fmt: ox.RdfFormat, store: ox.Store, report: ValidationReport, rel: str,
                config: ValidateConfig) -> None:
    count = 0

    def counted(quads):
        nonlocal count
        for quad in quads:
            count += 1
            yield quad

    try:
        with _open(path) as handle:
            store.extend(counted(ox.parse(handle, fmt)))
        report.shards[rel] = count
        return
    except (SyntaxError, OSError, EOFError) as error:
        first_error = error
    # Re-read line by line: N-Triples/N-Quads statements never span lines.
    count, found = 0, 0
    try:
        with _open(path) as handle:
            for number, raw in enumerate(handle, 1):
                if not raw.strip() or raw.lstrip().startswith(b"#"):
                    continue
                try:
                    quads = list(ox.parse(raw, fmt))
                except SyntaxError as error:
                    found += 1
                    if found <= config.max_syntax_errors:
                        message = str(error.msg).split(": ", 1)[-1] if ": " in str(error.msg) else str(error.msg)
                        report.syntax.append(SyntaxProblem(rel, number, message, _snippet(raw)))
                    continue
                store.extend(quads)
                count += len(quads)
    except (OSError, EOFError) as error:  # e.g. a truncated gzip stream
        report.syntax.append(SyntaxProblem(rel, 0, f"file cannot be read to the end: {error}", ""))
        found += 1
    if found == 0:  # The whole-file parse failed for a reason no single line shows.
        report.syntax.append(SyntaxProblem(rel, 0, str(first_error), ""))
    elif found > config.max_syntax_errors:
        report.notes.append(f"{rel}: {found} bad lines, first {config.max_syntax_errors} listed")
    report.shards[rel] = count


def _snippet(raw: bytes, limit: int = 160) -> str:
    text = raw.decode("utf-8", "backslashreplace").rstrip("\n")
    return text if len(text) <= limit else text[:limit] + "…"


def check_rdf(output_dir: Path, report: ValidationReport, config: ValidateConfig) -> ox.Store:
    """Parses every shard strictly into an in-memory store; records problems in ``report``."""
    store = ox.Store()
    folder = output_dir / "rdf"
    shards = sorted(p for p in folder.rglob("*") if p.is_file() and _shard_format(p)) if folder.is_dir() else []
    if not shards:
        report.notes.append(f"no RDF shards (*.nt, *.nq, *.nt.gz, *.nq.gz) under {folder}")
    leftovers = sorted(p.relative_to(output_dir).as_posix() for p in folder.rglob("*.tmp")) if folder.is_dir() else []
    if leftovers:
        report.notes.append(f"unfinished shard(s) from an interrupted writer, not checked: {', '.join(leftovers)}")
    for path in shards:
        _load_shard(path, _shard_format(path), store, report, path.relative_to(output_dir).as_posix(), config)
    return store


def check_parquet(output_dir: Path, report: ValidationReport) -> None:
    """Checks each Parquet file's schema against ``schemas.arrow``; counts rows per table."""
    root = output_dir / "parquet"
    noted: set[str] = set()
    for name, schema in sorted(_TABLE_SCHEMAS.items()):
        folder = root / name
        files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
        rows = 0
        for path in files:
            try:
                meta = pq.ParquetFile(path)
            except Exception as error:  # noqa: BLE001 - any unreadable file is a finding
                report.parquet_problems.append(f"{path.relative_to(output_dir)}: unreadable ({error})")
                continue
            got = meta.schema_arrow
            # Names and types must match; nullability differences (writers vary) are only noted.
            found_types = {f.name: f.type for f in got}
            expected_types = {f.name: f.type for f in schema}
            same = lambda a, b: b is not None and a.equals(b)  # noqa: E731 - ignores list item names
            if got.names != schema.names or not all(same(t, found_types.get(n)) for n, t in expected_types.items()):
                missing = [f"{n}: {t}" for n, t in expected_types.items() if not same(t, found_types.get(n))]
                extra = [f"{n}: {t}" for n, t in found_types.items() if not same(t, expected_types.get(n))]
                report.parquet_problems.append(
                    f"{path.relative_to(output_dir)}: schema differs from schemas.arrow ({name}): "
                    f"expected but missing {missing}, unexpected {extra}")
            elif not got.remove_metadata().equals(schema.remove_metadata()) and name not in noted:
                noted.add(name)
                report.notes.append(f"parquet/{name}: column nullability differs from schemas.arrow")
            rows += meta.metadata.num_rows
        if files:
            report.parquet[name] = rows


def _entity_classes(ontology: rdflib.Graph) -> list[str]:
    return sorted(str(c) for c in ontology.transitive_subjects(rdflib.RDFS.subClassOf, vocab.KGP.Entity))


def _graph_for_shacl(store: ox.Store, ontology: rdflib.Graph,
                     config: ValidateConfig) -> tuple[rdflib.Graph, list[rdflib.URIRef] | None]:
    """Returns the data graph to validate and, when sampling, the sampled focus nodes.

    A sample holds, for up to ``shacl_sample_nodes`` focus nodes per shape
    target (first by IRI order, so reruns check the same nodes), all their
    triples plus the types of their objects (for ``sh:class`` constraints).
    """
    if len(store) <= config.shacl_max_triples:
        data = ox.serialize((quad.triple for quad in store), format=ox.RdfFormat.N_TRIPLES) or b""
        return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt"), None
    n = config.shacl_sample_nodes
    kgp = vocab.KGP
    classes = " ".join(f"<{c}>" for c in _entity_classes(ontology))
    targets = [f"{{ SELECT DISTINCT ?s WHERE {{ ?s a <{kgp[c]}> }} ORDER BY ?s LIMIT {n} }}"
               for c in ("Document", "Mention", "Cooccurrence", "Run")]
    targets += [
        f"{{ SELECT DISTINCT ?s WHERE {{ VALUES ?c {{ {classes} }} ?s a ?c }} ORDER BY ?s LIMIT {n} }}",
        f"{{ SELECT DISTINCT ?s WHERE {{ ?s <{kgp.brand}> ?o }} ORDER BY ?s LIMIT {n} }}",
        f"{{ SELECT DISTINCT ?s WHERE {{ ?m <{kgp.refersTo}> ?s }} ORDER BY ?s LIMIT {n} }}",
        # Product categories and attribute values (kg.products.facts) have shapes of their own.
        f"{{ SELECT DISTINCT ?s WHERE {{ ?p <{kgp.category}> ?s }} ORDER BY ?s LIMIT {n} }}",
        f"{{ SELECT DISTINCT ?s WHERE {{ ?p <{vocab.SCHEMA.additionalProperty}> ?s }} ORDER BY ?s LIMIT {n} }}",
    ]
    rows = store.query(f"SELECT DISTINCT ?s WHERE {{ {' UNION '.join(targets)} }}", use_default_graph_as_union=True)
    focus = sorted({row["s"].value for row in rows if isinstance(row["s"], ox.NamedNode)})
    graph = rdflib.Graph()
    for start in range(0, len(focus), 500):
        values = " ".join(f"<{s}>" for s in focus[start:start + 500])
        triples = store.query(f"CONSTRUCT {{ ?s ?p ?o . ?o a ?t }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o . "
                              f"OPTIONAL {{ ?o a ?t }} }}", use_default_graph_as_union=True)
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph, [rdflib.URIRef(s) for s in focus]


def check_shacl(store: ox.Store, report: ValidationReport, config: ValidateConfig) -> None:
    """Validates the graph (or a sample) against ``schemas/shapes.ttl``."""
    import pyshacl  # Imported here: it is slow to import and only this check needs it.

    ontology = rdflib.Graph().parse(data=vocab.ontology_text(), format="turtle")
    graph, focus = _graph_for_shacl(store, ontology, config)
    report.shacl_checked, report.shacl_sampled = len(graph), focus is not None
    shapes = rdflib.Graph().parse(data=vocab.shapes_text(), format="turtle")
    # The ontology goes into the data graph itself (inplace: pyshacl's ont_graph would copy the
    # data), so class targets reach subclasses. Validating the whole sample and keeping the
    # results of sampled focus nodes is ~4x faster than pyshacl's focus_nodes option.
    graph += ontology
    _, results, _ = pyshacl.validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True,
                                     abort_on_first=False, inplace=True)
    _group_results(results, shapes, report, config, set(focus) if focus is not None else None)


def _name(graph: rdflib.Graph, node: Any) -> str:
    label = graph.value(node, rdflib.RDFS.label)
    if label is not None:
        return str(label)
    text = str(node)
    for prefix, namespace in vocab.PREFIXES.items():
        if text.startswith(namespace):
            return f"{prefix}:{text[len(namespace):]}"
    return text if not isinstance(node, rdflib.BNode) else "(shape)"


def _group_results(results: rdflib.Graph, shapes: rdflib.Graph, report: ValidationReport,
                   config: ValidateConfig, focus: set[rdflib.URIRef] | None) -> None:
    groups: dict[tuple[str, str, str, str], ShaclGroup] = {}
    for result in sorted(results.subjects(rdflib.RDF.type, SH.ValidationResult), key=str):
        if focus is not None and results.value(result, SH.focusNode) not in focus:
            continue  # A neighbour pulled into the sample only for its type, not checked itself.
        severity = _name(results, results.value(result, SH.resultSeverity)).split(":")[-1].split("#")[-1]
        source = results.value(result, SH.sourceShape)
        owner = next(iter(shapes.subjects(SH.property, source)), source)
        path = _name(shapes, results.value(result, SH.resultPath)) if results.value(result, SH.resultPath) else "-"
        message = str(results.value(result, SH.resultMessage) or "")
        key = (severity, _name(shapes, owner), path, message)
        group = groups.setdefault(key, ShaclGroup(*key))
        group.count += 1
        if len(group.examples) < config.max_examples:
            value = results.value(result, SH.value)
            group.examples.append((str(results.value(result, SH.focusNode)), value.n3() if value is not None else ""))
    for group in groups.values():
        group.examples.sort()
    report.shacl = sorted(groups.values(), key=lambda g: (g.severity, g.shape, g.path, g.message))


def validate_run(output_dir: str | Path, config: ValidateConfig | None = None) -> ValidationReport:
    """Validates a run directory; see the module docstring for what is checked."""
    config = config or ValidateConfig()
    output_dir = Path(output_dir)
    report = ValidationReport(str(output_dir))
    if not output_dir.is_dir():
        report.notes.append(f"{output_dir} is not a directory")
        return report
    report.run_problems, notes = commit.check_runs(output_dir)
    report.runs = len(manifest.completed_runs(output_dir))
    report.notes += notes
    store = check_rdf(output_dir, report, config)
    check_parquet(output_dir, report)
    triples_rows = report.parquet.get("triples")
    if triples_rows is not None and report.shards and not report.syntax and triples_rows != sum(report.shards.values()):
        report.notes.append(f"Parquet holds {triples_rows:,} triples but the RDF shards {sum(report.shards.values()):,} "
                            "statements (fine if some runs wrote only one of them)")
    if len(store):
        check_shacl(store, report, config)
    return report


def write_report_json(report: ValidationReport, path: str | Path) -> None:
    """Writes the report as JSON."""
    Path(path).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n", "utf-8")

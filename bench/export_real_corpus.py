"""Validate, graph stats and report timings on a run built from real annotated Chinese text.

Gold entity annotations stand in for NER and linking output, so the graph has
the shape of a real one without needing the model: CLUENER2020 training
sentences (people, companies, organisations, places, ...) and e-commerce
product titles (brand HP / product HC), every mention a NIL entity keyed by
its surface form and type. The run is written with ``kg.local.write_run``,
then ``validate_run``, ``graph_stats`` and ``render_report`` are timed.

Usage: python bench/export_real_corpus.py --output DIR [--data ../shared/data]
       [--cluener 3000] [--ecommerce 500]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kgpipe.kg.builder import BuilderConfig  # noqa: E402
from kgpipe.kg.graph import graph_stats  # noqa: E402
from kgpipe.kg.local import write_run  # noqa: E402
from kgpipe.kg.report import write_report  # noqa: E402
from kgpipe.kg.validate import validate_run  # noqa: E402
from kgpipe.schemas.records import Document, Link, Mention  # noqa: E402

_CLUENER_LABELS = {"name": "PER", "company": "COMPANY", "organization": "ORG", "government": "GOVERNMENT",
                   "address": "ADDRESS", "scene": "SCENE", "book": "BOOK", "movie": "MOVIE", "game": "GAME",
                   "position": "POSITION"}


def _record(doc: Document, spans: list[tuple[int, int, str]]):
    mentions, links = [], []
    for start, end, label in sorted(set(spans)):
        surface = doc.text[start:end]
        mentions.append(Mention(doc.id, start, end, surface, label, 1.0, "gold"))
        links.append(Link(doc.id, start, end, surface, label, None, 0.0, nil_key=f"{surface}|{label}",
                          kb_version="none"))
    return mentions, links


def read_cluener(path: Path, limit: int):
    """Yields (Document, mentions, links) from CLUENER JSON lines (end offsets are inclusive there)."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number >= limit:
                break
            row = json.loads(line)
            doc = Document(f"cluener-{number:05d}", row["text"], source=f"{path.name}:{number + 1}")
            spans = [(s, e + 1, _CLUENER_LABELS[kind]) for kind, names in row.get("label", {}).items()
                     for positions in names.values() for s, e in positions]
            yield (doc, *_record(doc, spans))


def read_bioes(path: Path, limit: int):
    """Yields (Document, mentions, links) from a ``char<TAB>tag`` BIOES file (one title per block)."""
    chars: list[str] = []
    tags: list[str] = []
    number = 0

    def flush():
        text = "".join(chars)
        spans, start = [], None
        for i, tag in enumerate(tags):
            kind, _, label = tag.partition("-")
            if kind in ("B", "S"):
                start = i
            if kind in ("E", "S") and start is not None:
                spans.append((start, i + 1, label))
                start = None
            if kind == "O":
                start = None
        doc = Document(f"ecommerce-{number:05d}", text, source=f"{path.name}:{number + 1}")
        return (doc, *_record(doc, spans))

    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2 and parts[0]:
                chars.append(parts[0])
                tags.append(parts[1])
            elif chars:
                yield flush()
                number += 1
                chars, tags = [], []
                if number >= limit:
                    return
    if chars:
        yield flush()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", required=True, help="run directory to write (must not exist)")
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--cluener", type=int, default=3000, help="CLUENER sentences")
    parser.add_argument("--ecommerce", type=int, default=500, help="e-commerce titles")
    args = parser.parse_args(argv)
    data, out = Path(args.data), Path(args.output)
    corpus = list(read_cluener(data / "cluener" / "train.json", args.cluener))
    corpus += list(read_bioes(data / "ecommerce" / "dev.bieos", args.ecommerce))
    documents = [doc for doc, _, _ in corpus]
    annotations = {doc.id: (mentions, links) for doc, mentions, links in corpus}
    timings = {}
    start = time.perf_counter()
    record = write_run(out, BuilderConfig("run-real-corpus", extractor="kgpipe/0.1.0 ner=gold kb=none"),
                       documents, annotations)
    timings["build + write (Parquet and N-Triples)"] = time.perf_counter() - start
    start = time.perf_counter()
    report = validate_run(out)
    timings["validate (strict parse + Parquet + SHACL)"] = time.perf_counter() - start
    start = time.perf_counter()
    stats = graph_stats(out)
    timings["graph stats"] = time.perf_counter() - start
    start = time.perf_counter()
    html = write_report(out)
    timings["report"] = time.perf_counter() - start
    print(report.to_text())
    print(f"{record['counts']} -> entity graph {stats['entity_graph']['nodes']:,} nodes, "
          f"{stats['entity_graph']['edges']:,} edges; report {html} ({html.stat().st_size / 1e3:.0f} kB)")
    for name, seconds in timings.items():
        print(f"  {name:<44} {seconds:7.2f} s")
    print(f"  load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return {"counts": record["counts"], "ok": report.ok, "timings": timings}


if __name__ == "__main__":
    main()

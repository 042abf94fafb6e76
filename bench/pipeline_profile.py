"""Stage profile of the pipeline's work on the 1,000 news articles, each stage's core timed alone.

No Beam: the same cores the pipeline's DoFns call, in the pipeline's order, one after the other:
read (TSV -> Documents), windows (sentence split), featurise, model, decode (the tagger's
three steps, windows of 64 Ki-character document buffers cut into calls as
``pipeline.handlers.plan_batches`` does), link, build triples (``kg.assemble.RunAssembler``,
co-occurrence and KB entities included), serialise (Arrow tables + N-Triples text) and write
(zstd Parquet + .nt files), for ``--provenance compact`` and ``full``. Prints a Markdown table.

    .venv/bin/python bench/pipeline_profile.py [--limit N]
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import tempfile
import time
from pathlib import Path

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "news" / "thucnews_1000.tsv"


class Clock:
    """Accumulates seconds per stage name."""

    def __init__(self):
        self.seconds: dict[str, float] = collections.defaultdict(float)

    def time(self, stage: str, fn, *args):
        started = time.perf_counter()
        result = fn(*args)
        self.seconds[stage] += time.perf_counter() - started
        return result


def tag(clock: Clock, tagger, documents, config) -> dict[str, list]:
    """Windows, featurise, model and decode over document buffers, as the handler batches them."""
    from kgpipe.ner.windows import split_windows
    from kgpipe.pipeline.handlers import plan_batches
    from kgpipe.schemas.records import Mention

    mentions: dict[str, list] = {d.id: [] for d in documents}
    buffer, size = [], 0
    for document in [*documents, None]:
        if document is not None and size + len(document.text) <= config.buffer_chars or (document and not buffer):
            buffer.append(document)
            size += len(document.text)
            continue
        windows = clock.time("windows", lambda b: [w for d in b for w in split_windows(d, tagger.max_window_chars)],
                             buffer)
        features = clock.time("featurise", tagger.featurize, [w.text for w in windows])
        calls = plan_batches([len(f) for f in features], tagger.bucket_lengths, config.batch_tokens,
                             config.max_batch_size)
        for length, rows in calls:
            batch = [features[i] for i in rows]
            emissions = clock.time("model", tagger._run, length, batch)
            spans = clock.time("decode", tagger._decode, batch, emissions, None)
            for i, window_spans in zip(rows, spans):
                w = windows[i]
                mentions[w.doc_id] += [Mention(w.doc_id, w.start + s, w.start + e, w.text[s:e], label,
                                               round(score, 4), tagger.version) for s, e, label, score in window_spans]
        buffer, size = ([document], len(document.text)) if document is not None else ([], 0)
    return mentions


def build_and_write(clock: Clock, documents, annotated, linker, provenance, out: Path) -> int:
    """Build triples, serialise and write them (and the records) for one provenance setting."""
    import pyarrow.parquet as pq

    from kgpipe.kg.assemble import RunAssembler, count_pairs
    from kgpipe.kg.builder import BuilderConfig, Provenance
    from kgpipe.kg.export.rdf import ntriples_line
    from kgpipe.schemas import arrow

    suffix = f" ({provenance})"
    assembler = RunAssembler(BuilderConfig("run-profile", provenance=Provenance(provenance)))
    records = clock.time("build triples" + suffix, lambda: [assembler.document(d, m, l) for d, m, l in annotated])

    def aggregates():
        pairs = count_pairs(records)
        ids = sorted({i for r in records for i in r.entity_ids})
        return ([t for i in ids for t in assembler.entity(linker.entity(i))]
                + [t for p in sorted(pairs) for t in assembler.cooccurrence(p, pairs[p])])

    triples = [t for r in records for t in r.triples] + clock.time("build triples" + suffix, aggregates)

    def serialise():
        tables = [arrow.to_table(documents, "r"), arrow.to_table([m for r in records for m in r.mentions], "r"),
                  arrow.to_table([x for r in records for x in r.links], "r"), arrow.to_table(triples, "r")]
        return tables, "".join(map(ntriples_line, triples))

    tables, text = clock.time("serialise" + suffix, serialise)

    def write():
        for k, table in enumerate(tables):
            pq.write_table(table, out / f"{provenance}-{k}.parquet", compression="zstd")
        (out / f"{provenance}.nt").write_text(text, encoding="utf-8")

    clock.time("write" + suffix, write)
    return len(triples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    import kgpipe.kg.assemble  # noqa: F401  (every import up front: a long run must not fail at its end)
    import kgpipe.kg.export.rdf  # noqa: F401
    from kgpipe.linking.linker import EntityLinker, LinkerConfig
    from kgpipe.ner.tagger import MentionTagger
    from kgpipe.pipeline.handlers import NerConfig, default_model_dir
    from kgpipe.pipeline.readers import InputFormat, read_documents
    from kgpipe.schemas.records import Document

    clock = Clock()
    tagger = clock.time("load model", MentionTagger.load, default_model_dir())
    linker = clock.time("load KB", EntityLinker.load, LinkerConfig())
    data = NEWS.read_bytes()
    read = lambda: [r for r in read_documents(io.BytesIO(data), str(NEWS), InputFormat.TSV,  # noqa: E731
                                              tsv_columns=["category", "text"]) if isinstance(r, Document)]
    documents = clock.time("read", read)[:args.limit or None]
    chars = sum(len(d.text) for d in documents)
    mentions = tag(clock, tagger, documents, NerConfig(model_dir=None))
    print(f"so far: {dict(clock.seconds)}", flush=True)
    annotated = clock.time("link", lambda: [(d, mentions[d.id], linker.link(d, mentions[d.id])) for d in documents])
    print(f"so far: {dict(clock.seconds)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        triples = {p: build_and_write(clock, documents, annotated, linker, p, Path(tmp)) for p in ("compact", "full")}
    ner = sum(clock.seconds[s] for s in ("windows", "featurise", "model", "decode"))
    print(f"{len(documents):,} documents, {chars:,} characters; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; triples: compact {triples['compact']:,}, full {triples['full']:,}")
    print("| stage | seconds | share of NER time |\n|---|---|---|")
    for stage, seconds in clock.seconds.items():
        print(f"| {stage} | {seconds:.2f} | {seconds / ner:.0%} |")
    print(f"| NER (windows + featurise + model + decode) | {ner:.2f} | {chars / ner:,.0f} chars/s |")


if __name__ == "__main__":
    main()

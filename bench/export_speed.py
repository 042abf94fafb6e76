"""Export speed: triples/s of the kg writers on a synthetic run of ~1M triples.

Builds synthetic documents, mentions and links (Chinese text, 12 mentions per
document, one in five NIL), turns them into triples with ``TripleBuilder``,
then times, each ``--repeat`` times (median reported):

* the builder itself (records -> ``Triple``),
* Parquet (``ParquetRecordWriter``: zstd, 128 Ki-row groups),
* N-Triples shards (``ShardWriter``: ``ntriples_line`` + streamed write), plain and gzip,
* N-Quads shards (named graph per run),
* for reference, pyoxigraph serialising the same triples (already pyoxigraph
  terms) to N-Triples, and strictly parsing our shard back.

Usage: python bench/export_speed.py [--triples 1000000] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyoxigraph as ox  # noqa: E402

from kgpipe.kg.builder import BuilderConfig, TripleBuilder  # noqa: E402
from kgpipe.kg.export.parquet import ParquetRecordWriter  # noqa: E402
from kgpipe.kg.export.rdf import ShardWriter, ntriples_line, run_graph_iri  # noqa: E402
from kgpipe.schemas.records import Document, Link, Mention, Triple  # noqa: E402

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
_ORGS = ["阿里巴巴", "腾讯", "华为", "小米", "百度", "京东", "网易", "美团", "字节跳动", "中国银行"]
_PLACES = ["北京", "上海", "杭州", "深圳", "广州", "成都", "武汉", "南京", "西安", "重庆"]
_FILLER = "在会议上表示，今年的发展情况良好，并与合作伙伴签署了协议。"


def synthetic_corpus(n_docs: int, seed: int = 7) -> list[tuple[Document, list[Mention], list[Link]]]:
    """Returns documents with 12 mentions each (PER/ORG/LOC), one in five linked to NIL."""
    rng = random.Random(seed)
    corpus = []
    for d in range(n_docs):
        parts, spans, pos = [], [], 0
        for s in range(6):
            for label, name in (("PER", rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN)),
                                (rng.choice(["ORG", "LOC"]), None)):
                name = name or rng.choice(_ORGS if label == "ORG" else _PLACES)
                spans.append((pos, pos + len(name), name, label))
                parts.append(name)
                pos += len(name)
                parts.append("和" if len(spans) % 2 else _FILLER)
                pos += len(parts[-1])
        text = "".join(parts)
        doc = Document(f"doc-{d:07d}", text, source=f"synthetic.jsonl:{d + 1}", metadata={"title": f"新闻{d}"})
        mentions, links = [], []
        for i, (start, end, name, label) in enumerate(spans):
            mentions.append(Mention(doc.id, start, end, name, label, 0.5 + rng.random() / 2, "albert-zh@bench"))
            if i % 5 == 4:
                links.append(Link(doc.id, start, end, name, label, None, rng.random() / 2, nil_key=f"{name}|{label}",
                                  kb_version="kb@bench"))
            else:
                links.append(Link(doc.id, start, end, name, label, f"{label}:{name}", 0.5 + rng.random() / 2,
                                  entity_name=name, entity_types=(label,), kb_version="kb@bench"))
        corpus.append((doc, mentions, links))
    return corpus


def build(corpus, builder: TripleBuilder) -> list[Triple]:
    triples: list[Triple] = []
    for doc, mentions, links in corpus:
        triples += builder.document_triples(doc)
        triples += builder.mention_triples(doc, mentions, links)
    return triples


def timed(fn, repeat: int) -> tuple[tuple[float, float], object]:
    """Returns ((median wall seconds, median CPU seconds of this process), last result).

    CPU time is reported beside wall time because the machine may be shared:
    wall time then includes waiting for a core, CPU time does not.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return (statistics.median(walls), statistics.median(cpus)), result


def _size(paths) -> int:
    return sum(os.path.getsize(p) for p in paths)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="about how many triples (default 1M)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write results as JSON here")
    args = parser.parse_args(argv)

    config = BuilderConfig("run-bench", extractor="kgpipe/0.1.0 ner=albert-zh@bench kb=kb@bench")
    builder = TripleBuilder(config)
    per_doc = len(build(synthetic_corpus(1), builder))
    corpus = synthetic_corpus(max(1, args.triples // per_doc))
    t_build, triples = timed(lambda: build(corpus, builder), args.repeat)
    print(f"load average before: {os.getloadavg()}", flush=True)
    n = len(triples)
    work = Path(tempfile.mkdtemp(prefix="kgbench-"))
    results = {"triples": n, "documents": len(corpus), "rows": []}

    def record(name, seconds, paths=None):
        wall, cpu = seconds
        row = {"step": name, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
               "triples_per_wall_s": round(n / wall), "triples_per_cpu_s": round(n / cpu)}
        if paths:
            row["bytes"] = _size(paths)
        results["rows"].append(row)
        print(f"{name:<48} wall {wall:7.2f} s {n / wall:>11,.0f}/s   cpu {cpu:7.2f} s {n / cpu:>11,.0f}/s" +
              (f"  {row['bytes'] / 1e6:7.1f} MB" if paths else ""), flush=True)

    record("build triples (TripleBuilder)", t_build)

    def parquet():
        shutil.rmtree(work / "pq", ignore_errors=True)
        with ParquetRecordWriter(work / "pq", Triple, "run-bench") as writer:
            writer.write(triples)
        return writer.paths
    seconds, paths = timed(parquet, args.repeat)
    record("Parquet (zstd, 128Ki-row groups)", seconds, paths)

    for name, kwargs in (("N-Triples shards", {}), ("N-Triples shards, gzip", {"compress": True}),
                         ("N-Quads shards (graph per run)", {"graph": run_graph_iri(config.base_iri, config.run_id)})):
        def shards(kwargs=kwargs):
            shutil.rmtree(work / "rdf", ignore_errors=True)
            with ShardWriter(work / "rdf", **kwargs) as writer:
                writer.write_all(triples)
            return writer.paths
        seconds, paths = timed(shards, args.repeat)
        record(name, seconds, paths)
    nt_path = work / "check.nt"
    with ShardWriter(work / "check") as writer:
        writer.write_all(triples)
    nt_path = writer.paths[0]

    seconds, _ = timed(lambda: "".join(map(ntriples_line, triples)), args.repeat)
    record("ntriples_line only (no I/O)", seconds)
    ox_triples = [q.triple for q in ox.parse(path=nt_path, format=ox.RdfFormat.N_TRIPLES)]
    seconds, _ = timed(lambda: ox.serialize(ox_triples, format=ox.RdfFormat.N_TRIPLES), args.repeat)
    record("reference: pyoxigraph.serialize N-Triples", seconds)
    seconds, _ = timed(lambda: sum(1 for _ in ox.parse(path=nt_path, format=ox.RdfFormat.N_TRIPLES)), args.repeat)
    record("reference: pyoxigraph strict parse of our shard", seconds)

    results["machine"] = {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version(),
                          "platform": platform.platform(), "processor": platform.processor() or platform.machine()}
    print(f"\n{n:,} triples from {len(corpus):,} documents; median of {args.repeat}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return results


if __name__ == "__main__":
    main()

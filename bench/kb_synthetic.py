"""Synthetic-KB benchmark: build time, load time, peak RSS and lookups/s of the alias index.

    python bench/kb_synthetic.py --entities 1000000 --aliases-per-entity 2 --work /tmp/kgpipe-bench

Generates a deterministic JSONL KB (random CJK names, Latin and abbreviated
aliases, short descriptions), then runs each phase in a fresh subprocess so
that its peak RSS (``ru_maxrss``) is its own:

* build: ``kgpipe kb build`` (stream, normalise, sort, write the index);
* load: ``AliasIndex.open`` + ``EntityLinker`` construction + one lookup;
* lookups: exact alias lookups/s, fuzzy (misspelt) candidate lookups/s and
  full ``EntityLinker.link`` mentions/s on generated sentences;
* ngram: top-20 n-gram retrieval (``linking.ngram``) per mention/s (wall and process
  CPU) and recall@20 of misspelt keys (one character replaced);
* dictionary (``--dictionary``): Aho-Corasick automaton build time and
  ``detect_mentions`` documents/s.

Wall-clock figures depend on what else runs on the machine; each phase also
reports its process CPU seconds. Prints one JSON object; BENCHMARKS.md records
the figures with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TYPES = ["Organization", "City", "Human", "Product", "Brand", "District", "Country"]


def _name(rng: random.Random, low: int, high: int) -> str:
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(low, high)))


def generate(path: pathlib.Path, entities: int, aliases_per_entity: int, seed: int = 7) -> None:
    """Writes a synthetic KB: ids ``S<n>``, ``1 + aliases_per_entity`` surface forms each."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(entities):
            name = _name(rng, 2, 6)
            aliases = []
            for position in range(aliases_per_entity):
                if position % 2 == 0:
                    aliases.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 10))))
                else:
                    aliases.append(name[0] + _name(rng, 1, 3))
            record = {"id": f"S{number}", "name": name, "aliases": aliases, "types": [rng.choice(TYPES)],
                      "description": _name(rng, 10, 30), "prior": round(rng.random(), 3),
                      "attributes": {"所在地": [_name(rng, 2, 3)]}}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _child(code: str, *args: str) -> dict:
    """Runs ``code`` in a fresh interpreter; returns its JSON result plus its peak RSS."""
    wrapper = (
        "import json, resource, sys, time\n" + code +
        "\nusage = resource.getrusage(resource.RUSAGE_SELF)"
        "\nresult['peak_rss_mib'] = round(usage.ru_maxrss / 1024, 1)"
        "\nresult['process_cpu_seconds'] = round(usage.ru_utime + usage.ru_stime, 2)"
        "\nprint(json.dumps(result))"
    )
    output = subprocess.run([sys.executable, "-c", wrapper, *args], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


BUILD = """
from kgpipe.pipeline.cli import main
started = time.perf_counter()
code = main(["kb", "build", "--input", sys.argv[1], "--out", sys.argv[2], "--json"])
result = {"build_seconds": round(time.perf_counter() - started, 2), "exit": code}
"""

LOAD = """
started = time.perf_counter()
from kgpipe.linking.linker import EntityLinker, LinkerConfig
imported = time.perf_counter()
linker = EntityLinker.load(LinkerConfig(kb_path=sys.argv[1]))
linker.candidates("测试")
result = {"load_seconds": round(time.perf_counter() - imported, 3),
          "import_seconds": round(imported - started, 3), "entities": linker.index.size}
"""

LOOKUPS = """
import random
from kgpipe.linking.linker import EntityLinker, LinkerConfig
from kgpipe.linking.normalize import normalize
from kgpipe.schemas.records import Document, Mention
linker = EntityLinker.load(LinkerConfig(kb_path=sys.argv[1]))
index = linker.index
rng = random.Random(3)
n_keys = len(index.keys)
keys = [index.keys[rng.randrange(n_keys)] for _ in range(20000)]
started = time.perf_counter()
hits = sum(1 for key in keys if index.exact(key))
exact_seconds = time.perf_counter() - started
misspelt = [k[:-1] + chr(0x4E00 + rng.randrange(20000)) for k in keys[:2000] if len(k) >= 4]
started = time.perf_counter()
fuzzy_found = sum(1 for key in misspelt if linker.candidates(key))
fuzzy_seconds = time.perf_counter() - started
docs = []
for number in range(2000):
    entity = index.entity(rng.randrange(index.size))
    surface = entity.name
    text = "据报道，" + surface + "今天宣布了新的计划，" + entity.description[:10]
    docs.append((Document(id=str(number), text=text), [Mention(str(number), 4, 4 + len(surface), surface, "ORG", 1.0, "b")]))
started = time.perf_counter()
for document, mentions in docs:
    linker.link(document, mentions)
link_seconds = time.perf_counter() - started
result = {"exact_lookups_per_second": round(len(keys) / exact_seconds), "exact_hit_rate": hits / len(keys),
          "fuzzy_lookups_per_second": round(len(misspelt) / fuzzy_seconds),
          "fuzzy_found_rate": round(fuzzy_found / len(misspelt), 3),
          "link_mentions_per_second": round(len(docs) / link_seconds)}
"""

NGRAM = """
import random
from kgpipe.linking.index import AliasIndex
index = AliasIndex.open(sys.argv[1])
rng = random.Random(11)
n_keys = len(index.keys)
keys = [index.keys[rng.randrange(n_keys)] for _ in range(5000)]
queries = []
for key in keys:  # one character replaced (CJK keys) or letter (Latin keys), at a random position
    position = rng.randrange(len(key))
    other = chr(0x4E00 + rng.randrange(20000)) if key[position] >= "\u4e00" else rng.choice("abcdefghijklmnopqrstuvwxyz")
    queries.append(key[:position] + other + key[position + 1:])
index.ngrams.search(queries[0], 20)
wall, cpu = time.perf_counter(), time.process_time()
found = [index.ngrams.search(query, 20) for query in queries]
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
positions = [index.keys.find(key) for key in keys]
recall = sum(1 for p, hits in zip(positions, found) if p in {k for k, _ in hits}) / len(keys)
result = {"ngram_top20_mentions_per_second": round(len(queries) / wall),
          "ngram_top20_mentions_per_cpu_second": round(len(queries) / cpu),
          "ngram_recall_at_20_one_char_changed": round(recall, 4),
          "postings_read_per_query": round(index.ngrams.postings_read / len(queries), 1)}
"""

DICTIONARY = """
import random
from kgpipe.linking.linker import EntityLinker, LinkerConfig
from kgpipe.schemas.records import Document
linker = EntityLinker.load(LinkerConfig(kb_path=sys.argv[1], dictionary_mentions=True))
started = time.perf_counter()
linker.detect_mentions(Document(id="warm", text="测试"))
build = time.perf_counter() - started
rng = random.Random(5)
texts = []
for number in range(500):
    names = [linker.index.entity(rng.randrange(linker.index.size)).name for _ in range(3)]
    texts.append("新闻：" + "，以及".join(names) + "在会上发言。" * 3)
started = time.perf_counter()
found = sum(len(linker.detect_mentions(Document(id=str(i), text=t))) for i, t in enumerate(texts))
seconds = time.perf_counter() - started
result = {"automaton_build_seconds": round(build, 2), "documents_per_second": round(len(texts) / seconds),
          "mentions_found": found}
"""


def _du(path: pathlib.Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--aliases-per-entity", type=int, default=2, help="besides the name")
    parser.add_argument("--work", default="/tmp/kgpipe-kb-bench")
    parser.add_argument("--keep", action="store_true", help="reuse an existing generated KB")
    parser.add_argument("--dictionary", action="store_true", help="also time the Aho-Corasick mention detector")
    args = parser.parse_args(argv)
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    kb = work / f"synthetic_{args.entities}.jsonl"
    if not (args.keep and kb.exists()):
        started = time.perf_counter()
        generate(kb, args.entities, args.aliases_per_entity)
        print(f"generated {kb} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    out = work / f"index_{args.entities}"
    report = {"entities": args.entities, "surface_forms": args.entities * (1 + args.aliases_per_entity),
              "kb_file_mib": round(kb.stat().st_size / 2**20, 1), "cpus": os.cpu_count()}
    report["build"] = _child(BUILD, str(kb), str(out))
    report["index_mib"] = _du(out)
    report["load"] = _child(LOAD, str(out))
    report["lookups"] = _child(LOOKUPS, str(out))
    report["ngram"] = _child(NGRAM, str(out))
    if args.dictionary:
        report["dictionary"] = _child(DICTIONARY, str(out))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Linking time of one long document vs the same text as many documents (default KB and linker).

    python bench/link_long_document.py --chars 340000 --parts 1000    # ~1 MB of UTF-8

The text is the bundled gold set's documents (tests/linking/data/gold.jsonl) in turn, with their
gold mentions shifted along, cut into ``parts`` equal parts or kept as one document, so both runs link exactly the same mentions against the bundled KB.
Prints wall and process-CPU seconds per run, characters per CPU-second, the ratio of the
per-character CPU time (one document / many documents) and the coherence operation counts.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _corpus(chars: int, parts: int):
    from kgpipe.linking.evaluation import read_gold
    from kgpipe.schemas.records import Document, Mention

    gold = list(read_gold(ROOT / "tests" / "linking" / "data" / "gold.jsonl"))
    part_text, part_mentions, position = "", [], 0
    while len(part_text) < chars // parts:  # gold documents in turn until a part is long enough
        item = gold[position % len(gold)]
        base = len(part_text)
        part_mentions += [(m.start + base, m.end + base, m.label) for m in item.mentions]
        part_text += item.document.text
        position += 1

    def document(doc_id: str, copies: int):
        text = part_text * copies
        mentions = [Mention(doc_id, s + c * len(part_text), e + c * len(part_text), text[s:e], label, 1.0, "b")
                    for c in range(copies) for s, e, label in part_mentions]
        return Document(doc_id, text), mentions

    return document("whole", parts), [document(f"p{i}", 1) for i in range(parts)]


def _time(linker, documents) -> dict:
    linker.coherence_operations = 0
    wall, cpu = time.perf_counter(), time.process_time()
    links = sum(len(linker.link(document, mentions)) for document, mentions in documents)
    return {"links": links, "wall_seconds": round(time.perf_counter() - wall, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2), "coherence_operations": linker.coherence_operations}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=1000)
    args = parser.parse_args(argv)
    from kgpipe.linking.linker import EntityLinker, LinkerConfig

    linker = EntityLinker.load(LinkerConfig())
    whole, parts = _corpus(args.chars, args.parts)
    report = {"chars": len(whole[0].text), "utf8_bytes": len(whole[0].text.encode("utf-8")),
              "mentions": len(whole[1]), "load_average_before": os.getloadavg()}
    _time(linker, parts[:20])  # warm caches (entity vectors) for both runs alike
    report["many_documents"] = _time(linker, parts)
    report["one_document"] = _time(linker, [whole])
    report["cpu_ratio_one_vs_many"] = round(report["one_document"]["cpu_seconds"] /
                                            max(1e-9, report["many_documents"]["cpu_seconds"]), 3)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CHIP-CDN dev-slice linking: exact-only, + fuzzy/n-gram retrieval, + trained ranker, rapidfuzz baseline.

    python bench/link_chip_cdn.py --kb runs/link_chip_cdn/kb_index --linker runs/link_chip_cdn/linker_v1 \
        --gold ../shared/data/chip_cdn/train.json --range 5000:

All four run in one process on the same mentions (the dev slice: the tail of train.json, never
used to fit or calibrate). Scoring: a mention is right when its top prediction is any of its
gold targets (``##``-joined names; a name several ICD rows share is one target); gold names the
KB lacks are dropped (``--unknown-gold nil``), and a mention left without targets is gold NIL.
recall@k: a gold target among the first k candidates (for n-gram retrieval alone: the first k
by retrieval score). The rapidfuzz baseline takes the best plain-ratio (and, on the first 200
mentions, WRatio) match of the whole text over every KB name and never answers NIL. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _recall(ranked_ids: list[list[str]], gold, ks=(1, 5, 20)) -> dict:
    in_kb = [(ids, groups) for ids, groups in zip(ranked_ids, gold) if groups]
    out = {}
    for k in ks:
        hits = sum(1 for ids, groups in in_kb if set(ids[:k]) & frozenset().union(*groups))
        out[f"recall@{k}"] = round(hits / max(1, len(in_kb)), 4)
    return out


def _linker_row(linker, documents, gold) -> dict:
    from kgpipe.linking.evaluation import score

    started = time.perf_counter()
    links = [link for item in documents for link in linker.link(item.document, item.mentions)]
    seconds = time.perf_counter() - started
    scores = score(list(zip(gold, links)), k=20, seconds=seconds, set_threshold=linker.set_threshold)
    row = {key: getattr(scores, key) for key in ("accuracy", "in_kb_accuracy", "nil_precision", "nil_recall",
                                                 "set_precision", "set_recall", "set_f1", "mentions_per_second")}
    row["predicted_nil"] = sum(1 for link in links if link.is_nil)
    row.update(_recall([[c.entity_id for c in link.alternatives] for link in links], gold))
    return row


def _rapidfuzz_rows(index, documents, gold, wratio_mentions: int = 200) -> dict:
    from rapidfuzz import fuzz, process

    names = [index.tables["entity_names"][i] for i in range(index.size)]
    ids = [index.entity_id(i) for i in range(index.size)]
    rows = {}
    # WRatio is ~20x slower than ratio over 40k names: scored on the first `wratio_mentions` only.
    for scorer_name, scorer, count in (("ratio", fuzz.ratio, len(documents)), ("WRatio", fuzz.WRatio, wratio_mentions)):
        started = time.perf_counter()
        best = [process.extractOne(item.document.text, names, scorer=scorer)[2] for item in documents[:count]]
        seconds = time.perf_counter() - started
        right = sum(1 for b, groups in zip(best, gold) if groups and ids[b] in frozenset().union(*groups))
        rows[f"rapidfuzz_{scorer_name}"] = {"accuracy": round(right / len(best), 4), "mentions": len(best),
                                            "mentions_per_second": round(len(best) / seconds, 1)}
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", required=True, help="index directory of the ICD-10 KB")
    parser.add_argument("--linker", required=True, help="linker directory from `kgpipe link train`")
    parser.add_argument("--gold", required=True, help="CHIP-CDN train.json")
    parser.add_argument("--range", default="5000:", help="dev slice START:END of train.json")
    args = parser.parse_args(argv)
    from kgpipe.linking.gold_formats import GoldFormat, GoldStats, UnknownGold, load_gold
    from kgpipe.linking.linker import EntityLinker, LinkerConfig
    from kgpipe.linking.normalize import normalize
    from kgpipe.pipeline.commands.link import _range

    exact = EntityLinker.load(LinkerConfig(kb_path=args.kb, fuzzy=False, ngram_candidates=0, top_k=20))
    stats = GoldStats()
    documents = load_gold(args.gold, GoldFormat.CHIP_CDN, exact.index, UnknownGold.NIL, _range(args.range), stats)
    gold = [groups for item in documents for groups in item.target_groups()]
    report = {"mentions": len(gold), "gold_nil_mentions": stats.nil_mentions,
              "unknown_gold_targets": f"{stats.unknown_targets} of {stats.targets}",
              "load_average": os.getloadavg(), "cpus": os.cpu_count()}
    report["exact_only"] = _linker_row(exact, documents, gold)
    unsupervised = EntityLinker.load(LinkerConfig(kb_path=args.kb, top_k=20, ngram_candidates=20))
    report["unsupervised_fuzzy_ngram"] = _linker_row(unsupervised, documents, gold)
    trained = EntityLinker.load(LinkerConfig(linker_dir=args.linker, top_k=20))
    featurizer = trained._scorer.featurizer
    retrieval = [[trained.index.entity_id(c.entity_index) for c in featurizer.candidates(normalize(item.document.text))[0]]
                 for item in documents]
    report["ngram_retrieval_only"] = _recall(retrieval, gold, ks=(1, 5, 20, 50))
    report["trained_ranker"] = _linker_row(trained, documents, gold)
    report["trained_ranker"]["model"] = trained._scorer.spec.model
    report.update(_rapidfuzz_rows(exact.index, documents, gold))
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

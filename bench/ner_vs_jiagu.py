"""MSRA test, side by side: the kgpipe NER model vs Jiagu 0.2.3 (``jiagu.seg`` then ``jiagu.ner``).

Entity-level micro P/R/F1 (exact span and type) and chars/s, both on the same sentences and
machine. Jiagu tags words (BIO over ``jiagu.seg`` output); its word spans map to characters.
Note: Jiagu's NER model was trained on data including this test set (per its docs).

    python bench/ner_vs_jiagu.py --model ner/default_model --data ../shared/data/msra/test.txt
"""

from __future__ import annotations

import argparse
import json
import platform
import time


def jiagu_spans(texts):
    import jiagu

    from kgpipe.ner.schemes import tags_to_spans

    out = []
    for text in texts:
        words = jiagu.seg(text)
        tags = jiagu.ner(words)
        starts, pos = [], 0
        for word in words:
            pos = text.find(word, pos)
            starts.append(pos)
            pos += len(word)
        out.append([(starts[s], starts[e - 1] + len(words[e - 1]), label)
                    for s, e, label in tags_to_spans(tags)])
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ner/default_model")
    parser.add_argument("--data", default="../shared/data/msra/test.txt")
    parser.add_argument("--limit", type=int, default=0, help="first N sentences only")
    parser.add_argument("--skip-jiagu", action="store_true")
    args = parser.parse_args(argv)

    from kgpipe.ner.data import read_examples, split_long
    from kgpipe.ner.evaluation import entity_scores
    from kgpipe.ner.tagger import MentionTagger

    examples = read_examples(args.data)
    if args.limit:
        examples = examples[:args.limit]
    tagger = MentionTagger.load(args.model)
    pieces = [p for ex in examples for p in split_long(ex, tagger.max_window_chars)]
    texts, gold = [p.text for p in pieces], [p.spans for p in pieces]
    chars = sum(len(t) for t in texts)
    tagger.predict_spans(texts[:64])  # warm up (tracing) outside the timing
    results = {}
    t0 = time.perf_counter()
    ours = tagger.predict_spans(texts)
    seconds = time.perf_counter() - t0
    labels = {label for spans in gold for _, _, label in spans}
    ours = [[s for s in spans if s[2] in labels] for spans in ours]
    results["kgpipe"] = {**entity_scores(gold, ours).to_dict(), "seconds": seconds,
                         "chars_per_second": chars / seconds, "model": tagger.version}
    if not args.skip_jiagu:
        import jiagu
        jiagu_spans(texts[:2])  # loads its models outside the timing
        t0 = time.perf_counter()
        theirs = jiagu_spans(texts)
        seconds = time.perf_counter() - t0
        results["jiagu-0.2.3"] = {**entity_scores(gold, theirs).to_dict(), "seconds": seconds,
                                  "chars_per_second": chars / seconds}
    results["conditions"] = {"sentences": len(texts), "chars": chars, "data": args.data,
                             "machine": f"{platform.processor() or platform.machine()}, "
                                        f"{__import__('os').cpu_count()} cores (shared), CPU only"}
    print(json.dumps(results, indent=2))
    for name in ("kgpipe", "jiagu-0.2.3"):
        if name in results:
            r = results[name]
            per = " ".join(f"{k} {v['f1']:.4f}" for k, v in r["per_type"].items())
            print(f"| {name} | {r['micro']['precision']:.4f} | {r['micro']['recall']:.4f} | "
                  f"{r['micro']['f1']:.4f} | {per} | {r['chars_per_second']:,.0f} |")


if __name__ == "__main__":
    main()

"""MSRA test, interleaved: the kgpipe NER model vs Jiagu 0.2.3 (``jiagu.seg`` then ``jiagu.ner``),
and Baidu LAC when it is installed.

The sentences are cut into ``--rounds`` slices; every round runs each tool on one slice, in an
order that rotates between rounds, so the load of a shared machine hits all tools alike. The
ratio of kgpipe's chars/s to each peer's is taken within each round (median reported) and over
the whole run (total time). Accuracy is entity-level micro P/R/F1 (exact span and type) over all
slices of the first pass. Jiagu tags words (BIO over ``jiagu.seg`` output); its word spans map to characters.
Note: Jiagu's NER model was trained on data including this test set (per its docs).

    python bench/ner_vs_jiagu.py --model ner/default_model --data ../shared/data/msra/test.txt
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time


def word_spans(text, words, tags):
    """Word-level BIO/BIOES tags -> character spans ``(start, end, label)``."""
    from kgpipe.ner.schemes import tags_to_spans

    starts, pos = [], 0
    for word in words:
        pos = text.find(word, pos)
        starts.append(pos)
        pos += len(word)
    return [(starts[s], starts[e - 1] + len(words[e - 1]), label)
            for s, e, label in tags_to_spans(tags)]


def jiagu_spans(texts):
    import jiagu

    out = []
    for text in texts:
        words = jiagu.seg(text)
        out.append(word_spans(text, words, jiagu.ner(words)))
    return out


LAC_LABELS = {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}


def lac_tool():
    """Baidu LAC's lexical analysis (words + tags), or None when LAC is not installed."""
    try:
        from LAC import LAC
    except ImportError:
        return None
    lac = LAC(mode="lac")

    def spans(texts):
        out = []
        for text, (words, tags) in zip(texts, lac.run(list(texts))):
            out.append([(s, e, LAC_LABELS[label]) for s, e, label in
                        word_spans(text, words, [f"B-{t}" if t in LAC_LABELS else "O" for t in tags])])
        return out

    return spans


def kgpipe_tool(tagger, labels, heads=None):
    def spans(texts):
        tagger._cache.clear()  # cold: tokenisation counts in every round
        return [[s[:3] for s in found if s[2] in labels]
                for found in tagger.predict_spans(texts, heads=heads)]

    return spans


def run_rounds(tools, texts, rounds, passes):
    """Times each tool per round on one slice of ``texts`` (``rounds`` slices cover them all),
    rotating the tools' order between rounds; ``passes`` repeats the whole sequence.

    Returns:
        (one row per round with each tool's chars/s, each tool's output over all texts from
        the first pass, each tool's total wall seconds, each tool's total CPU seconds).
    """
    names, rows = list(tools), []
    outputs = {name: [] for name in names}
    seconds = {name: 0.0 for name in names}
    cpu = {name: 0.0 for name in names}  # process CPU time: all threads, load-independent
    slices = [texts[k * len(texts) // rounds:(k + 1) * len(texts) // rounds] for k in range(rounds)]
    for p in range(passes):
        for r, part in enumerate(slices):
            shift = (p * rounds + r) % len(names)
            order = names[shift:] + names[:shift]
            row = {"round": p * rounds + r + 1, "order": order,
                   "load_1min": round(os.getloadavg()[0], 2)}
            chars = sum(len(t) for t in part)
            for name in order:
                t0, c0 = time.perf_counter(), time.process_time()
                result = tools[name](part)
                elapsed = time.perf_counter() - t0
                cpu[name] += time.process_time() - c0
                row[name], seconds[name] = round(chars / elapsed), seconds[name] + elapsed
                if p == 0:
                    outputs[name] += result
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows, outputs, seconds, cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ner/default_model")
    parser.add_argument("--data", default="../shared/data/msra/test.txt")
    parser.add_argument("--limit", type=int, default=0, help="first N sentences only")
    parser.add_argument("--rounds", type=int, default=10,
                        help="slices of the data, one per round (each tool runs each slice)")
    parser.add_argument("--passes", type=int, default=1, help="times over all rounds")
    parser.add_argument("--runtime", default=None, help="MentionTagger runtime (default: automatic)")
    parser.add_argument("--with-head", action="append", default=[],
                        help="also time the model decoding only this head (repeatable), e.g. msra")
    parser.add_argument("--with-tensorflow", action="store_true",
                        help="also time the same model on the TensorFlow runtime")
    args = parser.parse_args(argv)

    from kgpipe.ner.data import read_examples, split_long
    from kgpipe.ner.evaluation import entity_scores
    from kgpipe.ner.tagger import MentionTagger

    examples = read_examples(args.data)[:args.limit or None]
    tagger = MentionTagger.load(args.model, runtime=args.runtime)
    pieces = [p for ex in examples for p in split_long(ex, tagger.max_window_chars)]
    texts, gold = [p.text for p in pieces], [p.spans for p in pieces]
    labels = {label for spans in gold for _, _, label in spans}
    tools = {f"kgpipe-{tagger.runtime}": kgpipe_tool(tagger, labels), "jiagu-0.2.3": jiagu_spans}
    if args.with_head:  # the same model decoding only the head(s) for the test's labels
        name = f"kgpipe-{tagger.runtime}-{'+'.join(args.with_head)}-head"
        tools[name] = kgpipe_tool(tagger, labels, heads=args.with_head)
    if args.with_tensorflow and tagger.runtime != "tensorflow":
        tf_tagger = MentionTagger.load(args.model, runtime="tensorflow")
        tools["kgpipe-tensorflow"] = kgpipe_tool(tf_tagger, labels)
    lac = lac_tool()
    if lac is not None:
        tools["lac"] = lac
    for tool in tools.values():
        tool(texts[:256])  # loads models, traces graphs, builds automata outside the timing
    rows, outputs, seconds, cpu = run_rounds(tools, texts, args.rounds, args.passes)
    ours = f"kgpipe-{tagger.runtime}"
    chars = sum(len(t) for t in texts) * args.passes
    summary = {}
    for name in tools:
        scores = entity_scores(gold, outputs[name]).to_dict()
        speeds = [row[name] for row in rows]
        summary[name] = {"micro": scores["micro"], "per_type": scores["per_type"],
                         "chars_per_second_total": round(chars / seconds[name]),
                         "chars_per_cpu_second": round(chars / cpu[name]),
                         "chars_per_second_median": round(statistics.median(speeds)),
                         "chars_per_second_rounds": speeds}
        if name != ours:
            ratios = [row[ours] / row[name] for row in rows]
            summary[name]["kgpipe_ratio_median"] = round(statistics.median(ratios), 3)
            summary[name]["kgpipe_ratio_total"] = round(seconds[name] / seconds[ours], 3)
            summary[name]["kgpipe_ratio_rounds"] = [round(x, 3) for x in ratios]
    summary["conditions"] = {
        "sentences": len(texts), "chars": sum(len(t) for t in texts), "data": args.data,
        "model": tagger.version, "runtime": tagger.runtime, "rounds": args.rounds,
        "passes": args.passes,
        "load_1min_per_round": [row["load_1min"] for row in rows],
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores "
                   "(shared with other jobs), CPU only",
        "time_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    print(json.dumps(summary, indent=2))
    for name in tools:
        r = summary[name]
        per = " ".join(f"{k} {v['f1']:.4f}" for k, v in r["per_type"].items())
        ratio = r.get("kgpipe_ratio_median", 1.0)
        print(f"| {name} | {r['micro']['precision']:.4f} | {r['micro']['recall']:.4f} | "
              f"{r['micro']['f1']:.4f} | {per} | {r['chars_per_second_total']:,} | {ratio:.2f} |")


if __name__ == "__main__":
    main()

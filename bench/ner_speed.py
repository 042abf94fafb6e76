"""NER stage speed on CPU: chars/s of ``MentionTagger.predict_spans`` by batch size, with the time
split into featurisation (tokenizer, bigrams, lexicon), the model call (ONNX Runtime or
TensorFlow, ``--runtime``), and numpy decoding.

    python bench/ner_speed.py --model ner/default_model --data ../shared/data/msra/test.txt
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ner/default_model")
    parser.add_argument("--data", default="../shared/data/msra/test.txt")
    parser.add_argument("--batch-sizes", default="16,64,256")
    parser.add_argument("--limit", type=int, default=2000, help="sentences")
    parser.add_argument("--breakdown-batch-size", type=int, default=256)
    parser.add_argument("--runtime", default=None, help="MentionTagger runtime (default: automatic)")
    args = parser.parse_args(argv)

    import numpy as np

    from kgpipe.ner.data import read_examples, split_long
    from kgpipe.ner.tagger import MentionTagger

    tagger = MentionTagger.load(args.model, runtime=args.runtime)
    examples = read_examples(args.data)[:args.limit]
    texts = [p.text for ex in examples for p in split_long(ex, tagger.max_window_chars)]
    chars = sum(len(t) for t in texts)
    tagger.predict_spans(texts[:256], batch_size=256)  # trace buckets, build the automata
    tagger.predict_spans([(t * 4)[:tagger.max_window_chars] for t in texts[:8]], batch_size=8)
    rows = []
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        tagger._cache.clear()  # cold: featurisation counts in every row
        t0 = time.perf_counter()
        tagger.predict_spans(texts, batch_size=batch_size)
        total = time.perf_counter() - t0
        rows.append({"batch_size": batch_size, "chars_per_second": round(chars / total)})
    # Breakdown at the breakdown batch size, batched exactly as predict_spans does.
    t0 = time.perf_counter()
    tagger._cache.clear()
    features = tagger.featurize(texts)
    featurise = time.perf_counter() - t0
    model_s = decode_s = 0.0
    padded = 0
    for width, chunk in tagger._batches(features, args.breakdown_batch_size):
        batch = [features[i] for i in chunk]
        padded += width * len(batch)
        t0 = time.perf_counter()
        emissions = tagger._run(width, batch)
        t1 = time.perf_counter()
        tagger._decode(batch, emissions, None)
        model_s += t1 - t0
        decode_s += time.perf_counter() - t1
    real = sum(len(f) for f in features)
    result = {"chars": chars, "sentences": len(texts), "runtime": tagger.runtime,
              "by_batch_size": rows,
              "breakdown_batch_size": args.breakdown_batch_size,
              "breakdown_seconds": {"featurise": round(featurise, 3), "model": round(model_s, 3),
                                    "decode": round(decode_s, 3)},
              "padding_overhead": round(padded / real - 1, 3), "buckets": tagger.bucket_lengths,
              "cpu_count": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2),
              "model": tagger.version}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

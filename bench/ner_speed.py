"""NER stage speed on CPU: chars/s of ``MentionTagger.predict_spans`` by batch size, with the time
split into featurisation (tokenizer, bigrams, lexicon), the TF model, and numpy decoding.

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
    args = parser.parse_args(argv)

    import numpy as np

    from kgpipe.ner.data import read_examples, split_long
    from kgpipe.ner.tagger import MentionTagger

    tagger = MentionTagger.load(args.model)
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
    # Breakdown at batch size 64.
    t0 = time.perf_counter()
    tagger._cache.clear()
    features = tagger.featurize(texts)
    featurise = time.perf_counter() - t0
    order = sorted(range(len(texts)), key=lambda i: len(features[i]))
    model_s = decode_s = 0.0
    for k in range(0, len(order), 64):
        batch = [features[i] for i in order[k:k + 64]]
        bucket = tagger.bucket_for(max(len(f) for f in batch))
        t0 = time.perf_counter()
        emissions = tagger._run(bucket, batch)
        t1 = time.perf_counter()
        tagger._decode(batch, emissions, None)
        model_s += t1 - t0
        decode_s += time.perf_counter() - t1
    padded = sum(tagger.bucket_for(len(f)) for f in features)
    real = sum(len(f) for f in features)
    result = {"chars": chars, "sentences": len(texts), "by_batch_size": rows,
              "breakdown_seconds_batch64": {"featurise": round(featurise, 3),
                                            "model": round(model_s, 3), "decode": round(decode_s, 3)},
              "padding_overhead": round(padded / real - 1, 3), "buckets": tagger.bucket_lengths,
              "cpu_count": os.cpu_count(), "tf_threads": "default", "model": tagger.version}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

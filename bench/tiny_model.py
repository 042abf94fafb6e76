"""Writes a tiny random NER model directory (same format as the bundled model) for pipeline benches.

For measuring the pipeline's own behaviour (memory against corpus size) when the real model would
take hours on a loaded machine: the graph, windows, batching, linking and writing are the same;
only the model is small (embeddings 8, BiLSTM 8, windows up to 126 characters) and its mentions
random, with emission biases pushed so it tags a realistic share of characters.

    .venv/bin/python bench/tiny_model.py OUT_DIR [--texts ../shared/data/news/thucnews_1000.tsv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "news" / "thucnews_1000.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--texts", default=str(NEWS))
    args = parser.parse_args()
    import keras

    from kgpipe.ner.albert import AlbertConfig
    from kgpipe.ner.config import HeadConfig, NerConfig
    from kgpipe.ner.features import BigramVocab, Featurizer
    from kgpipe.ner.lexicon import build_lexicon
    from kgpipe.ner.model import NerModel
    from kgpipe.ner.model_dir import save_model_dir
    from kgpipe.ner.tokenizer import Tokenizer

    keras.utils.set_random_seed(1)
    texts = [line.split("\t", 1)[-1] for line in Path(args.texts).read_text("utf-8").splitlines()[:200]]
    tokenizer = Tokenizer.build(texts, min_word_count=1)
    bigrams = BigramVocab.build(texts, tokenizer, min_count=5)
    lexicon = build_lexicon(use_jieba=False, extra={"LOC": ["北京", "上海"], "ORG": ["华为"]})
    lexicon.uses_jieba = False
    featurizer = Featurizer(tokenizer, bigrams, lexicon)
    albert = AlbertConfig(vocab_size=len(tokenizer), embedding_size=8, hidden_size=8, num_hidden_layers=1,
                          num_attention_heads=2, intermediate_size=16, max_position_embeddings=128)
    config = NerConfig(albert=albert, heads=(HeadConfig("news", ("LOC", "ORG", "PER")),),
                       bigram_vocab_size=len(bigrams), bigram_dim=4, lexicon_dim=featurizer.lexicon_dim,
                       lstm_units=8, max_sequence_length=128, bucket_lengths=(32, 64, 128), name="tiny-bench")
    model = NerModel(config)
    model.build_all()
    for head_config in config.heads:  # Favour "O" so the random model tags a few percent of characters.
        kernel, bias = model.heads[head_config.name].emission.weights
        tags = list(head_config.tags)
        bias.assign(np.array([3.2 if tag == "O" else 0.0 for tag in tags], "float32"))
        kernel.assign(np.random.default_rng(0).normal(0, 1, kernel.shape).astype("float32"))
    print(save_model_dir(args.out, model, featurizer))


if __name__ == "__main__":
    main()

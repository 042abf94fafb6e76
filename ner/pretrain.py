"""Pre-trained character and bigram embeddings from unlabelled text (word2vec skip-gram).

A from-scratch tagger only ever sees the characters and bigrams of its annotated sentences; names
in new text are made of bigrams it has never seen. Skip-gram vectors trained on every text we
have (the training sentences plus any unlabelled text: raw news, product titles) give those rows
a meaningful starting point, and the vocabularies are built over the same text, so bigrams seen
only in unlabelled text get a vector instead of ``<unk>``.

The vectors are trained over the featurizer's own ids (token id and bigram id sequences), so rows
line up with the model's embedding tables by construction. gensim does the training.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Iterable, Iterator, Sequence

import numpy as np

from kgpipe.ner.features import BIGRAM_PAD, Featurizer, bigrams
from kgpipe.ner.tokenizer import normalize_text

log = logging.getLogger("kgpipe.ner.training.pretrain")  # into the training log


def read_texts(path: str | os.PathLike) -> Iterator[str]:
    """Texts of an unlabelled file: JSON lines (``text`` field), TSV (last column) or plain lines."""
    path = os.fspath(path)
    opener = open
    if path.endswith(".gz"):
        import gzip
        opener = gzip.open
    name = path[:-3] if path.endswith(".gz") else path
    with opener(path, "rt", encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if name.endswith((".jsonl", ".json")):
                try:
                    text = json.loads(line).get("text")
                except (ValueError, AttributeError) as e:
                    raise ValueError(f"{path}:{line_number}: not a JSON object with a 'text' "
                                     f"field: {e}") from None
                if not isinstance(text, str):
                    raise ValueError(f"{path}:{line_number}: 'text' must be a string")
            elif name.endswith(".tsv"):
                text = line.rsplit("\t", 1)[-1]
            else:
                text = line
            if text.strip():
                yield text


def _id_sequences(texts: Iterable[str], featurizer: Featurizer):
    """(token id strings, bigram id strings) per text, without the special positions."""
    tokenizer, index = featurizer.tokenizer, featurizer.bigram_vocab.index
    for text in texts:
        encoding = tokenizer.encode(text)
        if not len(encoding):
            continue
        norm = normalize_text(text)
        strings = [norm[s:e] for s, e in encoding.offsets]
        bigram_ids = [index.get(b) for b in bigrams(strings)]
        yield ([str(i) for i in encoding.ids],
               [str(i) for i in bigram_ids if i is not None and i != BIGRAM_PAD])


def _skipgram(sentences: list[list[str]], size: int, rows: int, *, epochs: int, window: int,
              sample: float, seed: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for ids ``0..rows-1`` and a mask of the rows that got one."""
    from gensim.models import Word2Vec

    model = Word2Vec(sentences=sentences, vector_size=size, window=window, min_count=1, sg=1,
                     negative=5, sample=sample, epochs=epochs, seed=seed, workers=workers)
    matrix = np.zeros((rows, size), np.float32)
    covered = np.zeros(rows, bool)
    for key, i in model.wv.key_to_index.items():
        row = int(key)
        if 0 <= row < rows:
            matrix[row] = model.wv.vectors[i]
            covered[row] = True
    return matrix, covered


def pretrain_embeddings(texts: Sequence[str], featurizer: Featurizer, *, char_dim: int,
                        bigram_dim: int, epochs: int = 5, window: int = 5, sample: float = 1e-4,
                        seed: int = 13, workers: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Skip-gram vectors for the featurizer's tokens and bigrams.

    Returns ``{"tokens": (matrix, covered), "bigrams": (matrix, covered)}`` with one row per
    token id / bigram id; ``covered[i]`` is False for ids that never occurred (keep their
    random initialisation). ``sample``: word2vec's down-sampling of frequent ids (0: none).
    """
    t0 = time.time()
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    tokens, bigram_seqs = [], []
    for token_seq, bigram_seq in _id_sequences(texts, featurizer):
        tokens.append(token_seq)
        bigram_seqs.append(bigram_seq)
    out = {
        "tokens": _skipgram(tokens, char_dim, len(featurizer.tokenizer), epochs=epochs,
                            window=window, sample=sample, seed=seed, workers=workers),
        "bigrams": _skipgram(bigram_seqs, bigram_dim, len(featurizer.bigram_vocab),
                             epochs=epochs, window=window, sample=sample, seed=seed,
                             workers=workers),
    }
    log.info("pre-trained embeddings on %d texts (%d tokens) in %.0fs: %d/%d tokens, %d/%d bigrams",
             len(tokens), sum(map(len, tokens)), time.time() - t0,
             out["tokens"][1].sum(), len(featurizer.tokenizer),
             out["bigrams"][1].sum(), len(featurizer.bigram_vocab))
    return out


def scaled_like(initial: np.ndarray, vectors: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """``initial`` with its covered rows replaced by ``vectors`` rescaled to ``initial``'s std."""
    out = np.array(initial, np.float32, copy=True)
    if covered.any():
        source = vectors[covered]
        scale = float(np.std(initial)) / max(float(np.std(source)), 1e-12)
        out[covered] = source * scale
    return out


def save(path, pretrained: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    arrays = {}
    for name, (matrix, covered) in pretrained.items():
        arrays[f"{name}_vectors"], arrays[f"{name}_covered"] = matrix, covered
    np.savez(path, **arrays)


def load(path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    with np.load(path) as data:
        names = {key.rsplit("_", 1)[0] for key in data.files}
        return {name: (data[f"{name}_vectors"], data[f"{name}_covered"]) for name in names}

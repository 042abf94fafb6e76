"""Model inputs for one text: token ids, bigram ids, lexicon features, and token offsets.

Sequences carry ``[CLS]`` first and ``[SEP]`` last (ALBERT convention), so a text of ``n`` tokens
gives arrays of length ``n + 2``; offsets cover the ``n`` content tokens only.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Iterable, Sequence

import numpy as np

from kgpipe.ner.lexicon import Lexicon
from kgpipe.ner.tokenizer import Encoding, Tokenizer, normalize_text

BIGRAM_PAD, BIGRAM_UNK, BIGRAM_BOUNDARY = 0, 1, 2
_BIGRAM_SPECIALS = ("<pad>", "<unk>", "<s>")


@dataclasses.dataclass(frozen=True)
class Features:
    """Inputs for one text.

    Attributes:
        token_ids: int32 [n + 2].
        bigram_ids: int32 [n + 2], id of (token i, token i + 1); boundary id at the ends.
        lexicon: float16 [n + 2, lexicon_dim] (zeros at the special positions).
        offsets: ``(start, end)`` character offsets of the n content tokens.
    """

    token_ids: np.ndarray
    bigram_ids: np.ndarray
    lexicon: np.ndarray
    offsets: tuple[tuple[int, int], ...]

    def __len__(self) -> int:
        return len(self.token_ids)


def token_strings(text: str, encoding: Encoding) -> list[str]:
    norm = normalize_text(text)
    return [norm[s:e] for s, e in encoding.offsets]


def bigrams(strings: Sequence[str]) -> list[str]:
    return [a + "\x00" + b for a, b in zip(strings, list(strings[1:]) + ["</s>"])]


class BigramVocab:
    """Bigram string -> id; 0 pad, 1 unknown, 2 sequence boundary."""

    def __init__(self, bigram_list: Sequence[str]):
        self.bigrams = tuple(bigram_list)
        self.index = {b: i for i, b in enumerate(self.bigrams)}

    def __len__(self) -> int:
        return len(self.bigrams)

    @classmethod
    def build(cls, texts: Iterable[str], tokenizer: Tokenizer, *, min_count: int = 2,
              max_size: int = 50000) -> "BigramVocab":
        counts = collections.Counter()
        for text in texts:
            counts.update(bigrams(token_strings(text, tokenizer.encode(text))))
        kept = [b for b, n in counts.most_common(max_size - len(_BIGRAM_SPECIALS)) if n >= min_count]
        return cls(list(_BIGRAM_SPECIALS) + kept)

    def save(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(b.replace("\x00", "\t") + "\n" for b in self.bigrams)

    @classmethod
    def load(cls, path) -> "BigramVocab":
        with open(path, encoding="utf-8") as f:
            return cls([line.rstrip("\n").replace("\t", "\x00") for line in f])


class Featurizer:
    """Turns text into ``Features`` with a tokenizer, a bigram vocabulary and a lexicon."""

    def __init__(self, tokenizer: Tokenizer, bigram_vocab: BigramVocab, lexicon: Lexicon | None,
                 gazetteer: Lexicon | None = None, word_vectors=None):
        self.tokenizer = tokenizer
        self.bigram_vocab = bigram_vocab
        self.lexicon = lexicon
        self.gazetteer = gazetteer
        self.word_vectors = word_vectors  # ner.word_vectors.WordVectors or None

    @property
    def _char_feature_sources(self):
        return [x for x in (self.lexicon, self.gazetteer, self.word_vectors) if x is not None]

    @property
    def lexicon_dim(self) -> int:
        """Width of the per-token ``lexicon`` input: categories, gazetteer, word vectors."""
        return sum(x.feature_dim for x in self._char_feature_sources)

    def with_gazetteer(self, gazetteer: Lexicon | None) -> "Featurizer":
        return Featurizer(self.tokenizer, self.bigram_vocab, self.lexicon, gazetteer,
                          self.word_vectors)

    def with_word_vectors(self, word_vectors) -> "Featurizer":
        return Featurizer(self.tokenizer, self.bigram_vocab, self.lexicon, self.gazetteer,
                          word_vectors)

    def _char_features(self, norm: str) -> np.ndarray:
        parts = [x.features(norm, normalized=True) for x in self._char_feature_sources]
        return np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]

    def __call__(self, text: str) -> Features:
        return self.batch([text])[0]

    def batch(self, texts: Sequence[str], encodings: Sequence[Encoding] | None = None, *,
              chunk_size: int = 256) -> list[Features]:
        """``Features`` of each text; the same as calling the featurizer text by text.

        The per-character lexicon features of ``chunk_size`` texts at a time are computed in one
        pass over the texts joined by NUL (no dictionary word holds one, so no match crosses a
        text), which saves the per-call overhead of the numpy work on short texts; the chunks
        bound the memory of that pass.

        Args:
            encodings: the texts' ``tokenizer.encode`` results, when the caller has them.
        """
        if encodings is None:
            encodings = [self.tokenizer.encode(text) for text in texts]
        elif len(encodings) != len(texts):
            raise ValueError(f"{len(texts)} texts need {len(texts)} encodings. "
                             f"Received: {len(encodings)}")
        out: list[Features] = []
        for k in range(0, len(texts), chunk_size):
            out += self._chunk(texts[k:k + chunk_size], encodings[k:k + chunk_size])
        return out

    def _chunk(self, texts: Sequence[str], encodings: Sequence[Encoding]) -> list[Features]:
        tok, index, dim = self.tokenizer, self.bigram_vocab.index, self.lexicon_dim
        norms = [normalize_text(text) for text in texts]
        char_features = self._char_features("\x00".join(norms)) if dim and texts else None
        out, base = [], 0
        for norm, encoding in zip(norms, encodings):
            n = len(encoding)
            token_ids = np.array([tok.cls_id, *encoding.ids, tok.sep_id], np.int32)
            bigram_ids = np.array(
                [BIGRAM_BOUNDARY]
                + [index.get(b, BIGRAM_UNK) for b in bigrams([norm[s:e] for s, e in encoding.offsets])]
                + [BIGRAM_BOUNDARY], np.int32)
            lexicon = np.zeros((n + 2, dim), np.float16)
            if dim and n:
                starts = np.fromiter((s for s, _ in encoding.offsets), np.int64, n)
                lexicon[1:-1] = char_features[base + starts]
            out.append(Features(token_ids, bigram_ids, lexicon, encoding.offsets))
            base += len(norm) + 1
        return out


def char_spans_to_token_spans(offsets: Sequence[tuple[int, int]],
                              spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Maps character spans onto token index spans (tokens overlapping the span)."""
    out = []
    for start, end, label in spans:
        covered = [i for i, (s, e) in enumerate(offsets) if s < end and e > start]
        if covered:
            out.append((covered[0], covered[-1] + 1, label))
    return out

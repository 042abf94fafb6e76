"""Model inputs for one text: token ids, bigram ids, lexicon features, and token offsets.

Sequences carry ``[CLS]`` first and ``[SEP]`` last (ALBERT convention), so a text of ``n`` tokens
gives arrays of length ``n + 2``; offsets cover the ``n`` content tokens only.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
from typing import Iterable, Sequence

import numpy as np

from kgpipe.ner.lexicon import Lexicon
from kgpipe.ner.tokenizer import Encoding, Tokenizer, normalize_text

BIGRAM_PAD, BIGRAM_UNK, BIGRAM_BOUNDARY = 0, 1, 2
_BIGRAM_SPECIALS = ("<pad>", "<unk>", "<s>")
_END = (1 << 21) - 1  # "</s>" in a bigram key: above every code point


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
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.bigrams)

    def _char_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted keys ``ord(a) << 21 | ord(b)`` (``_END`` for ``</s>``) of the bigrams of two
        single characters, and their ids; built on first use."""
        if self._pairs is None:
            table = {}
            for i, bigram in enumerate(self.bigrams):
                a, sep, b = bigram.partition("\x00")
                if sep and len(a) == 1 and (len(b) == 1 or b == "</s>"):
                    table[ord(a) << 21 | (_END if b == "</s>" else ord(b))] = self.index[bigram]
            keys = np.array(sorted(table), np.int64)
            self._pairs = keys, np.array([table[k] for k in keys.tolist()], np.int32)
        return self._pairs

    def ids(self, joined: str, starts: np.ndarray, ends: np.ndarray,
            counts: np.ndarray) -> np.ndarray:
        """Bigram id of every token of texts laid end to end: ``index.get(bigrams(...))``.

        Args:
            joined: the normalised texts joined by one separator character.
            starts, ends: int [tokens], the tokens' character offsets into ``joined``.
            counts: int [texts], tokens per text (each text's last token pairs with ``</s>``).

        Returns:
            int32 [tokens]. Pairs of single characters (nearly all) are looked up with numpy;
            pairs with a longer token by string.
        """
        total = len(starts)
        if not total:
            return np.zeros(0, np.int32)
        codes = np.frombuffer(joined.encode("utf-32-le"), np.uint32).astype(np.int64)
        last = np.zeros(total, bool)
        last[(np.cumsum(counts) - 1)[counts > 0]] = True
        single = ends - starts == 1
        following = np.append(codes[starts[1:]], _END)
        following[last] = _END
        keys = codes[starts] << 21 | following
        table_keys, table_ids = self._char_pairs()
        at = np.minimum(np.searchsorted(table_keys, keys), max(len(table_keys) - 1, 0))
        found = table_keys[at] == keys if len(table_keys) else np.zeros(total, bool)
        out = np.where(found, table_ids[at] if len(table_ids) else 0, BIGRAM_UNK).astype(np.int32)
        next_single = np.append(single[1:], True) | last
        for i in np.flatnonzero(~(single & next_single)).tolist():
            after = "</s>" if last[i] else joined[starts[i + 1]:ends[i + 1]]
            out[i] = self.index.get(joined[starts[i]:ends[i]] + "\x00" + after, BIGRAM_UNK)
        return out

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
            encodings = self.tokenizer.encode_batch(texts)
        elif len(encodings) != len(texts):
            raise ValueError(f"{len(texts)} texts need {len(texts)} encodings. "
                             f"Received: {len(encodings)}")
        out: list[Features] = []
        for k in range(0, len(texts), chunk_size):
            out += self._chunk(texts[k:k + chunk_size], encodings[k:k + chunk_size])
        return out

    def _chunk(self, texts: Sequence[str], encodings: Sequence[Encoding]) -> list[Features]:
        """Features of a few hundred texts, computed over all their tokens at once: each text's
        arrays are slices of one ``[CLS] tokens [SEP]`` row per text laid end to end."""
        tok, dim = self.tokenizer, self.lexicon_dim
        norms = [normalize_text(text) for text in texts]
        joined = "\x00".join(norms)
        counts = np.fromiter((len(e) for e in encodings), np.int64, len(encodings))
        text_of = np.repeat(np.arange(len(texts)), counts)
        bases = np.cumsum([0] + [len(norm) + 1 for norm in norms[:-1]])  # text starts in joined
        flat = np.fromiter(itertools.chain.from_iterable(
            itertools.chain.from_iterable(e.offsets for e in encodings)), np.int64, 2 * counts.sum())
        starts, ends = flat[0::2] + bases[text_of], flat[1::2] + bases[text_of]
        heads = np.cumsum(counts + 2) - (counts + 2)  # each text's [CLS] row
        rows = np.arange(len(starts)) + 2 * text_of + 1
        size = int(counts.sum()) + 2 * len(texts)
        token_ids = np.zeros(size, np.int32)
        token_ids[heads], token_ids[heads + counts + 1] = tok.cls_id, tok.sep_id
        token_ids[rows] = np.fromiter(itertools.chain.from_iterable(e.ids for e in encodings),
                                      np.int32, len(starts))
        bigram_ids = np.full(size, BIGRAM_BOUNDARY, np.int32)
        bigram_ids[rows] = self.bigram_vocab.ids(joined, starts, ends, counts)
        lexicon = np.zeros((size, dim), np.float16)
        if dim and len(starts):
            lexicon[rows] = self._char_features(joined)[starts]
        return [Features(token_ids[h:h + n + 2], bigram_ids[h:h + n + 2], lexicon[h:h + n + 2],
                         e.offsets) for h, n, e in zip(heads.tolist(), counts.tolist(), encodings)]


def char_spans_to_token_spans(offsets: Sequence[tuple[int, int]],
                              spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Maps character spans onto token index spans (tokens overlapping the span)."""
    out = []
    for start, end, label in spans:
        covered = [i for i, (s, e) in enumerate(offsets) if s < end and e > start]
        if covered:
            out.append((covered[0], covered[-1] + 1, label))
    return out

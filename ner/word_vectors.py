"""SoftLexicon word embeddings (Ma et al. 2020): what the dictionary words around a character mean.

The category features of ``ner.lexicon`` say *that* a person/place/organisation word covers a
character; these say *which* words do. Every dictionary word matched in the text adds its vector
to one of three sets of each character it covers: B (the word begins here), M (inside), E (ends
here). Per character and set, the vectors are weighted by word frequency and scaled by ``3 / Z``,
``Z`` the total frequency of all words covering that character (the paper's normalisation over
its sets); the three set vectors are concatenated: ``[num_chars, 3 * dim]``. Single-character
words are left out: the character embedding already carries them, and their large frequencies
would drown the multi-character words in ``Z``.

The vectors are skip-gram vectors (gensim) trained on the training and unlabelled text segmented
by jieba with its dictionary only, unit-normalised and frozen (they enter the model as input
features, like the category features, so the tagger and its serving signature are unchanged).
Only dictionary words seen at least ``min_count`` times get a vector.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from kgpipe.ner.lexicon import covered_positions
from kgpipe.ner.tokenizer import normalize_text

log = logging.getLogger("kgpipe.ner.training.word_vectors")

SETS = ("B", "M", "E")


class WordVectors:
    """Words, their frequencies and unit vectors, with SoftLexicon B/M/E feature extraction.

    Args:
        words: normalised words (``normalize_text``), two characters or more.
        vectors: float [len(words), dim].
        freqs: float [len(words)], the weights within a set (e.g. dictionary frequencies).
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray, freqs: np.ndarray, *,
                 max_word_length: int = 12):
        vectors = np.asarray(vectors, np.float32)
        if vectors.ndim != 2 or len(vectors) != len(words) or len(freqs) != len(words):
            raise ValueError(f"{len(words)} words need [{len(words)}, dim] vectors and "
                             f"{len(words)} freqs, got {vectors.shape} and {len(freqs)}")
        if any(len(w) < 2 for w in words):
            raise ValueError("word vectors cover words of two characters or more")
        if any("\x00" in w for w in words):  # NUL separates the texts of a batch
            raise ValueError("word vectors cannot cover words that contain NUL")
        self.words = list(words)
        self.vectors = vectors
        self.freqs = np.asarray(freqs, np.float32)
        self.max_word_length = max_word_length
        self._matcher = None

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @property
    def feature_dim(self) -> int:
        return len(SETS) * self.dim

    def __len__(self) -> int:
        return len(self.words)

    def _matches(self, norm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(starts, ends, word indices)`` of every word in normalised text."""
        if self._matcher is None:
            from kgpipe.ner.word_matcher import WordMatcher

            kept = [i for i, word in enumerate(self.words) if len(word) <= self.max_word_length]
            self._matcher = (WordMatcher([self.words[i] for i in kept]), np.asarray(kept, np.int64))
            self._lengths = np.array([len(word) for word in self.words], np.int64)
        matcher, kept = self._matcher
        last, found = matcher.find(norm)
        ends, index = last + 1, kept[found]
        return ends - self._lengths[index], ends, index

    def features(self, text: str, *, normalized: bool = False) -> np.ndarray:
        """float32 [len(text), 3 * dim]; zeros where no word covers a character."""
        norm = text if normalized else normalize_text(text)
        n, d = len(norm), self.dim
        starts, ends, index = self._matches(norm)
        if not len(starts):
            return np.zeros((n, len(SETS) * d), np.float32)
        import scipy.sparse

        z = self.freqs[index]
        inside, word = covered_positions(starts + 1, ends - 1)  # M: [start + 1, end - 1)
        covered, cover_word = covered_positions(starts, ends)  # Z sums over [start, end)
        total = np.bincount(covered, weights=z[cover_word], minlength=n)
        scale = np.divide(len(SETS), total, out=np.zeros_like(total), where=total > 0)
        # A sparse [(position, set), word] weight matrix times the vectors: each row sums its
        # words in word order, so a character's features depend only on the words covering it.
        rows = np.concatenate([starts * 3, inside * 3 + 1, (ends - 1) * 3 + 2])
        cols = np.concatenate([index, index[word], index])
        positions = np.concatenate([starts, inside, ends - 1])
        weights = (np.concatenate([z, z[word], z]) * scale[positions]).astype(np.float32)
        matrix = scipy.sparse.csr_matrix((weights, (rows, cols)), shape=(n * len(SETS), len(self)))
        return np.asarray(matrix @ self.vectors, np.float32).reshape(n, len(SETS) * d)

    # --- files ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> dict:
        """Writes ``word_vectors.txt`` (word<TAB>freq) and ``word_vectors.npy`` (float16)."""
        path = Path(path)
        with open(path / "word_vectors.txt", "w", encoding="utf-8") as f:
            f.writelines(f"{w}\t{z:g}\n" for w, z in zip(self.words, self.freqs))
        np.save(path / "word_vectors.npy", self.vectors.astype(np.float16))
        return {"words_file": "word_vectors.txt", "vectors_file": "word_vectors.npy",
                "dim": self.dim, "max_word_length": self.max_word_length}

    @classmethod
    def load(cls, path: str | os.PathLike, spec: dict) -> "WordVectors":
        path = Path(path)
        words, freqs = [], []
        with open(path / spec["words_file"], encoding="utf-8") as f:
            for line in f:
                word, freq = line.rstrip("\n").split("\t")
                words.append(word)
                freqs.append(float(freq))
        vectors = np.load(path / spec["vectors_file"]).astype(np.float32)
        if vectors.shape != (len(words), spec["dim"]):
            raise ValueError(f"{path / spec['vectors_file']}: shape {vectors.shape}, expected "
                             f"({len(words)}, {spec['dim']})")
        return cls(words, vectors, np.array(freqs, np.float32),
                   max_word_length=spec["max_word_length"])

    # --- training ---------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Sequence[str], *, dim: int = 50, min_count: int = 2, epochs: int = 5,
              window: int = 5, seed: int = 13, workers: int | None = None,
              dictionary: str | os.PathLike | None = None,
              max_word_length: int = 12) -> "WordVectors":
        """Skip-gram vectors for the jieba dictionary words of ``texts``.

        Frequencies are the dictionary's (jieba's ``dict.txt`` unless ``dictionary`` names
        another file in its ``word freq [flag]`` format).
        """
        import jieba
        from gensim.models import Word2Vec

        from kgpipe.ner.lexicon import jieba_dictionary_path

        t0 = time.time()
        freqs: dict[str, float] = {}
        with open(dictionary or jieba_dictionary_path(), encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2:
                    word = normalize_text(parts[0])
                    if 2 <= len(word) <= max_word_length:
                        freqs[word] = freqs.get(word, 0.0) + float(parts[1])
        segmenter = jieba.Tokenizer(dictionary) if dictionary else jieba.Tokenizer()
        segmenter.initialize()
        sentences = [[normalize_text(w) for w in segmenter.cut(text, HMM=False) if w.strip()]
                     for text in texts]
        workers = workers or max(1, min(4, os.cpu_count() or 1))
        model = Word2Vec(sentences=sentences, vector_size=dim, window=window, min_count=min_count,
                         sg=1, negative=5, sample=1e-4, epochs=epochs, seed=seed, workers=workers)
        words = sorted(w for w in model.wv.key_to_index if w in freqs)
        vectors = np.stack([model.wv[w] for w in words]) if words else np.zeros((0, dim), np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        log.info("word vectors: %d dictionary words (of %d segmented types) from %d texts in %.0fs",
                 len(words), len(model.wv.key_to_index), len(texts), time.time() - t0)
        return cls(words, vectors, np.array([freqs[w] for w in words], np.float32),
                   max_word_length=max_word_length)

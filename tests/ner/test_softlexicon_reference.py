"""The vectorised SoftLexicon features against plain loops over the same matches, on random
texts dense with overlapping words (single-character words, nesting, words inside words)."""

import random

import numpy as np

from kgpipe.ner.lexicon import Lexicon
from kgpipe.ner.word_vectors import WordVectors

ALPHABET = "北京大学生活动人民"


def random_words(rng, count, min_length):
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(ALPHABET) for _ in range(rng.randint(min_length, 4))))
    return sorted(words)


def random_texts(rng, count=20):
    return ["".join(rng.choice(ALPHABET + "，x") for _ in range(rng.randint(0, 40)))
            for _ in range(count)]


def lexicon_reference(lexicon, norm):
    """[n, 4 sets, presence|weight, categories] by a loop over ``Lexicon.matches``."""
    num_cats = len(lexicon.categories)
    weight = np.zeros((len(norm), 4, num_cats), np.float64)
    count = np.zeros_like(weight)
    for start, end, weights in lexicon.matches(norm):
        for cat, value in weights.items():
            if end - start == 1:
                cells = [(start, 3)]
            else:
                cells = [(start, 0), (end - 1, 2)] + [(p, 1) for p in range(start + 1, end - 1)]
            for position, which in cells:
                weight[position, which, cat] += value
                count[position, which, cat] += 1
    return np.stack([count > 0, np.minimum(weight / 15.0, 1.0)], axis=2)


def test_lexicon_features_equal_a_loop_over_matches():
    rng = random.Random(5)
    lexicon = Lexicon(("WORD", "PER", "LOC"))
    for word in random_words(rng, 40, 1):
        for category in rng.sample(lexicon.categories, rng.randint(1, 2)):
            lexicon.add(word, category, rng.uniform(1, 40))
    for text in random_texts(rng):
        got = lexicon.features(text).reshape(len(text), 4, 2, len(lexicon.categories))
        np.testing.assert_allclose(got, lexicon_reference(lexicon, text), rtol=1e-6, atol=1e-6)


def word_vectors_reference(wv, norm):
    """[n, B|M|E, dim]: per character, frequency-weighted sums scaled by 3 / Z."""
    n = len(norm)
    sums, total = np.zeros((n, 3, wv.dim)), np.zeros(n)
    for i, word in enumerate(wv.words):
        start = norm.find(word)
        while start >= 0:
            end, z, vector = start + len(word), wv.freqs[i], wv.vectors[i]
            sums[start, 0] += z * vector
            sums[end - 1, 2] += z * vector
            for p in range(start + 1, end - 1):
                sums[p, 1] += z * vector
            total[start:end] += z
            start = norm.find(word, start + 1)
    scale = np.divide(3.0, total, out=np.zeros(n), where=total > 0)
    return sums * scale[:, None, None]


def test_word_vector_features_equal_a_loop_over_words():
    rng = random.Random(7)
    words = random_words(rng, 30, 2)
    vectors = np.random.default_rng(7).normal(size=(len(words), 5)).astype(np.float32)
    freqs = np.array([rng.uniform(1, 100) for _ in words], np.float32)
    wv = WordVectors(words, vectors, freqs)
    for text in random_texts(rng):
        got = wv.features(text).reshape(len(text), 3, 5)
        np.testing.assert_allclose(got, word_vectors_reference(wv, text), rtol=1e-4, atol=1e-5)

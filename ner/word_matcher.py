"""Every occurrence of every dictionary word in a text, found with numpy instead of a Python loop.

The SoftLexicon and word-vector features match a dictionary of ~350k words against every text
the tagger sees. An Aho-Corasick automaton (pyahocorasick) finds the matches in C but hands them
to Python one tuple at a time, which was the largest part of featurisation. ``WordMatcher`` keeps,
per word length, the words' polynomial hashes sorted, hashes every substring of each length of a
text at once, and looks them up with ``np.searchsorted``.

Exactness: two independent 64-bit hashes must both match (a false match would need both to
collide); a dictionary in which two words of one length share their first hash (never seen; about
one chance in 10^8 for jieba's dictionary) falls back to the automaton. The matches come back in
the automaton's order (by end, then longest first), so every feature is bit-for-bit what the
automaton path gave (``tests/ner/test_word_matcher.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

_BASES = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))  # Odd 64-bit multipliers.
_FILTER_BITS = 23  # A 2^23-entry bitmap of the words' first hashes screens substrings before the search.
_SHIFT = np.uint64(64 - _FILTER_BITS)


def _codes(text: str) -> np.ndarray:
    """The text's code points (lone surrogates included), uint64."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.uint64)


class WordMatcher:
    """Finds the words of a fixed list in texts: ``find(text) -> (last, word)`` int64 arrays, one row
    per match, ``last`` the index of the match's last character and ``word`` the word's index in
    ``words``, ordered by ``last`` and then by length, longest first (Aho-Corasick's order).

    Args:
        words: the dictionary; empty strings and duplicates are not allowed.
    """

    def __init__(self, words: Sequence[str]):
        self._tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._filter = np.zeros(1 << _FILTER_BITS, bool)
        self._automaton = None
        by_length: dict[int, list[int]] = {}
        for i, word in enumerate(words):
            if not word:
                raise ValueError(f"WordMatcher words must not be empty. Received: words[{i}]={word!r}")
            by_length.setdefault(len(word), []).append(i)
        for length, indices in sorted(by_length.items()):
            codes = _codes("".join(words[i] for i in indices)).reshape(len(indices), length)
            h1 = np.zeros(len(indices), np.uint64)
            h2 = np.zeros(len(indices), np.uint64)
            with np.errstate(over="ignore"):
                for k in range(length):
                    h1 = h1 * _BASES[0] + codes[:, k]
                    h2 = h2 * _BASES[1] + codes[:, k]
            order = np.lexsort((h2, h1))
            h1, h2, index = h1[order], h2[order], np.asarray(indices, np.int64)[order]
            if len(h1) > 1 and np.any(h1[1:] == h1[:-1]):
                self._automaton = _automaton(words)  # Two words share a first hash: stay exact.
                self._tables = {}
                return
            self._tables[length] = (h1, h2, index)
            self._filter[h1 >> _SHIFT] = True
        self.max_length = max(self._tables, default=0)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_filter"}  # 8 MB, rebuilt in a moment.

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._filter = np.zeros(1 << _FILTER_BITS, bool)
        for keys1, _, _ in self._tables.values():
            self._filter[keys1 >> _SHIFT] = True

    def find(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(last, word)`` of every match in ``text`` (see the class docstring)."""
        if self._automaton is not None:
            flat = np.fromiter(itertools.chain.from_iterable(self._automaton.iter(text)), np.int64)
            return flat[0::2], flat[1::2]
        codes = _codes(text)
        n = len(codes)
        h1 = np.zeros(n, np.uint64)
        h2 = np.zeros(n, np.uint64)
        lasts, words, lengths = [], [], []
        with np.errstate(over="ignore"):
            for length in range(1, min(self.max_length, n) + 1):
                # Hashes of the substrings [i, i + length) for i in 0 .. n - length.
                h1 = h1[:n - length + 1] * _BASES[0] + codes[length - 1:]
                h2 = h2[:n - length + 1] * _BASES[1] + codes[length - 1:]
                table = self._tables.get(length)
                if table is None:
                    continue
                keys1, keys2, index = table
                maybe = np.flatnonzero(self._filter[h1 >> _SHIFT])
                at = np.minimum(np.searchsorted(keys1, h1[maybe]), len(keys1) - 1)
                found = (keys1[at] == h1[maybe]) & (keys2[at] == h2[maybe])
                hit, at = maybe[found], at[found]
                lasts.append(hit + (length - 1))
                words.append(index[at])
                lengths.append(np.full(len(hit), length, np.int64))
        if not lasts:
            empty = np.zeros(0, np.int64)
            return empty, empty
        last, word, length = (np.concatenate(x) for x in (lasts, words, lengths))
        order = np.lexsort((-length, last))
        return last[order], word[order]


def _automaton(words: Sequence[str]):
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for i, word in enumerate(words):
        automaton.add_word(word, i)
    automaton.make_automaton()
    return automaton

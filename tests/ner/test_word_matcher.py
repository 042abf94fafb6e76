"""Tests for ner.word_matcher: the same matches, in the same order, as an Aho-Corasick automaton."""

import itertools
import pickle
import random

import numpy as np
import pytest

from kgpipe.ner import word_matcher
from kgpipe.ner.word_matcher import WordMatcher


def _automaton_matches(words, text):
    automaton = word_matcher._automaton(words)
    flat = np.fromiter(itertools.chain.from_iterable(automaton.iter(text)), np.int64)
    return flat[0::2].tolist(), flat[1::2].tolist()


def _found(matcher, text):
    last, word = matcher.find(text)
    return last.tolist(), word.tolist()


WORDS = ["北京", "北京大学", "大学", "大学生", "学生", "生", "京", "a", "ab", "abc", "bc", "\ud800x", "🙂", "北"]


@pytest.mark.parametrize("text", ["北京大学生", "", "abcabc", "北京\x00大学", "x\ud800x🙂🙂", "无匹配", "生"])
def test_matches_equal_the_automatons_in_its_order(text):
    assert _found(WordMatcher(WORDS), text) == _automaton_matches(WORDS, text)


def test_random_dictionaries_and_texts():
    rng = random.Random(7)
    alphabet = "北京大学生abc中文🙂"
    for _ in range(50):
        words = list(dict.fromkeys("".join(rng.choices(alphabet, k=rng.randint(1, 6))) for _ in range(40)))
        text = "".join(rng.choices(alphabet + "\x00", k=rng.randint(0, 200)))
        assert _found(WordMatcher(words), text) == _automaton_matches(words, text)


def test_a_first_hash_collision_falls_back_to_the_automaton(monkeypatch):
    # Force every word's first hash to 0: the matcher must notice and stay exact.
    monkeypatch.setattr(word_matcher, "_BASES", (np.uint64(0), word_matcher._BASES[1]))
    monkeypatch.setattr(word_matcher, "_codes", lambda text: np.zeros(len(text), np.uint64) if text else
                        np.zeros(0, np.uint64))
    matcher = WordMatcher(["ab", "cd"])
    assert matcher._automaton is not None
    assert _found(matcher, "xabcd") == _automaton_matches(["ab", "cd"], "xabcd")


def test_pickles_without_its_filter_and_rebuilds_it():
    matcher = WordMatcher(WORDS)
    data = pickle.dumps(matcher)
    assert len(data) < 100_000  # the 8 MB bitmap is not in it
    assert _found(pickle.loads(data), "北京大学生abc") == _found(matcher, "北京大学生abc")


def test_empty_words_are_refused():
    with pytest.raises(ValueError, match=r"words\[1\]=''"):
        WordMatcher(["a", ""])
    assert _found(WordMatcher([]), "abc") == ([], [])

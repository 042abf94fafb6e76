"""Lexicon features in the SoftLexicon style (Ma et al. 2020), from jieba's dictionary and extra lists.

Every dictionary word matched in a text puts its category into one of four sets of each character
it covers: B (word begins here), M (inside), E (ends here), S (single-character word). Per
character the feature vector holds, for each set x category, a presence bit and a frequency
weight ``min(1, sum(log1p(freq)) / 15)``: shape ``[num_chars, 4 * num_categories * 2]``.

jieba's 349k words carry POS flags; person (nr, nrfg, nrt), place (ns), organisation (nt) and
other proper nouns (nz) get their own categories, all else is ``WORD``. Extra lists (e.g. brand
and product names) add categories of their own. Matching runs on normalised text
(``tokenizer.normalize_text``), with a prefix set so each start tries only live prefixes.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from kgpipe.ner.tokenizer import normalize_text

JIEBA_CATEGORIES = {"nr": "PER", "nrfg": "PER", "nrt": "PER", "ns": "LOC", "nt": "ORG",
                    "nz": "NZ"}
BASE_CATEGORIES = ("WORD", "PER", "LOC", "ORG", "NZ")
SETS = ("B", "M", "E", "S")


def jieba_dictionary_path() -> str:
    import jieba  # only for its bundled dict.txt

    return os.path.join(os.path.dirname(jieba.__file__), "dict.txt")


class Lexicon:
    """Word -> per-category weights, with SoftLexicon B/M/E/S feature extraction.

    Args:
        categories: category names, in feature order.
        max_word_length: longest word matched, in characters.
    """

    def __init__(self, categories: Iterable[str] = BASE_CATEGORIES, *, max_word_length: int = 12):
        self.categories = tuple(categories)
        self.category_index = {c: i for i, c in enumerate(self.categories)}
        self.max_word_length = max_word_length
        self.words: dict[str, dict[int, float]] = {}
        self.extra: dict[tuple[str, str], float] = {}  # everything not from jieba's dictionary
        self._adding_jieba = False
        self._prefixes: set[str] | None = None  # built on first use (the reference paths only)
        self._frozen = None  # Aho-Corasick automaton, rebuilt lazily after changes
        self.from_cache = False  # read back by build_lexicon(cache_dir=...)
        self.kb_types: dict[str, tuple[str, ...]] | None = None  # set by kb_gazetteer

    @property
    def feature_dim(self) -> int:
        return len(SETS) * len(self.categories) * 2

    def add(self, word: str, category: str, freq: float = 1.0) -> None:
        word = normalize_text(word.strip())
        # NUL separates the texts of a batch (Featurizer.batch): no word may hold one.
        if not word or len(word) > self.max_word_length or word.isspace() or "\x00" in word:
            return
        self._add_weight(word, category, math.log1p(max(freq, 0.0)))

    def _add_weight(self, word: str, category: str, weight: float) -> None:
        if category not in self.category_index:
            self.categories += (category,)
            self.category_index[category] = len(self.categories) - 1
        self._frozen = None
        if not self._adding_jieba:
            self.extra[word, category] = self.extra.get((word, category), 0.0) + weight
        weights = self.words.setdefault(word, {})
        cat = self.category_index[category]
        weights[cat] = weights.get(cat, 0.0) + weight
        self._prefixes = None

    @property
    def prefixes(self) -> set[str]:
        """Every prefix of every word (for ``matches``; the feature path uses the automaton)."""
        if self._prefixes is None:
            self._prefixes = {word[:i] for word in self.words for i in range(1, len(word) + 1)}
        return self._prefixes

    def add_jieba(self, path: str | os.PathLike | None = None) -> "Lexicon":
        """Adds jieba's ``dict.txt`` (``word freq flag`` lines); rebuilt at load, not saved."""
        self._adding_jieba = True
        try:
            with open(path or jieba_dictionary_path(), encoding="utf-8") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2:
                        flag = parts[2] if len(parts) > 2 else ""
                        self.add(parts[0], JIEBA_CATEGORIES.get(flag, "WORD"), float(parts[1]))
        finally:
            self._adding_jieba = False
        return self

    def add_words(self, words: Iterable[str], category: str, freq: float = 100.0) -> "Lexicon":
        for word in words:
            self.add(word, category, freq)
        return self

    def entries(self) -> Iterable[tuple[str, int, float]]:
        for word, weights in self.words.items():
            for cat, weight in weights.items():
                yield word, cat, weight

    def matches(self, norm: str) -> list[tuple[int, int, dict[int, float]]]:
        """All ``(start, end, weights)`` dictionary words in normalised text."""
        out, n = [], len(norm)
        for start in range(n):
            for end in range(start + 1, min(n, start + self.max_word_length) + 1):
                piece = norm[start:end]
                if piece not in self.prefixes:
                    break
                weights = self.words.get(piece)
                if weights is not None:
                    out.append((start, end, weights))
        return out

    def _freeze(self):
        """Word matcher over the words (built once, after the last ``add``).

        The matcher gives each match's word index; per word, ``lengths`` holds its length and
        ``cats[bounds[i]:bounds[i + 1]]`` / ``values[...]`` its categories and weights, so a
        text's matches expand into flat arrays with numpy rather than a Python loop.
        """
        from kgpipe.ner.word_matcher import WordMatcher

        lengths, bounds, cats, values = [], [0], [], []
        for word, weights in self.words.items():
            lengths.append(len(word))
            cats += weights.keys()
            values += weights.values()
            bounds.append(len(cats))
        return (WordMatcher(list(self.words)), np.array(lengths, np.int64), np.array(bounds, np.int64),
                np.array(cats, np.int64), np.array(values, np.float64))

    def _flat_matches(self, norm: str):
        """``matches`` as four flat arrays (start, end, category, weight): the hot path."""
        if self._frozen is None:
            self._frozen = self._freeze() if self.words else ()
        if not self._frozen:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty, np.zeros(0, np.float64)
        matcher, lengths, bounds, cats, values = self._frozen
        last, word = matcher.find(norm)
        counts = bounds[word + 1] - bounds[word]
        match = np.repeat(np.arange(len(word)), counts)  # one row per (match, category)
        entry = bounds[word][match] + np.arange(len(match)) - np.repeat(np.cumsum(counts) - counts, counts)
        ends = last[match] + 1
        return ends - lengths[word][match], ends, cats[entry], values[entry]

    def _flat_matches_python(self, norm: str):
        """Reference implementation of ``_flat_matches`` with the prefix set (for tests)."""
        frozen = {w: tuple(ws.items()) for w, ws in self.words.items()}
        prefixes, longest, n = self.prefixes, self.max_word_length, len(norm)
        starts, ends, cats, values = [], [], [], []
        for start in range(n):
            for end in range(start + 1, min(n, start + longest) + 1):
                piece = norm[start:end]
                if piece not in prefixes:
                    break
                items = frozen.get(piece)
                if items is not None:
                    for cat, w in items:
                        starts.append(start)
                        ends.append(end)
                        cats.append(cat)
                        values.append(w)
        return starts, ends, cats, values

    def features(self, text: str, *, normalized: bool = False) -> np.ndarray:
        """SoftLexicon features, float32 of shape [len(text), feature_dim].

        ``normalized``: ``text`` is already ``normalize_text`` output.
        """
        norm = text if normalized else normalize_text(text)
        n, num_cats = len(norm), len(self.categories)
        starts, ends, cats, values = self._flat_matches(norm)
        size = n * len(SETS) * num_cats
        values = values.astype(np.float32)
        single = ends - starts == 1
        multi = ~single
        inside, word = covered_positions(starts + 1, ends - 1)  # M: [start + 1, end - 1)
        # One flat bin per (position, set, category); bincount sums in match order.
        bins = np.concatenate([
            (starts[single] * len(SETS) + 3) * num_cats + cats[single],
            (starts[multi] * len(SETS) + 0) * num_cats + cats[multi],
            ((ends[multi] - 1) * len(SETS) + 2) * num_cats + cats[multi],
            (inside * len(SETS) + 1) * num_cats + cats[word]])
        v = np.concatenate([values[single], values[multi], values[multi], values[word]])
        weight = np.bincount(bins, weights=v, minlength=size).astype(np.float32)
        count = np.bincount(bins, minlength=size)
        weight, count = (x.reshape(n, len(SETS), num_cats) for x in (weight, count))
        presence = (count > 0).astype(np.float32)
        weight = np.minimum(weight / 15.0, 1.0)
        return np.concatenate([presence, weight], axis=-1).reshape(n, self.feature_dim)

    def save_extra(self, path: str | os.PathLike) -> None:
        """Writes every entry not from jieba's dictionary as ``word<TAB>category<TAB>weight``."""
        with open(path, "w", encoding="utf-8") as f:
            for (word, category), w in self.extra.items():
                f.write(f"{word}\t{category}\t{w:.4f}\n")

    def load_extra(self, path: str | os.PathLike) -> "Lexicon":
        with open(path, encoding="utf-8") as f:
            for line in f:
                word, category, w = line.rstrip("\n").split("\t")
                self._add_weight(word, category, float(w))  # saved words are normalised
        return self


def covered_positions(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every position of the ranges ``[starts[i], ends[i])`` and the ``i`` it belongs to.

    Summing per position over these (``np.bincount``, ``np.add.at``) adds each character's
    contributions in match order, so its result depends only on the matches covering it: the same whether a text
    is featurised alone or joined with others in a batch (a running sum would not be).
    """
    lengths = np.maximum(ends - starts, 0)
    word = np.repeat(np.arange(len(starts)), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return starts[word] + np.arange(len(word)) - first, word


def build_lexicon(*, use_jieba: bool = True, extra: Mapping[str, Iterable[str]] | None = None,
                  categories: Iterable[str] = BASE_CATEGORIES, max_word_length: int = 12,
                  cache_dir: str | os.PathLike | None = None) -> Lexicon:
    """jieba's dictionary plus ``extra`` word lists keyed by category.

    ``cache_dir``: where the jieba part, with its word matcher, is kept between
    processes (``default_cache_dir()`` for taggers): reading it back takes a fraction of the
    seconds building it does, once per pipeline worker. The key covers jieba's dictionary file
    (path, size, modification time), the categories, ``max_word_length`` and the versions of
    this format, jieba and pyahocorasick; an unreadable entry is rebuilt.
    """
    categories = tuple(categories)
    lexicon = None
    if use_jieba and cache_dir is not None:
        lexicon = _cached_jieba_lexicon(Path(cache_dir), categories, max_word_length)
    if lexicon is None:
        lexicon = Lexicon(categories, max_word_length=max_word_length)
        if use_jieba:
            lexicon.add_jieba()
            if cache_dir is not None:
                _store_jieba_lexicon(Path(cache_dir), lexicon)
    for category, words in (extra or {}).items():
        lexicon.add_words(words, category)
    return lexicon


_CACHE_FORMAT = "kgpipe-lexicon/2"  # 2: a WordMatcher instead of an Aho-Corasick automaton.


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/kgpipe`` (``~/.cache/kgpipe``; the system's temporary folder when there
    is no home directory)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        base = os.path.join(home, ".cache") if home != "~" else os.path.join(tempfile.gettempdir(), "kgpipe-cache")
    return Path(base) / "kgpipe"


def _cache_file(cache_dir: Path, categories: tuple[str, ...], max_word_length: int) -> Path:
    import hashlib
    from importlib import metadata

    import jieba

    import sys
    import unicodedata

    from kgpipe.ner import tokenizer, word_matcher

    path = jieba_dictionary_path()
    stat = os.stat(path)
    versions = [metadata.version(name) for name in ("jieba", "pyahocorasick")]
    # The code that turns the dictionary into weights (normalisation, categories, filters) and
    # the Unicode tables it relies on are part of the key: a change gives a new entry.
    code = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (sys.modules[__name__], tokenizer, word_matcher)))
    key = "|".join(map(str, (_CACHE_FORMAT, os.path.abspath(path), stat.st_size, stat.st_mtime_ns,
                             categories, max_word_length, *versions, jieba.__version__,
                             code.hexdigest(), unicodedata.unidata_version, sys.version_info[:2])))
    return cache_dir / f"jieba-lexicon-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pkl"


def _cached_jieba_lexicon(cache_dir: Path, categories, max_word_length) -> Lexicon | None:
    import pickle

    try:
        with open(_cache_file(cache_dir, categories, max_word_length), "rb") as f:
            state = pickle.load(f)
        lexicon = Lexicon(state["categories"], max_word_length=max_word_length)
        lexicon.words, lexicon._frozen = state["words"], state["frozen"]
    except Exception:  # missing, unreadable or from other versions: build it anew
        return None
    lexicon.from_cache = True
    return lexicon


def _store_jieba_lexicon(cache_dir: Path, lexicon: Lexicon) -> None:
    import pickle

    if lexicon._frozen is None:
        lexicon._frozen = lexicon._freeze() if lexicon.words else ()
    temporary = None
    try:
        target = _cache_file(cache_dir, lexicon.categories, lexicon.max_word_length)
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cache_dir, delete=False, suffix=".tmp") as f:
            temporary = f.name
            pickle.dump({"categories": lexicon.categories, "words": lexicon.words,
                         "frozen": lexicon._frozen}, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, target)  # whole or not at all, even with several workers at once
        temporary = None
    except Exception:  # a read-only or full disk still tags text, only more slowly next time
        pass
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass


def read_word_list(paths: Iterable[str | os.PathLike]) -> list[str]:
    words = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            words += [w.strip() for w in f if w.strip()]
    return words


def build_gazetteer(examples, labels, *, min_length: int = 2, max_word_length: int = 24,
                    names: Mapping[str, Iterable[str]] | None = None, once: bool = False) -> Lexicon:
    """A lexicon of annotated entity surfaces, one category ``G_<label>`` per label.

    ``examples``: ``ner.data.Example``s. Weights grow with how often a surface was annotated,
    unless ``once``: then every distinct (normalised surface, label) counts once, as a KB name
    does (``kb_gazetteer``), so the weight features mean the same in training and at inference.
    ``names``: label -> more names of that label (a KB's aliases, an outside list).
    """
    gazetteer = Lexicon([f"G_{label}" for label in sorted(labels)], max_word_length=max_word_length)
    seen: set[tuple[str, str]] = set()

    def add(word: str, label: str) -> None:
        if once:
            key = (normalize_text(word.strip()), label)
            if key in seen:
                return
            seen.add(key)
        gazetteer.add(word, f"G_{label}", 20.0)

    for example in examples:
        for start, end, label in example.spans:
            if end - start >= min_length and label in labels:
                add(example.text[start:end], label)
    for label, words in (names or {}).items():
        if label not in labels:
            raise ValueError(f"names for label {label!r}, which is not one of the gazetteer's "
                             f"{sorted(labels)}")
        for word in words:
            if len(word.strip()) >= min_length:
                add(word, label)
    return gazetteer


def kb_gazetteer(names: Mapping[str, Iterable[str]], kb_types: Mapping[str, Sequence[str]], *,
                 max_word_length: int = 24) -> Lexicon:
    """The gazetteer of a model trained with ``kb_types`` (label -> KB entity types), filled
    with ``names`` (label -> names and aliases of the KB's entities of those types; ``法雷奥（VALEO）``
    also as ``法雷奥`` and ``VALEO``); each distinct normalised name counts once.

    Its words come from the KB a tagger runs with, never from the model directory, which stores
    only ``kb_types`` (``gazetteer.kb_types``).
    """
    from kgpipe.ner.augment import name_forms

    forms = {label: [form for name in words for form in name_forms(name)] for label, words in names.items()}
    gazetteer = build_gazetteer((), set(kb_types), max_word_length=max_word_length, names=forms, once=True)
    gazetteer.kb_types = {label: tuple(kb_types[label]) for label in sorted(kb_types)}
    return gazetteer

"""Tokenizer: text -> token ids + character offsets [start, end) into the original text.

Chinese characters (and other CJK ideographs, punctuation, symbols) are one token each; runs of
Latin letters and digits are split by greedy longest-match WordPiece (BERT style, ``##``
continuations). Every character is normalised on its own (NFKC, so full-width ``ＡＢ１`` reads as
``ab1``, then lower-cased) and only when that yields exactly one character, so each token's
offsets index the *original* text unchanged. Whitespace produces no token.

A ``vocab.txt`` (BERT/albert_zh style, one token per line, id = line number) is read as is, or
built from data with ``Tokenizer.build``.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import re
import unicodedata
from typing import Iterable, Sequence

import numpy as np

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)


def normalize_char(char: str) -> str:
    """NFKC + lower case of one character, kept only when it stays one character."""
    if char.isascii():
        return char.lower()
    norm = unicodedata.normalize("NFKC", char).lower()
    return norm if len(norm) == 1 else char


def _bmp_table() -> dict[int, str]:
    table = {}
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        char = chr(cp)
        norm = normalize_char(char)
        if norm != char:
            table[cp] = norm
    return table


_TABLE: dict[int, str] | None = None
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")  # beyond the BMP


def normalize_text(text: str) -> str:
    """Character-wise ``normalize_char``: the result has the same length as ``text``."""
    global _TABLE
    if _TABLE is None:  # built once (~0.1 s); str.translate then runs at C speed
        _TABLE = _bmp_table()
    norm = text.translate(_TABLE)
    if len(norm) != len(text) or not text.isascii() and _ASTRAL.search(text):
        return "".join(normalize_char(c) for c in text)
    return norm


def _is_word_char(char: str) -> bool:
    """Latin letters, digits and other alphabetic non-CJK characters join into words."""
    if char.isascii():
        return char.isalnum()
    if _is_cjk(char):
        return False
    return char.isalnum() and unicodedata.category(char)[0] in "LN"


def _is_cjk(char: str) -> bool:
    cp = ord(char)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FA1F
            or 0xF900 <= cp <= 0xFAFF or 0x3040 <= cp <= 0x30FF or 0xAC00 <= cp <= 0xD7AF)


@dataclasses.dataclass(frozen=True)
class Encoding:
    """Tokens of one text, without special tokens.

    Attributes:
        tokens: vocabulary strings (``[UNK]`` for unknown ones), length n.
        ids: int ids, length n.
        offsets: ``(start, end)`` character offsets into the original text, length n.
    """

    tokens: tuple[str, ...]
    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]

    def __len__(self) -> int:
        return len(self.ids)


class Tokenizer:
    """WordPiece tokenizer with character offsets; see the module docstring."""

    def __init__(self, vocab: Sequence[str], *, max_chars_per_word: int = 100):
        missing = [t for t in (PAD, UNK, CLS, SEP) if t not in vocab]
        if missing:
            raise ValueError(f"vocab lacks special tokens {missing}. Received vocab of {len(vocab)}")
        self.vocab = tuple(vocab)
        self.token_to_id = {t: i for i, t in enumerate(self.vocab)}
        self.max_chars_per_word = max_chars_per_word
        self.pad_id, self.unk_id = self.token_to_id[PAD], self.token_to_id[UNK]
        self.cls_id, self.sep_id = self.token_to_id[CLS], self.token_to_id[SEP]

    def __len__(self) -> int:
        return len(self.vocab)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "Tokenizer":
        """Reads a BERT-style ``vocab.txt``."""
        with open(path, encoding="utf-8") as f:
            return cls([line.rstrip("\r\n") for line in f])

    def save(self, path: str | os.PathLike) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(token + "\n" for token in self.vocab)

    @classmethod
    def build(cls, texts: Iterable[str], *, min_char_count: int = 1, min_word_count: int = 3,
              max_size: int = 30000) -> "Tokenizer":
        """Builds a vocabulary: special tokens, characters, ``##`` characters, frequent words.

        Every single character seen becomes a token and a ``##`` continuation, so WordPiece can
        always fall back to characters; whole Latin words/numbers seen ``min_word_count`` times
        are added, most frequent first, up to ``max_size`` tokens.
        """
        chars, words = collections.Counter(), collections.Counter()
        for text in texts:
            norm = normalize_text(text)
            for start, end in split_words(norm):
                if end - start == 1 and not _is_word_char(norm[start]):
                    chars[norm[start]] += 1
                else:
                    words[norm[start:end]] += 1
                    chars.update(norm[start:end])
        vocab = list(SPECIAL_TOKENS)
        vocab += sorted(c for c, n in chars.items() if n >= min_char_count)
        vocab += sorted("##" + c for c, n in chars.items() if n >= min_char_count and _is_word_char(c))
        seen = set(vocab)
        for word, n in words.most_common():
            if len(vocab) >= max_size or n < min_word_count:
                break
            if word not in seen:
                vocab.append(word)
                seen.add(word)
        return cls(vocab)

    def encode(self, text: str) -> Encoding:
        """Tokenizes ``text``; offsets index ``text`` itself."""
        norm = normalize_text(text)
        vocab, unk_id = self.token_to_id, self.unk_id
        tokens, ids, offsets = [], [], []
        for start, end in split_words(norm):
            if end - start == 1:  # the common case (CJK characters, punctuation), inlined
                piece = norm[start]
                if piece not in vocab:
                    piece = text[start]  # e.g. a vocab that keeps full-width punctuation
                known = piece in vocab
                tokens.append(piece if known else UNK)
                ids.append(vocab[piece] if known else unk_id)
                offsets.append((start, end))
                continue
            for piece, p_start, p_end in self._wordpiece(norm, start, end):
                tokens.append(piece if piece in vocab else UNK)
                ids.append(vocab.get(piece, unk_id))
                offsets.append((p_start, p_end))
        return Encoding(tuple(tokens), tuple(ids), tuple(offsets))

    def encode_batch(self, texts: Sequence[str]) -> list[Encoding]:
        """``encode`` of each text (the same ``Encoding``s), computed over all texts at once.

        The texts are joined by NUL (a control character, so no token spans two texts);
        single-character tokens, nearly all of Chinese text, get their ids from a code-point
        table with numpy, and only word runs take the WordPiece loop.
        """
        norms = [normalize_text(text) for text in texts]
        joined, joined_text = "\x00".join(norms), "\x00".join(texts)
        if not joined_text.isascii() and (_ASTRAL.search(joined) or _ASTRAL.search(joined_text)):
            return [self.encode(text) for text in texts]  # the table covers the BMP only
        starts, ends, ids = self._batch_tokens(joined, joined_text)
        bases = np.cumsum([0] + [len(norm) + 1 for norm in norms[:-1]])
        text_of = np.searchsorted(bases, starts, side="right") - 1
        bounds = np.concatenate([[0], np.cumsum(np.bincount(text_of, minlength=len(texts)))])
        tokens = self._vocab_array()[ids].tolist()
        starts, ends = (starts - bases[text_of]).tolist(), (ends - bases[text_of]).tolist()
        ids = ids.tolist()
        return [Encoding(tuple(tokens[a:b]), tuple(ids[a:b]), tuple(zip(starts[a:b], ends[a:b])))
                for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]

    def _batch_tokens(self, norm: str, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(starts, ends, ids)`` int64 [tokens] of a BMP-only text, in text order."""
        word_runs, covered = [], np.zeros(len(norm) + 1, np.int64)
        for start, end, is_word in _runs(norm):
            if is_word and end - start > 1:
                word_runs.append((start, end))
            if not is_word or end - start > 1:
                covered[start] += 1
                covered[end] -= 1
        single = np.flatnonzero(np.cumsum(covered[:-1]) == 0)
        table = self._char_table()
        norm_codes = np.frombuffer(norm.encode("utf-32-le"), np.uint32)
        ids = table[norm_codes[single]]
        missing = ids < 0  # as ``encode``: the original character, then [UNK]
        ids[missing] = table[np.frombuffer(text.encode("utf-32-le"), np.uint32)[single[missing]]]
        ids[ids < 0] = self.unk_id
        pieces = [(p_start, p_end, self.token_to_id.get(piece, self.unk_id))
                  for start, end in word_runs for piece, p_start, p_end in self._wordpiece(norm, start, end)]
        if not pieces:
            return single, single + 1, ids
        more = np.array(pieces, np.int64).reshape(-1, 3)
        starts = np.concatenate([single, more[:, 0]])
        order = np.argsort(starts, kind="stable")
        return (starts[order], np.concatenate([single + 1, more[:, 1]])[order],
                np.concatenate([ids, more[:, 2]])[order])

    def _char_table(self) -> np.ndarray:
        """int64 [65536]: the id of each BMP character that is a vocabulary token, else -1."""
        if getattr(self, "_table", None) is None:
            table = np.full(0x10000, -1, np.int64)
            for token, i in self.token_to_id.items():
                if len(token) == 1 and ord(token) < 0x10000:
                    table[ord(token)] = i
            self._table = table
        return self._table

    def _vocab_array(self) -> np.ndarray:
        if getattr(self, "_vocab_objects", None) is None:
            self._vocab_objects = np.array(self.vocab, dtype=object)
        return self._vocab_objects

    def token_count(self, text: str) -> int:
        return len(self.encode(text))

    def _wordpiece(self, norm: str, start: int, end: int):
        if end - start == 1:
            return [(norm[start], start, end)]
        if end - start > self.max_chars_per_word:
            return [(UNK, start, end)]
        pieces, pos = [], start
        while pos < end:
            stop = end
            while stop > pos:
                piece = norm[pos:stop] if pos == start else "##" + norm[pos:stop]
                if piece in self.token_to_id:
                    break
                stop -= 1
            if stop == pos:  # not even one character known: the whole word is unknown
                return [(UNK, start, end)]
            pieces.append((piece, pos, stop))
            pos = stop
        return pieces


def _char_class(predicate) -> str:
    """A regex character class of the BMP code points where ``predicate`` holds."""
    ranges, start = [], None
    for cp in range(0x10001):
        inside = cp < 0x10000 and not 0xD800 <= cp <= 0xDFFF and predicate(chr(cp))
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(cp - 1)) if cp - 1 > start else ""))
            start = None
    return "[" + "".join(ranges) + "]"


def _is_skipped(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs")


_RUNS: re.Pattern | None = None


def _runs(norm: str):
    """``(start, end, is_word)`` of the skip runs and word runs of BMP-only ``norm``; every
    character outside them is a token of its own."""
    global _RUNS
    if _RUNS is None:  # built once (~0.1 s)
        _RUNS = re.compile(f"({_char_class(_is_skipped)}+)|{_char_class(_is_word_char)}+")
    for match in _RUNS.finditer(norm):
        start, end = match.span()
        yield start, end, match.lastindex is None


def split_words(norm: str) -> list[tuple[int, int]]:
    """Pre-tokenizes normalised text into ``(start, end)``: word runs or single characters.

    Whitespace and control/format characters produce no span; runs of word characters
    (``_is_word_char``) one span; every other character a span of its own.
    """
    if not norm.isascii() and _ASTRAL.search(norm):
        return _split_words_python(norm)  # the regex classes cover the BMP only
    # The regex finds the (few) word and skip runs; the characters between them are
    # single-character spans, filled in without a Python step per character.
    spans, pos = [], 0
    for start, end, is_word in _runs(norm):
        spans += zip(range(pos, start), range(pos + 1, start + 1))
        if is_word:
            spans.append((start, end))
        pos = end
    spans += zip(range(pos, len(norm)), range(pos + 1, len(norm) + 1))
    return spans


def _split_words_python(norm: str) -> list[tuple[int, int]]:
    """``split_words`` character by character (any code point; the reference for tests)."""
    spans, i, n = [], 0, len(norm)
    while i < n:
        char = norm[i]
        if _is_skipped(char):
            i += 1
        elif _is_word_char(char):
            j = i + 1
            while j < n and _is_word_char(norm[j]):
                j += 1
            spans.append((i, j))
            i = j
        else:
            spans.append((i, i + 1))
            i += 1
    return spans

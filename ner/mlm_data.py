"""Masked-LM pre-training data: unlabelled text -> segments -> whole-word-masked batches.

Text comes from every format the project reads: plain lines, TSV (last column), JSON lines with
a ``text`` field (DuIE, CLUENER), JSON arrays of ``{"text": ..}`` (CMeEE) and ``char TAG``
column files (MSRA, e-commerce). Files in a labelled NER format (column files, CLUENER JSON with
``label``, CMeEE JSON with ``entities``) lose their last ``exclude_tail`` sentences, capped at
10% as in ``ner train``'s ``hold_out``, so that the dev slices ``ner train`` cuts from the same
files stay unseen.

Documents are split into sentences (``。！？；`` and newlines) and consecutive sentences are packed
into segments of at most ``max_tokens`` tokens. Each token records whether it starts a jieba word,
which is what whole-word masking (as albert_zh's ``create_pretraining_data.py``) needs: a word is
masked entirely or not at all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from kgpipe.ner.tokenizer import MASK, SPECIAL_TOKENS, Tokenizer

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def _tail_kept(texts: list[str], exclude_tail: int) -> list[str]:
    """Drops the dev tail ``ner train`` would hold out: min(exclude_tail, len // 10) sentences."""
    size = min(exclude_tail, len(texts) // 10)
    return texts[:len(texts) - size]


def _read_column_texts(path: str) -> list[str]:
    texts, chars = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                if chars:
                    texts.append("".join(chars))
                chars = []
                continue
            chars.append(line.split()[0] if line.strip() else " ")
    if chars:
        texts.append("".join(chars))
    return texts


def _read_json_texts(path: str) -> tuple[list[str], bool]:
    """Texts of a JSON array or JSON lines file, and whether it is labelled NER data."""
    with open(path, encoding="utf-8") as f:
        head = f.read(1)
        f.seek(0)
        if head == "[":
            records = json.load(f)
        else:
            records = [json.loads(line) for line in f if line.strip()]
    texts, labelled = [], False
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ValueError(f"{path}: record {number} is not an object with a string 'text'")
        texts.append(record["text"])
        labelled = labelled or "label" in record or "entities" in record
    return texts, labelled


def read_unlabelled(path: str | os.PathLike, *, exclude_tail: int = 0) -> list[str]:
    """Texts of one file for pre-training (see the module docstring for formats and tails).

    Raises:
        ValueError: naming the file, when it does not exist or a record has no text.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"--unlabelled: no such file: {path!r}")
    if path.endswith((".json", ".jsonl")):
        texts, labelled = _read_json_texts(path)
        return _tail_kept(texts, exclude_tail) if labelled else texts
    if not path.endswith((".tsv", ".gz")) and _looks_like_columns(path):
        return _tail_kept(_read_column_texts(path), exclude_tail)
    from kgpipe.ner.pretrain import read_texts
    return list(read_texts(path))


def _looks_like_columns(path: str) -> bool:
    """True when the first non-blank lines are ``char<sep>TAG`` pairs with a one-char token."""
    with open(path, encoding="utf-8") as f:
        lines = [line.split() for line, _ in zip(f, range(50)) if line.strip()]
    return bool(lines) and all(len(p) == 2 and len(p[0]) == 1 for p in lines)


@dataclasses.dataclass(frozen=True)
class Segments:
    """Packed, tokenized segments, flat.

    Attributes:
        token_ids: int32 [total_tokens], every segment's token ids, no [CLS]/[SEP].
        word_starts: bool [total_tokens], true where a token starts a jieba word.
        offsets: int64 [num_segments + 1], segment ``i`` is ``token_ids[offsets[i]:offsets[i+1]]``.
    """

    token_ids: np.ndarray
    word_starts: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take(self, indices: Sequence[int]) -> "Segments":
        parts = [(self.token_ids[self.offsets[i]:self.offsets[i + 1]],
                  self.word_starts[self.offsets[i]:self.offsets[i + 1]]) for i in indices]
        lengths = np.array([len(ids) for ids, _ in parts], np.int64)
        return Segments(np.concatenate([ids for ids, _ in parts]).astype(np.int32),
                        np.concatenate([w for _, w in parts]).astype(bool),
                        np.concatenate([[0], np.cumsum(lengths)]))

    def save(self, path: str | os.PathLike) -> None:
        np.savez(path, token_ids=self.token_ids, word_starts=self.word_starts, offsets=self.offsets)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Segments":
        with np.load(path) as archive:
            return cls(archive["token_ids"], archive["word_starts"], archive["offsets"])


def _chunks(text: str, max_chars: int) -> Iterator[str]:
    """Consecutive sentences of ``text`` packed into pieces of at most ``max_chars`` chars."""
    piece = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > max_chars:  # an over-long sentence is cut
            if piece:
                yield piece
                piece = ""
            yield sentence[:max_chars]
            sentence = sentence[max_chars:]
        if len(piece) + len(sentence) > max_chars:
            yield piece
            piece = ""
        piece += sentence
    if piece.strip():
        yield piece


def _word_starts(text: str, offsets: Sequence[tuple[int, int]]) -> list[bool]:
    import jieba

    starts, position = set(), 0
    for word in jieba.lcut(text):
        starts.add(position)
        position += len(word)
    return [start in starts for start, _ in offsets]


def build_segments(texts: Iterable[str], tokenizer: Tokenizer, max_tokens: int) -> Segments:
    """Tokenizes ``texts`` and packs them into segments of at most ``max_tokens`` tokens.

    Tokens never outnumber characters (whitespace gives none), so cutting by characters keeps
    every piece within ``max_tokens``; consecutive pieces (of one text, or of consecutive texts,
    e.g. the sentences of one corpus in order) are then packed together, so short sentences do
    not leave most of a fixed-length batch padding.
    """
    ids, starts, lengths = [], [], []
    for text in texts:
        for chunk in _chunks(text, max_tokens):
            encoding = tokenizer.encode(chunk)
            if len(encoding) < 2:
                continue
            ids.extend(encoding.ids)
            starts.extend(_word_starts(chunk, encoding.offsets))
            lengths.append(len(encoding))
    pieces = Segments(np.asarray(ids, np.int32), np.asarray(starts, bool),
                      np.concatenate([[0], np.cumsum(np.asarray(lengths, np.int64))]))
    return pack(pieces, max_tokens)


def pack(segments: Segments, max_tokens: int) -> Segments:
    """Greedily joins consecutive segments while the total stays within ``max_tokens``."""
    lengths = np.diff(segments.offsets)
    bounds, total = [0], 0
    for i, length in enumerate(lengths):
        if total and total + length > max_tokens:
            bounds.append(int(segments.offsets[i]))
            total = 0
        total += int(length)
    bounds.append(int(segments.offsets[-1]))
    return Segments(segments.token_ids, segments.word_starts, np.asarray(bounds, np.int64))


@dataclasses.dataclass(frozen=True)
class MaskingConfig:
    """Whole-word masking, as BERT/albert_zh: 15% of tokens, 80% [MASK] / 10% random / 10% kept."""

    seq_length: int = 128
    max_predictions: int = 20
    mask_rate: float = 0.15

    def __post_init__(self):
        if self.seq_length < 3:
            raise ValueError(f"`seq_length` must be >= 3. Received: seq_length={self.seq_length}")
        if self.max_predictions < 1:
            raise ValueError("`max_predictions` must be >= 1. "
                             f"Received: max_predictions={self.max_predictions}")
        if not 0.0 < self.mask_rate < 1.0:
            raise ValueError(f"`mask_rate` must be in (0, 1). Received: mask_rate={self.mask_rate}")


def _choose_words(starts: np.ndarray, budget: int, rng: np.random.Generator) -> list[int]:
    """Token positions of whole words, picked in random order until ``budget`` tokens."""
    bounds = np.flatnonzero(starts).tolist()
    if not bounds or bounds[0] != 0:
        bounds = [0] + bounds
    bounds.append(len(starts))
    chosen: list[int] = []
    for w in rng.permutation(len(bounds) - 1):
        size = bounds[w + 1] - bounds[w]
        if len(chosen) + size > budget:
            continue
        chosen.extend(range(bounds[w], bounds[w + 1]))
        if len(chosen) >= budget:
            break
    return sorted(chosen)


def mask_batch(segments: Segments, indices: Sequence[int], config: MaskingConfig,
               tokenizer: Tokenizer, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One masked-LM batch.

    Returns:
        ``token_ids`` int32 [batch, seq_length] ([CLS] segment [SEP], 0-padded, masked);
        ``masked_positions`` int32 [batch, max_predictions] (0 where unused);
        ``masked_labels`` int32 [batch, max_predictions], the original ids, -1 where unused.
    """
    batch, length = len(indices), config.seq_length
    token_ids = np.zeros((batch, length), np.int32)
    positions = np.zeros((batch, config.max_predictions), np.int32)
    labels = np.full((batch, config.max_predictions), -1, np.int32)
    mask_id, first_regular = tokenizer.token_to_id[MASK], len(SPECIAL_TOKENS)
    for row, index in enumerate(indices):
        start, end = segments.offsets[index], segments.offsets[index + 1]
        ids = segments.token_ids[start:end][:length - 2]
        starts = segments.word_starts[start:end][:length - 2]
        token_ids[row, 0], token_ids[row, len(ids) + 1] = tokenizer.cls_id, tokenizer.sep_id
        token_ids[row, 1:len(ids) + 1] = ids
        budget = min(config.max_predictions, max(1, round(len(ids) * config.mask_rate)))
        chosen = np.asarray(_choose_words(starts, budget, rng), np.int64)
        if not len(chosen):
            continue
        labels[row, :len(chosen)] = ids[chosen]
        positions[row, :len(chosen)] = chosen + 1
        action = rng.random(len(chosen))
        replaced = np.where(action < 0.8, mask_id,
                            np.where(action < 0.9, rng.integers(first_regular, len(tokenizer),
                                                                len(chosen)), ids[chosen]))
        token_ids[row, chosen + 1] = replaced
    return {"token_ids": token_ids, "masked_positions": positions, "masked_labels": labels}

"""Dictionary mention detection: Aho-Corasick over the normalised KB aliases.

The document is normalised character by character with an offset map, so a
match in the normalised text maps back to exact ``[start, end)`` offsets of the
original (full-width, traditional or spaced spellings match too).
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick

from kgpipe.linking.features import LABEL_FOR_CLASS, kb_classes
from kgpipe.linking.index import AliasIndex
from kgpipe.linking.normalize import normalize_with_offsets
from kgpipe.schemas.records import Document, Mention


def build_automaton(index: AliasIndex, min_length: int) -> ahocorasick.Automaton:
    """Automaton over every alias key of at least ``min_length`` characters (not all digits).

    Values are key indices. Building takes tens of seconds for millions of
    aliases, so the linker builds it once, on the first ``detect_mentions``.
    """
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)  # ints: no tuple per key
    blob, offsets = index.keys.blob_and_offsets()
    for key_index, (start, end) in enumerate(zip(offsets, offsets[1:])):
        key = blob[start:end].decode("utf-8")
        if len(key) >= min_length and not key.isdigit():
            automaton.add_word(key, key_index)
    if len(automaton):
        automaton.make_automaton()
    return automaton


ACRONYM_LENGTH = 3


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def word_boundaries(tokenizer, text: str) -> frozenset[int]:
    """Character offsets where a word starts or ends, per a jieba ``Tokenizer``."""
    offsets = {0, len(text)}
    position = 0
    for token in tokenizer.cut(text):
        position += len(token)
        offsets.add(position)
    return frozenset(offsets)


def _label(index: AliasIndex, postings: list[tuple[int, float, bool]]) -> str:
    """The NER-style label of an alias: its entities' class if they agree, else ``MISC``.

    An ambiguous alias (苹果: company or fruit) gets a neutral label so that
    the type feature does not prejudge the linker's choice.
    """
    labels = set()
    for entity, _, _ in postings:
        classes = kb_classes(index.entity_types(entity))
        labels.add(LABEL_FOR_CLASS.get(classes[0], "MISC") if classes else "MISC")
    return labels.pop() if len(labels) == 1 else "MISC"


def find_alias_mentions(automaton: ahocorasick.Automaton, index: AliasIndex, document: Document,
                        mentions: Sequence[Mention], model: str,
                        boundaries: frozenset[int] | None = None) -> list[Mention]:
    """Leftmost-longest alias matches that overlap no given mention, in text order.

    With ``boundaries`` (from :func:`word_boundaries`), a match must start or
    end on a word boundary: ``东大`` is not found inside ``股东大会``, while
    ``英国`` and ``伦敦`` are found in ``英国伦敦``, which jieba keeps as one word.

    A match of a Latin alias must not cut a word (``"apple"`` in ``"pineapple"``),
    and a Latin alias of at most ``ACRONYM_LENGTH`` letters must be written in
    capitals (``"US"``, not the word ``"us"``).
    The label is the alias's entity class (``MISC`` when its entities differ);
    the score is the highest P(entity | alias).
    """
    if not len(automaton) or not document.text:
        return []
    normalized, origin = normalize_with_offsets(document.text)
    lengths = index.arrays["key_lengths"]
    spans = []
    for end, key_index in automaton.iter(normalized):
        length = int(lengths[key_index])
        spans.append((end - length + 1, -length, key_index))
    spans.sort()
    taken = sorted((m.start, m.end) for m in mentions if m.doc_id == document.id)
    found: list[Mention] = []
    last_end = -1
    text = document.text
    for start, negative_length, key_index in spans:
        start_char = origin[start]
        end_char = origin[start - negative_length - 1] + 1
        if start_char < last_end or any(s < end_char and start_char < e for s, e in taken):
            continue
        if boundaries is not None and start_char not in boundaries and end_char not in boundaries:
            continue
        if (start_char > 0 and _is_word_char(text[start_char - 1]) and _is_word_char(text[start_char])) or \
                (end_char < len(text) and _is_word_char(text[end_char]) and _is_word_char(text[end_char - 1])):
            continue
        surface = text[start_char:end_char]
        if surface.isascii() and len(surface) <= ACRONYM_LENGTH and not surface.isupper():
            continue
        postings = index.postings(key_index)
        prior = max(p for _, p, _ in postings)
        label = _label(index, postings)
        found.append(Mention(doc_id=document.id, start=start_char, end=end_char,
                             text=surface, label=label,
                             score=round(prior, 6), model=model))
        last_end = end_char
    return found

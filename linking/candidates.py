"""Candidate generation: exact normalised alias first, fuzzy only when exact finds nothing,
merged with character n-gram retrieval (:mod:`linking.ngram`).

A fuzzy candidate's ``match`` is not its edit similarity but :func:`fuzzy_match`, which
charges an edit on a CJK character (or a digit) more than one on a Latin letter: in
Chinese, one character more or less usually names a different entity (一汽集团 is FAW,
上汽集团 SAIC; 小米粒科技 is not 小米科技), while ``Huawey`` is a typo of ``Huawei``.
"""

from __future__ import annotations

import dataclasses
import functools
import unicodedata

from rapidfuzz import process
from rapidfuzz.distance import Indel, Levenshtein

from kgpipe.linking.index import AliasIndex

# An exact match on an alias counts a little less than one on the canonical name.
ALIAS_MATCH = 0.95


@dataclasses.dataclass(frozen=True)
class RawCandidate:
    """A KB entity proposed for a surface form, before disambiguation.

    Attributes:
        entity_index: Row of the entity in the index.
        alias_prior: P(entity | matched alias) in [0, 1].
        match: Surface match quality in [0, 1] (1 = exact canonical name;
            :func:`fuzzy_match` for a fuzzy candidate).
        fuzzy: Whether it came from the fuzzy or n-gram stage.
        retrieval: n-gram TF-IDF cosine of the mention and the matched alias key
            (1 for an exact match, 0 when n-gram retrieval did not find it).
        key_index: Alias key that matched (-1 if unknown).
    """

    entity_index: int
    alias_prior: float
    match: float
    fuzzy: bool = False
    retrieval: float = 0.0
    key_index: int = -1


class CandidateGenerator:
    """Proposes candidates for a normalised surface form.

    Args:
        index: The alias index.
        fuzzy: Try character-bigram + edit-distance matching when no alias matches exactly.
        fuzzy_min_similarity: Normalised Indel similarity (rapidfuzz) a fuzzy alias needs
            to become a candidate (recall; its ``match`` is :func:`fuzzy_match`).
        fuzzy_cjk_edit_cost: Cost of an edit on a CJK character or digit in
            :func:`fuzzy_match`, in Latin-letter edits.
        max_candidates: Most candidates returned (highest alias prior / match first).
        fuzzy_pool: Keys re-scored by edit distance after the bigram filter.
        ngram_keys: Alias keys taken from n-gram retrieval (0: none).
        ngram_always: Retrieve n-gram candidates even when an alias matches exactly,
            and order candidates by retrieval score (the trained ranker's mode); otherwise
            n-grams, when ``fuzzy`` is on, only serve mentions for which exact and fuzzy
            matching found nothing.
        cache_size: keys whose candidates are remembered (least recently used go first; 0: no
            cache). Corpora repeat surfaces, NIL ones above all, and a fuzzy lookup costs far
            more than the rest of linking a mention. At most ``max_candidates`` (~300 bytes
            each) per key: ~150 MB in the worst case at the default.
    """

    def __init__(self, index: AliasIndex, fuzzy: bool = True, fuzzy_min_similarity: float = 0.75,
                 max_candidates: int = 30, fuzzy_pool: int = 64, fuzzy_cjk_edit_cost: float = 3.0,
                 ngram_keys: int = 0, ngram_always: bool = False, cache_size: int = 16_384) -> None:
        if cache_size < 0:
            raise ValueError(f"`cache_size` must be >= 0. Received: cache_size={cache_size}")
        self.index = index
        self.fuzzy = fuzzy
        self.fuzzy_min_similarity = fuzzy_min_similarity
        self.fuzzy_cjk_edit_cost = fuzzy_cjk_edit_cost
        self.max_candidates = max_candidates
        self.fuzzy_pool = fuzzy_pool
        self.ngram_keys = ngram_keys
        self.ngram_always = ngram_always
        # Thread-safe, per generator (so per index): tuples, since callers may change their list.
        self._cached = functools.lru_cache(maxsize=cache_size)(self._generate) if cache_size else self._generate

    def __call__(self, key: str) -> list[RawCandidate]:
        """Returns candidates for normalised key ``key``, best first (deterministic)."""
        return list(self._cached(key))

    def _generate(self, key: str) -> tuple[RawCandidate, ...]:
        position = self.index.keys.find(key) if key else -1
        found = [] if position < 0 else [
            RawCandidate(e, p, 1.0 if is_name else ALIAS_MATCH, retrieval=1.0, key_index=position)
            for e, p, is_name in self.index.postings(position)]
        if not found and self.fuzzy and len(key) >= 2:
            found = self._fuzzy(key)
        if self.ngram_keys and key and (self.ngram_always or (self.fuzzy and not found)):
            found = merge_candidates(found, self._ngram(key))
        if self.ngram_always:
            found.sort(key=lambda c: (-c.retrieval, -c.match, c.entity_index))
        else:
            found.sort(key=lambda c: (-c.match * c.alias_prior, -c.match, c.entity_index))
        return tuple(found[: self.max_candidates])

    def _ngram(self, key: str) -> list[RawCandidate]:
        out = []
        for key_index, cosine in self.index.ngrams.search(key, self.ngram_keys):
            alias = self.index.keys[key_index]
            # The ranker computes its own string features; its candidates need only a cheap match.
            match = (Indel.normalized_similarity(key, alias) if self.ngram_always
                     else fuzzy_match(key, alias, self.fuzzy_cjk_edit_cost))
            out.extend(RawCandidate(entity, prior, 1.0 if match == 1.0 and is_name else min(match, ALIAS_MATCH),
                                    fuzzy=match < 1.0, retrieval=round(cosine, 6), key_index=key_index)
                       for entity, prior, is_name in self.index.postings(key_index))
        return out

    def _fuzzy(self, key: str) -> list[RawCandidate]:
        best: dict[int, RawCandidate] = {}
        pool = [key_index for key_index, _dice in self.index.similar_keys(key, self.fuzzy_pool)]
        choices = [self.index.keys[key_index] for key_index in pool]
        matches = process.extract(key, choices, scorer=Indel.normalized_similarity,
                                  score_cutoff=self.fuzzy_min_similarity, limit=None)
        for choice, _similarity, position in matches:
            key_index = pool[position]
            match = fuzzy_match(key, choice, self.fuzzy_cjk_edit_cost)
            for entity, prior, _is_name in self.index.postings(key_index):
                candidate = RawCandidate(entity, prior, match, fuzzy=True, key_index=key_index)
                current = best.get(entity)
                if current is None or (candidate.match, candidate.alias_prior) > (current.match, current.alias_prior):
                    best[entity] = candidate
        return list(best.values())


def merge_candidates(first: list[RawCandidate], second: list[RawCandidate]) -> list[RawCandidate]:
    """One candidate per entity: the better (match, prior), with the higher retrieval score."""
    best: dict[int, RawCandidate] = {}
    for candidate in [*first, *second]:
        current = best.get(candidate.entity_index)
        if current is None:
            best[candidate.entity_index] = candidate
            continue
        winner = max(current, candidate, key=lambda c: (c.match, c.alias_prior, -c.fuzzy))
        best[candidate.entity_index] = dataclasses.replace(winner, retrieval=max(current.retrieval, candidate.retrieval))
    return list(best.values())


def fuzzy_match(key: str, alias_key: str, cjk_edit_cost: float = 3.0) -> float:
    """How likely ``key`` is a misspelling of ``alias_key``, in [0, 1].

    ``1 - cost / length``: the Levenshtein edits between the two normalised keys,
    each costing ``cjk_edit_cost`` when it touches a CJK character, kana, hangul or
    digit (a differing digit is another model number) and 1 otherwise (letters of
    alphabets, symbols), over the longer key's length in characters. With the default cost 3,
    one substituted Latin letter in 6 gives 0.83 (``huawey``/``huawei``), one CJK
    character in 4 gives 0.25 (一汽集团/上汽集团), in 8 gives 0.62 (有线/有限公司).

    Args:
        key: Normalised mention surface.
        alias_key: Normalised KB alias.
        cjk_edit_cost: Cost of an edit on a CJK character or digit (>= 0).

    Returns:
        The match score, 1.0 for equal keys and 0.0 when the edits outweigh the length.
    """
    length = max(len(key), len(alias_key))
    if not length:
        return 1.0
    cost = 0.0
    for op in Levenshtein.editops(key, alias_key):
        touched = [key[op.src_pos]] if op.tag != "insert" else []
        if op.tag != "delete":
            touched.append(alias_key[op.dest_pos])
        cost += max(cjk_edit_cost if _dense(char) else 1.0 for char in touched)
    return max(0.0, 1.0 - cost / length)


def _dense(char: str) -> bool:
    """Whether a character carries a word's worth of identity (CJK, kana, hangul, digit).

    Normalised keys are NFKC, so wide characters left are East Asian scripts.
    """
    return char.isdigit() or unicodedata.east_asian_width(char) in ("W", "F")

"""Candidate generation: exact normalised alias first, fuzzy only when exact finds nothing."""

from __future__ import annotations

import dataclasses

from rapidfuzz import process
from rapidfuzz.distance import Indel

from linking.index import AliasIndex

# An exact match on an alias counts a little less than one on the canonical name.
ALIAS_MATCH = 0.95


@dataclasses.dataclass(frozen=True)
class RawCandidate:
    """A KB entity proposed for a surface form, before disambiguation.

    Attributes:
        entity_index: Row of the entity in the index.
        alias_prior: P(entity | matched alias) in [0, 1].
        match: Surface match quality in [0, 1] (1 = exact canonical name).
        fuzzy: Whether it came from the fuzzy stage.
    """

    entity_index: int
    alias_prior: float
    match: float
    fuzzy: bool = False


class CandidateGenerator:
    """Proposes candidates for a normalised surface form.

    Args:
        index: The alias index.
        fuzzy: Try character-bigram + edit-distance matching when no alias matches exactly.
        fuzzy_min_similarity: Normalised Indel similarity (rapidfuzz) a fuzzy alias needs.
        max_candidates: Most candidates returned (highest alias prior / match first).
        fuzzy_pool: Keys re-scored by edit distance after the bigram filter.
    """

    def __init__(self, index: AliasIndex, fuzzy: bool = True, fuzzy_min_similarity: float = 0.75,
                 max_candidates: int = 30, fuzzy_pool: int = 64) -> None:
        self.index = index
        self.fuzzy = fuzzy
        self.fuzzy_min_similarity = fuzzy_min_similarity
        self.max_candidates = max_candidates
        self.fuzzy_pool = fuzzy_pool

    def __call__(self, key: str) -> list[RawCandidate]:
        """Returns candidates for normalised key ``key``, best first (deterministic)."""
        found = [RawCandidate(e, p, 1.0 if is_name else ALIAS_MATCH)
                 for e, p, is_name in self.index.exact(key)]
        if not found and self.fuzzy and len(key) >= 2:
            found = self._fuzzy(key)
        found.sort(key=lambda c: (-c.match * c.alias_prior, -c.match, c.entity_index))
        return found[: self.max_candidates]

    def _fuzzy(self, key: str) -> list[RawCandidate]:
        best: dict[int, RawCandidate] = {}
        pool = [key_index for key_index, _dice in self.index.similar_keys(key, self.fuzzy_pool)]
        choices = [self.index.keys[key_index] for key_index in pool]
        matches = process.extract(key, choices, scorer=Indel.normalized_similarity,
                                  score_cutoff=self.fuzzy_min_similarity, limit=None)
        for _choice, similarity, position in matches:
            key_index = pool[position]
            for entity, prior, _is_name in self.index.postings(key_index):
                candidate = RawCandidate(entity, prior, similarity, fuzzy=True)
                current = best.get(entity)
                if current is None or (candidate.match, candidate.alias_prior) > (current.match, current.alias_prior):
                    best[entity] = candidate
        return list(best.values())

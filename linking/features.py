"""Disambiguation features: NER/KB type compatibility, context similarity, relatedness.

Every feature is a float in [0, 1]; the linker combines them with the
weights of its config.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from kgpipe.linking.index import AliasIndex, entity_context_text, hashed_bigrams
from kgpipe.linking.normalize import normalize
from kgpipe.schemas.vocab import KGP, class_for_kb_type, class_for_label

# Compatible-but-not-equal class pairs (NER class, KB class) -> score. Brands are
# often tagged ORG and products by brand name; places stand for governments.
_PARTIAL = {
    (KGP.Organization, KGP.Brand): 0.8, (KGP.Brand, KGP.Organization): 0.8,
    (KGP.Brand, KGP.Product): 0.6, (KGP.Product, KGP.Brand): 0.6,
    (KGP.Organization, KGP.Product): 0.3, (KGP.Product, KGP.Organization): 0.3,
    (KGP.Organization, KGP.Location): 0.3, (KGP.Location, KGP.Organization): 0.2,
}
UNKNOWN_TYPE = 0.5

# The NER label a dictionary mention gets from its entity's class.
LABEL_FOR_CLASS = {
    KGP.Person: "PER", KGP.Location: "LOC", KGP.Organization: "ORG", KGP.Brand: "BRAND",
    KGP.Product: "PRODUCT", KGP.CreativeWork: "WORK", KGP.Event: "EVENT", KGP.Position: "POSITION",
}


def kb_classes(types: Sequence[str]) -> list:
    """Ontology classes of KB types, unknown ones dropped, in first-seen order."""
    out = []
    for kb_type in types:
        cls = class_for_kb_type(kb_type)
        if cls != KGP.Entity and cls not in out:
            out.append(cls)
    return out


def type_compatibility(label: str, types: Sequence[str]) -> float:
    """How well an NER label fits an entity's KB types (0.5 when either is unknown)."""
    label_class = class_for_label(label)
    classes = kb_classes(types)
    if label_class == KGP.Entity or not classes:
        return UNKNOWN_TYPE
    return max(1.0 if c == label_class else _PARTIAL.get((label_class, c), 0.0) for c in classes)


class TfidfVector:
    """Sparse character-bigram TF-IDF vector, L2-normalised.

    Attributes:
        codes: ``uint32[m]`` sorted hashed bigrams.
        weights: ``float64[m]`` unit-norm weights (empty text: zero vector).
    """

    __slots__ = ("codes", "weights")

    def __init__(self, codes: np.ndarray, weights: np.ndarray) -> None:
        self.codes = codes
        self.weights = weights

    def cosine(self, other: "TfidfVector") -> float:
        if not len(self.codes) or not len(other.codes):
            return 0.0
        _, mine, theirs = np.intersect1d(self.codes, other.codes, assume_unique=True, return_indices=True)
        return float(np.clip(np.dot(self.weights[mine], other.weights[theirs]), 0.0, 1.0))


class ContextModel:
    """TF-IDF vectors of texts and (cached) of entities, with the KB's IDF.

    Thread-safe: a Beam worker may share one linker between threads.

    Args:
        index: The alias index (its IDF table and entity texts).
        cache_size: Entity vectors kept (LRU).
    """

    def __init__(self, index: AliasIndex, cache_size: int = 100_000) -> None:
        self.index = index
        self.cache_size = cache_size
        self._entities: OrderedDict[int, tuple[TfidfVector, frozenset[str], dict]] = OrderedDict()
        self._lock = threading.Lock()

    def vector(self, normalized_text: str) -> TfidfVector:
        """Vector of an already normalised text."""
        codes, _ = hashed_bigrams([normalized_text])
        if not len(codes):
            return TfidfVector(np.zeros(0, np.uint32), np.zeros(0))
        unique, counts = np.unique(codes, return_counts=True)
        weights = (1.0 + np.log(counts)) * self.index.idf(unique)
        return TfidfVector(unique, weights / np.linalg.norm(weights))

    def entity(self, entity_index: int) -> tuple[TfidfVector, frozenset[str], dict]:
        """``(vector, normalised attribute values, raw attributes)`` of an entity."""
        with self._lock:
            cached = self._entities.get(entity_index)
            if cached is not None:
                self._entities.move_to_end(entity_index)
                return cached
        tables = self.index.tables
        raw = tables["entity_attributes"][entity_index]
        attributes = json.loads(raw) if raw else {}
        description = tables["entity_descriptions"][entity_index]
        vector = self.vector(normalize(entity_context_text(description, attributes)))
        values = frozenset(normalize(v) for vs in attributes.values() for v in vs) | frozenset(
            v for vs in attributes.values() for v in vs)
        cached = (vector, values, attributes)
        with self._lock:
            self._entities[entity_index] = cached
            if len(self._entities) > self.cache_size:
                self._entities.popitem(last=False)
        return cached

    def relatedness(self, first: int, second: int, saturation: float) -> float:
        """How related two entities are: 1 if one's attributes name or cite the other,
        else their description similarity scaled by ``saturation``."""
        if first == second:
            return 0.0
        vector_a, values_a, _ = self.entity(first)
        vector_b, values_b, _ = self.entity(second)
        for values, other in ((values_a, second), (values_b, first)):
            if values and (self.index.entity_id(other) in values
                           or normalize(self.index.tables["entity_names"][other]) in values):
                return 1.0
        return min(1.0, vector_a.cosine(vector_b) / saturation)

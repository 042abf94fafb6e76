"""``LinkerConfig``: the linking package's one frozen config (re-exported by ``linking.linker``)."""

from __future__ import annotations

import dataclasses

from kgpipe.linking.kb import KbFormat


@dataclasses.dataclass(frozen=True)
class LinkerConfig:
    """Configuration of :class:`EntityLinker` (validated on creation).

    Attributes:
        kb_path: KB file in a supported format, or an index directory from
            ``kgpipe kb build``; ``None`` = the bundled default KB. A file is
            indexed on every load (0.1 s for the default KB, about a minute
            per million entities), so build large KBs once with ``kgpipe kb build``.
        kb_format: A :class:`linking.kb.KbFormat` value; ``None`` infers it.
        top_k: Alternatives kept on each Link.
        nil_threshold: Best score below this -> NIL.
        fuzzy: Fuzzy candidates when no alias matches exactly.
        fuzzy_min_similarity: Indel similarity a fuzzy alias needs to be a candidate.
        fuzzy_cjk_edit_cost: Cost of an edit on a CJK character or digit, in Latin-letter
            edits, in a fuzzy candidate's match (``1 - cost / length``, also scaling
            its prior); 1 treats all scripts alike.
        max_candidates: Candidates scored per mention.
        ngram_candidates: Alias keys taken from character n-gram retrieval
            (:mod:`linking.ngram`) for mentions without exact or fuzzy candidates, in the
            unsupervised linker (a trained ranker uses its own setting, for every mention).
            Off (0) by default: on 300 news articles it took 6-9x the linking CPU and the
            8 decisions it changed were 7 wrong links of NIL mentions (BENCHMARKS.md).
        linker_dir: A directory written by ``kgpipe link train``: its trained ranker
            and calibrated NIL threshold replace the weighted-mean scoring, and its
            KB is used when ``kb_path`` is ``None``.
        dictionary_mentions: ``detect_mentions`` finds KB aliases NER missed.
        dictionary_min_length: Shortest normalised alias used as a dictionary mention.
        dictionary_word_boundaries: Dictionary mentions must start or end on a
            word boundary (jieba segmentation), so ``东大`` is not found in ``股东大会``.
        context_window: Characters each side of a mention used as its context.
        context_saturation: Cosine at which the context feature reaches 1.
        coherence_mentions: Nearest other mentions whose leading candidates
            count for a candidate's coherence.
        coherence_candidates: Best candidates per mention that get a coherence score.
        coherence_window: Neighbouring mentions (in text order, each side) searched for
            those nearest ones, so a document's linking work grows linearly with its mentions.
        weight_prior, weight_match, weight_type, weight_context, weight_coherence:
            Feature weights (non-negative, not all zero).
        type_conflict_factor: Score multiplier in [0, 1] for candidates whose KB
            types conflict with the NER label (1 disables it).
        languages: Preferred label languages when reading RDF / Wikidata KBs.
    """

    kb_path: str | None = None
    kb_format: str | None = None
    top_k: int = 5
    nil_threshold: float = 0.5
    fuzzy: bool = True
    fuzzy_min_similarity: float = 0.75
    fuzzy_cjk_edit_cost: float = 3.0
    max_candidates: int = 30
    ngram_candidates: int = 0
    linker_dir: str | None = None
    dictionary_mentions: bool = False
    dictionary_min_length: int = 2
    dictionary_word_boundaries: bool = True
    context_window: int = 50
    context_saturation: float = 0.3
    coherence_mentions: int = 20
    coherence_candidates: int = 5
    coherence_window: int = 100
    weight_prior: float = 0.25
    weight_match: float = 0.2
    weight_type: float = 0.15
    weight_context: float = 0.25
    weight_coherence: float = 0.15
    type_conflict_factor: float = 0.7
    languages: tuple[str, ...] = ("zh", "zh-hans", "zh-cn", "zh-hant", "en")

    def __post_init__(self) -> None:
        def fail(name: str, rule: str) -> None:
            raise ValueError(f"`{name}` must be {rule}. Received: {name}={getattr(self, name)!r}")

        if self.kb_format is not None and self.kb_format not in {f.value for f in KbFormat}:
            fail("kb_format", f"None or one of {[f.value for f in KbFormat]}")
        if not isinstance(self.ngram_candidates, int) or self.ngram_candidates < 0:
            fail("ngram_candidates", "a non-negative integer")
        for name in ("top_k", "max_candidates", "dictionary_min_length", "coherence_mentions",
                     "coherence_candidates", "coherence_window"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                fail(name, "a positive integer")
        if not isinstance(self.context_window, int) or self.context_window < 0:
            fail("context_window", "a non-negative integer")
        if not 0.0 <= self.nil_threshold <= 1.0:
            fail("nil_threshold", "in [0, 1]")
        if not 0.0 <= self.type_conflict_factor <= 1.0:
            fail("type_conflict_factor", "in [0, 1]")
        if not 0.0 < self.fuzzy_min_similarity <= 1.0:
            fail("fuzzy_min_similarity", "in (0, 1]")
        if not self.fuzzy_cjk_edit_cost >= 0.0:
            fail("fuzzy_cjk_edit_cost", "non-negative")
        if not self.context_saturation > 0.0:
            fail("context_saturation", "positive")
        for name in self.weight_names():
            if not getattr(self, name) >= 0.0:
                fail(name, "non-negative")
        if sum(self.weights()) <= 0.0:
            fail("weight_prior", "positive for at least one weight_* field")
        if isinstance(self.languages, str) or not self.languages:
            fail("languages", "a non-empty tuple of language tags")

    @staticmethod
    def weight_names() -> tuple[str, ...]:
        return ("weight_prior", "weight_match", "weight_type", "weight_context", "weight_coherence")

    def weights(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in self.weight_names())

"""EntityLinker: mentions -> Links against the user's KB, with scores, alternatives and NIL.

Scoring: every candidate gets five features in [0, 1],

* ``prior``: P(entity | alias) from the KB priors of the entities sharing the alias,
  times ``match`` for a fuzzy candidate (the alias's prior says who the alias
  means, not that the mention is that alias);
* ``match``: 1 for the canonical name, 0.95 for another alias, and for a fuzzy
  match :func:`linking.candidates.fuzzy_match`, which by default charges edits
  on CJK characters three times those on Latin letters (一汽集团 is not 上汽集团);
* ``type``: NER label vs KB types (``schemas.vocab`` classes);
* ``context``: TF-IDF cosine (character bigrams) of the text around the
  mention vs the entity description and attribute values;
* ``coherence``: relatedness to the best candidates of the document's other mentions,

combined as a weighted mean, multiplied by ``type_conflict_factor`` when the
NER label and the KB types are known and incompatible (a weighted mean alone
would let a strong alias and prior outvote a clear type conflict, e.g. the city
华盛顿 for a PER mention of the president). The best candidate wins if its score reaches
``nil_threshold``; otherwise the mention is NIL, keyed by its label and
normalised surface (``"ORG|苹果公司"``) so that the same unknown name across a
run becomes one minted node. Ties break by (score desc, entity id asc).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import tempfile
import threading
from collections.abc import Sequence

from kgpipe.linking.candidates import CandidateGenerator, RawCandidate
from kgpipe.linking.config import LinkerConfig
from kgpipe.linking.features import ContextModel, type_compatibility
from kgpipe.linking.index import AliasIndex
from kgpipe.linking.index_build import build_index, content_hash_of_file
from kgpipe.linking.kb import iter_entities
from kgpipe.linking.normalize import normalize
from kgpipe.schemas.records import Candidate, Document, Entity, Link, Mention

_SCORE_DIGITS = 6


def default_kb_path() -> pathlib.Path:
    """Returns the bundled default KB (``linking/default_kb/kb.jsonl``)."""
    return pathlib.Path(__file__).resolve().parent / "default_kb" / "kb.jsonl"


@dataclasses.dataclass
class _Scored:
    raw: RawCandidate
    entity_id: str
    local: list[float]          # prior, match, type, context (unweighted)
    coherence: float = 0.0
    score: float = 0.0


class EntityLinker:
    """Links mentions to a KB. Load once per worker with :meth:`load`; then pure.

    Attributes:
        config: The config it was loaded with.
        index: The alias index.
        kb_version: ``"<kb name>@<content hash[:12]>"``.
    """

    def __init__(self, config: LinkerConfig, index: AliasIndex, _keep_alive: object = None) -> None:
        self.config = config
        self.index = index
        self.kb_version = index.version
        self._keep_alive = _keep_alive  # temporary index directory for a KB file
        self._candidates = CandidateGenerator(
            index, fuzzy=config.fuzzy, fuzzy_min_similarity=config.fuzzy_min_similarity,
            max_candidates=config.max_candidates, fuzzy_cjk_edit_cost=config.fuzzy_cjk_edit_cost,
            ngram_keys=config.ngram_candidates)
        self._context = ContextModel(index)
        self._automaton = None
        self._tokenizer = None
        self._automaton_lock = threading.Lock()
        self._scorer = None  # a trained ranker (config.linker_dir)
        #: Mentions examined for coherence so far (an operation count for tests and benches).
        self.coherence_operations = 0
        #: Alternatives at or above this score are extra predicted targets (trained ranker only).
        self.set_threshold: float | None = None

    @classmethod
    def load(cls, config: LinkerConfig) -> "EntityLinker":
        """Opens an index directory, or indexes a KB file into a temporary directory.

        Raises:
            linking.kb.KbError: If a KB file has a bad record or duplicate ids.
            linking.index.IndexError_: If an index directory is incomplete or outdated.
            linking.ranker.LinkerDirError: If ``linker_dir`` is not a linker directory
                or was trained on another KB.
        """
        if config.linker_dir is not None:
            return cls._load_trained(config)
        path = pathlib.Path(config.kb_path) if config.kb_path else default_kb_path()
        if path.is_dir():
            return cls(config, AliasIndex.open(path))
        holder = tempfile.TemporaryDirectory(prefix="kgpipe-kb-")
        directory = build_index(
            iter_entities(path, config.kb_format, config.languages),
            pathlib.Path(holder.name) / "index", name=kb_name(path),
            content_hash=content_hash_of_file(path), source=str(path))
        return cls(config, AliasIndex.open(directory), holder)

    @classmethod
    def _load_trained(cls, config: LinkerConfig) -> "EntityLinker":
        from kgpipe.linking.ranker import TrainedScorer, load_linker_dir

        spec, model = load_linker_dir(config.linker_dir)
        linker = cls.load(dataclasses.replace(config, linker_dir=None, kb_path=config.kb_path or spec.kb_path))
        linker.config = config
        memory = None
        if spec.memory_neighbours:
            from kgpipe.linking.memory import ExampleMemory
            memory = ExampleMemory.open(pathlib.Path(config.linker_dir), linker.index.size)
        linker._scorer = TrainedScorer(linker.index, spec, model, config.context_window, memory)
        linker.set_threshold = spec.set_threshold
        return linker

    def __reduce__(self):
        # Memory maps do not pickle; a pickled linker reloads from its config.
        return (EntityLinker.load, (self.config,))

    # ------------------------------------------------------------ public API

    def entity(self, entity_id: str) -> Entity | None:
        """Returns the KB record of ``entity_id``, or ``None`` if it is not in the KB."""
        position = self.index.entity_index(entity_id)
        return None if position < 0 else self.index.entity(position)

    def candidates(self, surface: str) -> list[RawCandidate]:
        """Candidates for a surface form before disambiguation (for evaluation)."""
        return self._candidates(normalize(surface))

    def link(self, document: Document, mentions: Sequence[Mention]) -> list[Link]:
        """Links each mention; one Link per mention, in the given order.

        Args:
            document: The document the mentions index into (offsets ``[start, end)``).
            mentions: Mentions of this document.

        Returns:
            Links; deterministic for the same KB, config and inputs.
        """
        if self._scorer is not None:
            return [self._decide_trained(mention, self._scorer.rank(document, mention)) for mention in mentions]
        scored = [self._score_locally(document, mention) for mention in mentions]
        self._add_coherence(mentions, scored)
        return [self._decide(mention, candidates) for mention, candidates in zip(mentions, scored)]

    def detect_mentions(self, document: Document, mentions: Sequence[Mention] = ()) -> list[Mention]:
        """Dictionary (Aho-Corasick) mentions of KB aliases not overlapping ``mentions``.

        Returns:
            Leftmost-longest matches in text order, ``model="dictionary:<kb_version>"``;
            ``[]`` when ``config.dictionary_mentions`` is off.
        """
        if not self.config.dictionary_mentions:
            return []
        from kgpipe.linking import dictionary

        with self._automaton_lock:  # built once, on first use, even with several threads
            if self._automaton is None:
                self._automaton = dictionary.build_automaton(self.index, self.config.dictionary_min_length)
                if self.config.dictionary_word_boundaries:
                    import jieba
                    self._tokenizer = jieba.Tokenizer()
                    self._tokenizer.initialize()
        boundaries = None
        if self._tokenizer is not None:
            boundaries = dictionary.word_boundaries(self._tokenizer, document.text)
        return dictionary.find_alias_mentions(self._automaton, self.index, document, mentions,
                                              model=f"dictionary:{self.kb_version}", boundaries=boundaries)

    # ------------------------------------------------------------ scoring

    def _score_locally(self, document: Document, mention: Mention) -> list[_Scored]:
        raw = self._candidates(normalize(mention.text))
        if not raw:
            return []
        window = self.config.context_window
        context = document.text[max(0, mention.start - window):mention.start] + " " + \
            document.text[mention.end:mention.end + window]
        context_vector = self._context.vector(normalize(context))
        saturation = self.config.context_saturation
        out = []
        for candidate in raw:
            types = self.index.entity_types(candidate.entity_index)
            entity_vector = self._context.entity(candidate.entity_index)[0]
            # A fuzzy candidate's prior is only as good as the guess that the mention is its alias.
            prior = candidate.alias_prior * (candidate.match if candidate.fuzzy else 1.0)
            out.append(_Scored(candidate, self.index.entity_id(candidate.entity_index), [
                prior, candidate.match, type_compatibility(mention.label, types),
                min(1.0, context_vector.cosine(entity_vector) / saturation),
            ]))
        return out

    def _add_coherence(self, mentions: Sequence[Mention], scored: list[list[_Scored]]) -> None:
        """Adds coherence and the final score to every candidate.

        Coherence of a candidate: its best relatedness to the leading
        candidates of the ``coherence_mentions`` nearest other mentions with a
        different surface, searched among the ``coherence_window`` neighbours
        each side in text order; computed for the ``coherence_candidates`` best
        candidates of each mention (the rest get 0), so a long document costs
        O(mentions) rather than O(mentions squared).
        """
        leaders = [_leader(candidates, self._local_score) for candidates in scored]
        keys = [normalize(m.text) for m in mentions]
        related: dict[tuple[int, int], float] = {}
        order = sorted(range(len(mentions)), key=lambda j: (mentions[j].start, j))
        rank_of = [0] * len(mentions)
        for rank, j in enumerate(order):
            rank_of[j] = rank
        for position, candidates in enumerate(scored):
            others = self._nearest_leaders(mentions, keys, leaders, order, rank_of[position])
            ranked = sorted(candidates, key=lambda c: (-self._local_score(c), c.entity_id))
            for rank, candidate in enumerate(ranked):
                entity = candidate.raw.entity_index
                if rank < self.config.coherence_candidates:
                    candidate.coherence = max((self._related(entity, other, related)
                                               for other in others if other != entity), default=0.0)
                candidate.score = self._final_score(candidate)

    def _nearest_leaders(self, mentions, keys, leaders, order, rank) -> list[int]:
        """Leaders of the ``coherence_mentions`` nearest other mentions with another surface.

        Walks outward from the mention in text order (``order``: mention indices sorted
        by start; ``rank``: its place there), nearest first, until the nearest ones are
        settled (ties at the last distance included, then cut by mention index, as a
        full sort by ``(distance, index)`` would) or ``coherence_window`` mentions each
        side were examined. Adds the mentions examined to ``coherence_operations``.
        """
        position, need, reach = order[rank], self.config.coherence_mentions, self.config.coherence_window
        here = mentions[position].start
        left, right, found, cutoff = rank - 1, rank + 1, [], None
        while True:
            left_distance = here - mentions[order[left]].start if left >= 0 and rank - left <= reach else None
            right_distance = (mentions[order[right]].start - here
                              if right < len(order) and right - rank <= reach else None)
            if left_distance is None and right_distance is None:
                break
            if right_distance is None or (left_distance is not None and left_distance <= right_distance):
                j, distance, left = order[left], left_distance, left - 1
            else:
                j, distance, right = order[right], right_distance, right + 1
            self.coherence_operations += 1
            if cutoff is not None and distance > cutoff:
                break
            if leaders[j] is not None and keys[j] != keys[position]:
                found.append((distance, j))
                if len(found) == need:
                    cutoff = distance
        found.sort()
        return sorted({leaders[j] for _, j in found[:need]})

    def _related(self, first: int, second: int, cache: dict[tuple[int, int], float]) -> float:
        pair = (min(first, second), max(first, second))
        if pair not in cache:
            cache[pair] = self._context.relatedness(*pair, self.config.context_saturation)
        return cache[pair]

    def _local_score(self, candidate: _Scored) -> float:
        """Score without coherence (used to pick each mention's leader)."""
        return self._conflict_factor(candidate) * _weighted(candidate.local, self.config.weights()[:4])

    def _final_score(self, candidate: _Scored) -> float:
        features = [*candidate.local, candidate.coherence]
        return round(self._conflict_factor(candidate) * _weighted(features, self.config.weights()), _SCORE_DIGITS)

    def _conflict_factor(self, candidate: _Scored) -> float:
        return self.config.type_conflict_factor if candidate.local[2] == 0.0 else 1.0

    def _decide(self, mention: Mention, candidates: list[_Scored]) -> Link:
        ranked = sorted(candidates, key=lambda c: (-c.score, c.entity_id))
        alternatives = tuple(Candidate(c.entity_id, c.score) for c in ranked[: self.config.top_k])
        common = dict(doc_id=mention.doc_id, start=mention.start, end=mention.end,
                      text=mention.text, label=mention.label, alternatives=alternatives,
                      kb_version=self.kb_version)
        if not ranked or ranked[0].score < self.config.nil_threshold:
            best = ranked[0].score if ranked else 0.0
            return Link(entity_id=None, score=best, nil_key=nil_key(mention.text, mention.label), **common)
        best = ranked[0]
        index = best.raw.entity_index
        return Link(entity_id=best.entity_id, score=best.score,
                    entity_name=self.index.tables["entity_names"][index],
                    entity_types=self.index.entity_types(index), **common)


    def _decide_trained(self, mention: Mention, ranked: list[tuple[float, str, int]]) -> Link:
        """A Link from the trained ranker's probabilities; NIL below its calibrated threshold."""
        alternatives = tuple(Candidate(entity_id, p) for p, entity_id, _ in ranked[: self.config.top_k])
        common = dict(doc_id=mention.doc_id, start=mention.start, end=mention.end, text=mention.text,
                      label=mention.label, alternatives=alternatives, kb_version=self.kb_version)
        if not ranked or ranked[0][0] < self._scorer.spec.nil_threshold:
            best = ranked[0][0] if ranked else 0.0
            return Link(entity_id=None, score=best, nil_key=nil_key(mention.text, mention.label), **common)
        probability, entity_id, index = ranked[0]
        return Link(entity_id=entity_id, score=probability, entity_name=self.index.tables["entity_names"][index],
                    entity_types=self.index.entity_types(index), **common)


def _weighted(features: Sequence[float], weights: Sequence[float]) -> float:
    total = sum(weights)
    return sum(f * w for f, w in zip(features, weights)) / total if total else 0.0


def _leader(candidates: list[_Scored], local_score) -> int | None:
    """Entity index of the best candidate by local score (ties -> smallest id), or None."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (-local_score(c), c.entity_id)).raw.entity_index


def nil_key(surface: str, label: str) -> str:
    """Cluster key of a NIL mention: ``"<LABEL>|<normalised surface>"``.

    The same key in any document of any run means the same minted node.
    """
    key = normalize(surface) or surface.strip()
    return f"{label.strip().upper()}|{key}"


def kb_version(kb_path: str | pathlib.Path | None) -> str:
    """The ``Link.kb_version`` a linker for ``kb_path`` will report, without loading the KB.

    Cheap: an index directory's manifest, or one streamed hash of a KB file.
    """
    path = pathlib.Path(kb_path) if kb_path else default_kb_path()
    if path.is_dir():
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
        return f"{manifest['name']}@{manifest['content_hash'][:12]}"
    return f"{kb_name(path)}@{content_hash_of_file(path)[:12]}"


def kb_name(path: pathlib.Path) -> str:
    """Name of a KB from its file name (``kb.jsonl`` in ``default_kb`` -> ``default_kb``)."""
    stem = path.name.split(".", 1)[0]
    return path.parent.name if stem == "kb" else stem

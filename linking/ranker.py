"""The trained ranker: candidate features, the two model kinds, and the linker directory.

A linker directory (written by ``kgpipe link train``, read by ``--linker DIR``) holds
``linker.json`` (a :class:`RankerSpec`: candidate settings, feature names, model kind,
calibrated thresholds, the KB it was trained on, training metrics) and the weights:
``model.txt`` (LightGBM's text model) or the logistic weights inside ``linker.json``.
No pickle anywhere.

Candidates come from exact aliases, fuzzy aliases and character n-gram retrieval, for
the whole mention and, for a mention that lists several names (``高血压;冠心病``), for each
piece; every candidate gets the features :data:`FEATURES` (string similarities between
mention and matched alias, retrieval scores, priors, type compatibility, context-vs-
description similarity). The model scores P(candidate is right); the best candidate
below ``nil_threshold`` is NIL.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, LCSseq, Levenshtein

from kgpipe.linking.candidates import CandidateGenerator, RawCandidate, fuzzy_match, merge_candidates
from kgpipe.linking.features import ContextModel, type_compatibility
from kgpipe.linking.index import AliasIndex
from kgpipe.linking.memory import ExampleMemory
from kgpipe.linking.normalize import normalize
from kgpipe.schemas.records import Document, Mention

SPEC_VERSION = 1
FEATURES = ("retrieval", "retrieval_gap", "retrieval_rank", "exact", "canonical", "alias_prior", "entity_prior",
            "fuzzy_match", "indel", "partial", "levenshtein", "jaro_winkler", "alias_in_mention",
            "alias_chars_in_mention", "mention_chars_in_alias", "prefix", "mention_length", "alias_length",
            "length_ratio", "piece_indel", "type", "context", "candidates", "memory_vote", "memory_best",
            "target_frequency")
_PIECES = re.compile(r"[;；,，、/\s|]+|(?:伴|并|及|和)")


class LinkerDirError(ValueError):
    """A linker directory that is missing, incomplete or of another version."""


@dataclasses.dataclass(frozen=True)
class RankerSpec:
    """What a linker directory holds besides weights (``linker.json``).

    Attributes:
        model: ``"lightgbm"`` or ``"logistic"``.
        nil_threshold: Best probability below this -> NIL (calibrated on a dev slice).
        set_threshold: Alternatives at or above this probability are extra targets
            (set-level scores), calibrated likewise.
        kb_path: Index directory the ranker was trained against.
        kb_version: Its ``name@hash``; loading against another KB is an error.
        ngram_keys, max_candidates, split_pieces: Candidate settings.
        memory_neighbours: Nearest training mentions whose targets vote (0: no example memory).
        features: Feature names, in column order.
        logistic: ``{"mean", "scale", "coef", "intercept"}`` for the logistic model.
        metrics: Training and calibration figures (informative).
    """

    model: str
    nil_threshold: float
    set_threshold: float
    kb_path: str
    kb_version: str
    ngram_keys: int = 30
    max_candidates: int = 50
    split_pieces: bool = True
    memory_neighbours: int = 10
    features: tuple[str, ...] = FEATURES
    logistic: dict | None = None
    metrics: dict = dataclasses.field(default_factory=dict)
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        if self.model not in ("lightgbm", "logistic"):
            raise ValueError(f"`model` must be 'lightgbm' or 'logistic'. Received: model={self.model!r}")
        for name in ("nil_threshold", "set_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={getattr(self, name)!r}")
        if tuple(self.features) != FEATURES:
            raise ValueError(f"`features` must be {FEATURES} (this kgpipe's). Received: features={self.features!r}")
        if not isinstance(self.memory_neighbours, int) or self.memory_neighbours < 0:
            raise ValueError(f"`memory_neighbours` must be a non-negative integer. "
                             f"Received: memory_neighbours={self.memory_neighbours!r}")
        if self.model == "logistic" and not self.logistic:
            raise ValueError("`logistic` weights are required for model='logistic'. Received: logistic=None")


class LogisticModel:
    """Standardised-feature logistic regression, fitted by IRLS (Newton) with an L2 penalty."""

    def __init__(self, mean, scale, coef, intercept: float) -> None:
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
        self.coef, self.intercept = np.asarray(coef, np.float64), float(intercept)

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 25) -> "LogisticModel":
        """Fits on ``x float[n, f]``, ``y {0,1}[n]``."""
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        z = np.c_[np.ones(len(x)), (x - mean) / scale]
        w = np.zeros(z.shape[1])
        penalty = np.r_[0.0, np.full(z.shape[1] - 1, l2)]
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
            gradient = z.T @ (p - y) + penalty * w
            hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-6:
                break
        return cls(mean, scale, w[1:], w[0])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(right) ``float64[n]`` for ``x float[n, f]``."""
        logits = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))

    def to_json(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}


class BoostedModel:
    """LightGBM binary classifier, saved as LightGBM's own text model."""

    PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
              "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1, "seed": 0,
              "deterministic": True, "num_threads": 1, "verbosity": -1}
    ROUNDS = 200

    def __init__(self, booster) -> None:
        self.booster = booster

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray) -> "BoostedModel":
        import lightgbm

        data = lightgbm.Dataset(x, label=y, feature_name=list(FEATURES), free_raw_data=True)
        return cls(lightgbm.train(cls.PARAMS, data, num_boost_round=cls.ROUNDS))

    @classmethod
    def load(cls, path: pathlib.Path) -> "BoostedModel":
        import lightgbm

        return cls(lightgbm.Booster(model_str=path.read_text("utf-8")))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(x, num_threads=1), dtype=np.float64)

    def save(self, path: pathlib.Path) -> None:
        path.write_text(self.booster.model_to_string(), "utf-8")


def pieces_of(key: str) -> list[str]:
    """The parts of a normalised mention that lists several names (``高血压冠心病;糖尿病``)."""
    parts = [p for p in _PIECES.split(key) if len(p) >= 2]
    return parts if len(parts) > 1 else []


class Featurizer:
    """Candidates and their feature rows for one mention.

    Args:
        index: The alias index.
        spec: Candidate settings (``ngram_keys``, ``max_candidates``, ``split_pieces``).
        context_window: Characters each side of a mention used as its context.
    """

    def __init__(self, index: AliasIndex, spec: RankerSpec, context_window: int = 50,
                 memory: ExampleMemory | None = None) -> None:
        self.index = index
        self.spec = spec
        self.memory = memory
        self.context_window = context_window
        self.generator = CandidateGenerator(index, max_candidates=spec.max_candidates,
                                            ngram_keys=spec.ngram_keys, ngram_always=True)
        self.context = ContextModel(index)
        self._types: dict[tuple[str, str], float] = {}  # (label, joined KB types) -> compatibility

    def candidates(self, key: str, votes: dict | None = None) -> tuple[list[RawCandidate], list[str]]:
        """Merged candidates of the mention and its pieces (best retrieval first), then those only
        the example memory's ``votes`` propose; and the pieces."""
        found = self.generator(key)
        pieces = pieces_of(key) if self.spec.split_pieces else []
        if pieces:
            merged = list(found)
            for piece in pieces:
                merged = merge_candidates(merged, self.generator(piece))
            found = sorted(merged, key=lambda c: (-c.retrieval, -c.match, c.entity_index))
            found = found[: self.spec.max_candidates]
        if votes:
            present = {c.entity_index for c in found}
            found = found + [RawCandidate(entity, 0.0, 0.0, fuzzy=True)
                             for entity in sorted(votes, key=lambda e: (-votes[e][0], e)) if entity not in present]
        return found, pieces

    def features(self, document: Document, mention: Mention,
                 exclude: int = -1) -> tuple[list[RawCandidate], np.ndarray]:
        """Returns the candidates and ``float32[n_candidates, len(FEATURES)]``.

        ``exclude``: this mention's own place in the example memory (training only).
        """
        key = normalize(mention.text)
        votes = {}
        if self.memory is not None and self.spec.memory_neighbours:
            votes = self.memory.votes(key, self.spec.memory_neighbours, exclude)
        found, pieces = self.candidates(key, votes)
        if not found:
            return [], np.zeros((0, len(FEATURES)), np.float32)
        window = self.context_window
        context = document.text[max(0, mention.start - window):mention.start] + " " + \
            document.text[mention.end:mention.end + window]
        context_vector = self.context.vector(normalize(context))
        has_context = len(context_vector.codes) > 0  # a whole-text mention has none: skip entity vectors
        best_retrieval = max(c.retrieval for c in found)
        mention_chars = set(key)
        rows = []
        for rank, candidate in enumerate(found):
            alias = self._alias(candidate)
            alias_chars = set(alias)
            rows.append([
                candidate.retrieval, best_retrieval - candidate.retrieval, rank,
                float(not candidate.fuzzy), float(candidate.match == 1.0 and not candidate.fuzzy),
                candidate.alias_prior, float(self.index.arrays["entity_priors"][candidate.entity_index]),
                fuzzy_match(key, alias), fuzz.ratio(key, alias) / 100, fuzz.partial_ratio(key, alias) / 100,
                Levenshtein.normalized_similarity(key, alias), JaroWinkler.normalized_similarity(key, alias),
                float(bool(alias) and alias in key),
                len(alias_chars & mention_chars) / max(1, len(alias_chars)),
                len(alias_chars & mention_chars) / max(1, len(mention_chars)),
                LCSseq.similarity(key, alias) / max(1, len(alias)),
                len(key), len(alias), len(alias) / max(1, len(key)),
                max((fuzz.ratio(p, alias) / 100 for p in pieces), default=fuzz.ratio(key, alias) / 100),
                self._type(mention.label, candidate.entity_index),
                context_vector.cosine(self.context.entity(candidate.entity_index)[0]) if has_context else 0.0,
                len(found), *votes.get(candidate.entity_index, (0.0, 0.0)),
                np.log1p(self.memory.frequency_of(candidate.entity_index, exclude)) if self.memory else 0.0,
            ])
        return found, np.asarray(rows, dtype=np.float32)

    def _type(self, label: str, entity_index: int) -> float:
        key = (label, self.index.tables["entity_types"][entity_index])
        value = self._types.get(key)
        if value is None:
            value = self._types[key] = type_compatibility(label, self.index.entity_types(entity_index))
        return value

    def _alias(self, candidate: RawCandidate) -> str:
        if candidate.key_index >= 0:
            return self.index.keys[candidate.key_index]
        return normalize(self.index.tables["entity_names"][candidate.entity_index])


def save_linker_dir(directory: str | pathlib.Path, spec: RankerSpec, model) -> pathlib.Path:
    """Writes ``linker.json`` (+ ``model.txt`` for LightGBM)."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(model, BoostedModel):
        model.save(directory / "model.txt")
    (directory / "linker.json").write_text(json.dumps(dataclasses.asdict(spec), ensure_ascii=False, indent=1),
                                           "utf-8")
    return directory


def load_linker_dir(directory: str | pathlib.Path) -> tuple[RankerSpec, object]:
    """Reads a linker directory: ``(spec, model)``.

    Raises:
        LinkerDirError: Missing files, another version, or bad values (named).
    """
    directory = pathlib.Path(directory)
    path = directory / "linker.json"
    if not path.is_file():
        raise LinkerDirError(f"{directory} is not a linker directory (no linker.json); "
                             "write one with `kgpipe link train`.")
    try:
        raw = json.loads(path.read_text("utf-8"))
        if raw.get("version") != SPEC_VERSION:
            raise ValueError(f"version {raw.get('version')!r}, this kgpipe reads {SPEC_VERSION}")
        raw["features"] = tuple(raw["features"])
        spec = RankerSpec(**raw)
        model = (BoostedModel.load(directory / "model.txt") if spec.model == "lightgbm"
                 else LogisticModel(**spec.logistic))
    except (ValueError, TypeError, KeyError, OSError) as failure:
        raise LinkerDirError(f"{path}: {type(failure).__name__}: {failure}") from None
    return spec, model


class TrainedScorer:
    """Scores one mention's candidates with a loaded linker directory's model.

    Args:
        index: The alias index the ranker was trained against.
        spec: The directory's :class:`RankerSpec`.
        model: Its :class:`BoostedModel` or :class:`LogisticModel`.
        memory: Its example memory (``None`` when ``spec.memory_neighbours`` is 0).
        context_window: Characters each side of a mention used as its context.
    """

    def __init__(self, index: AliasIndex, spec: RankerSpec, model, context_window: int = 50,
                 memory: ExampleMemory | None = None) -> None:
        if index.version != spec.kb_version:
            raise LinkerDirError(f"the linker was trained on the KB {spec.kb_version}, not {index.version}; "
                                 "pass its KB (or none) or retrain with `kgpipe link train`.")
        self.spec = spec
        self.model = model
        self.featurizer = Featurizer(index, spec, context_window, memory)

    def rank(self, document: Document, mention: Mention) -> list[tuple[float, str, int]]:
        """``(probability rounded to 6 digits, entity id, entity index)``, best first, ties by id."""
        found, rows = self.featurizer.features(document, mention)
        if not found:
            return []
        probabilities = np.round(self.model.predict(rows), 6)
        index = self.featurizer.index
        ranked = [(float(p), index.entity_id(c.entity_index), c.entity_index) for p, c in zip(probabilities, found)]
        ranked.sort(key=lambda item: (-item[0], item[1]))
        return ranked


def linker_version(directory: str | pathlib.Path) -> str:
    """``"<dir name>@<sha256[:12] of linker.json and model.txt>"``: changes when the ranker does."""
    import hashlib

    directory = pathlib.Path(directory)
    digest = hashlib.sha256()
    for name in ("linker.json", "model.txt"):
        if (directory / name).is_file():
            digest.update((directory / name).read_bytes())
    return f"{directory.resolve().name}@{digest.hexdigest()[:12]}"


def linker_kb_path(directory: str | pathlib.Path) -> str:
    """The KB index directory a linker directory was trained against.

    Raises:
        LinkerDirError: If ``directory`` is not a linker directory.
    """
    return load_linker_dir(directory)[0].kb_path

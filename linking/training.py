"""``kgpipe link train``: fit the candidate ranker on labelled links and calibrate NIL.

The gold documents are cut in two by position: the first ``1 - calibration_fraction``
fit the models, the tail (the calibration slice) chooses between them and calibrates
the thresholds. The rule, fixed here and in BENCHMARKS.md: fit a logistic regression and
a LightGBM model; keep the one with the higher calibration top-1 accuracy (ties: logistic);
NIL threshold = the probability threshold maximising calibration accuracy (ties: the
lowest); set threshold = the 0.05-grid value maximising calibration set-level F1 (ties:
the highest).
"""

from __future__ import annotations

import dataclasses
import logging
import pathlib
import time
from collections.abc import Sequence

import numpy as np

from kgpipe.linking.evaluation import GoldDocument, set_counts
from kgpipe.linking.index import AliasIndex
from kgpipe.linking.memory import ExampleMemory
from kgpipe.linking.normalize import normalize
from kgpipe.linking.ranker import (BoostedModel, Featurizer, LogisticModel, RankerSpec, save_linker_dir)

_log = logging.getLogger("kgpipe.linking")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train_linker` (validated on creation).

    Attributes:
        calibration_fraction: Tail fraction of the gold documents held out to choose
            the model and calibrate thresholds, in (0, 0.5].
        models: Model kinds fitted and compared (``"logistic"``, ``"lightgbm"``).
        ngram_keys: Alias keys from n-gram retrieval per mention (and per piece).
        max_candidates: Candidates scored per mention.
        split_pieces: Also retrieve for the pieces of a mention listing several names.
        top_k: Alternatives considered for set-level (multi-target) predictions.
        memory_neighbours: Nearest training mentions whose targets vote and propose
            candidates (the example memory; 0: none).
    """

    calibration_fraction: float = 0.1
    models: tuple[str, ...] = ("logistic", "lightgbm")
    ngram_keys: int = 30
    max_candidates: int = 50
    split_pieces: bool = True
    top_k: int = 5
    memory_neighbours: int = 10

    def __post_init__(self) -> None:
        if not 0.0 < self.calibration_fraction <= 0.5:
            raise ValueError("`calibration_fraction` must be in (0, 0.5]. "
                             f"Received: calibration_fraction={self.calibration_fraction!r}")
        if not self.models or set(self.models) - {"logistic", "lightgbm"}:
            raise ValueError(f"`models` must be a non-empty subset of ('logistic', 'lightgbm'). "
                             f"Received: models={self.models!r}")
        if not isinstance(self.memory_neighbours, int) or self.memory_neighbours < 0:
            raise ValueError(f"`memory_neighbours` must be a non-negative integer. "
                             f"Received: memory_neighbours={self.memory_neighbours!r}")
        for name in ("ngram_keys", "max_candidates", "top_k"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={getattr(self, name)!r}")


@dataclasses.dataclass
class _Rows:
    """Feature rows of many mentions: ``x float32[n, f]``, ``y``, and each mention's row span."""

    x: np.ndarray
    y: np.ndarray
    spans: list[tuple[int, int]]
    ids: list[list[str]]
    groups: list[tuple[frozenset[str], ...]]


def featurize(featurizer: Featurizer, gold: Sequence[GoldDocument], first: int = 0) -> _Rows:
    """Candidates and features of every gold mention, labelled by its target groups.

    ``first``: the example-memory place of the first mention (each mention is left out of
    its own memory votes).
    """
    blocks, labels, spans, ids, groups, row = [], [], [], [], [], 0
    for item in gold:
        for mention, targets in zip(item.mentions, item.target_groups()):
            found, x = featurizer.features(item.document, mention, exclude=first + len(spans))
            wanted = frozenset().union(*targets)
            names = [featurizer.index.entity_id(c.entity_index) for c in found]
            blocks.append(x)
            labels.extend(float(name in wanted) for name in names)
            spans.append((row, row + len(found)))
            ids.append(names)
            groups.append(targets)
            row += len(found)
    x = np.concatenate(blocks) if blocks else np.zeros((0, 0), np.float32)
    return _Rows(x, np.asarray(labels, np.float64), spans, ids, groups)


def _ranked(rows: _Rows, probabilities: np.ndarray) -> list[list[tuple[float, str]]]:
    out = []
    for (start, end), names in zip(rows.spans, rows.ids):
        pairs = [(round(float(p), 6), name) for p, name in zip(probabilities[start:end], names)]
        out.append(sorted(pairs, key=lambda pair: (-pair[0], pair[1])))
    return out


def accuracy(ranked: list[list[tuple[float, str]]], groups, nil_threshold: float) -> float:
    """Top-1 accuracy with NIL below ``nil_threshold`` (NIL is right only for gold NIL)."""
    correct = 0
    for pairs, targets in zip(ranked, groups):
        predicted = pairs[0][1] if pairs and pairs[0][0] >= nil_threshold else None
        correct += (predicted is None and not targets) or (
            predicted is not None and predicted in frozenset().union(*targets))
    return correct / max(1, len(groups))


def calibrate_nil(ranked, groups) -> float:
    """The threshold maximising accuracy; ties -> the lowest."""
    options = sorted({0.0} | {pairs[0][0] for pairs in ranked if pairs} | {1.0})
    best = max(options, key=lambda t: (accuracy(ranked, groups, t), -t))
    return float(best)


def set_f1(ranked, groups, nil_threshold: float, set_threshold: float, top_k: int) -> float:
    counts = [0, 0, 0]
    for pairs, targets in zip(ranked, groups):
        predicted = []
        if pairs and pairs[0][0] >= nil_threshold:
            predicted = [pairs[0][1]] + [name for p, name in pairs[1:top_k] if p >= set_threshold]
        for position, value in enumerate(set_counts(targets, predicted)):
            counts[position] += value
    precision, recall = counts[0] / max(1, counts[1]), counts[0] / max(1, counts[2])
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def train_linker(index_path: str | pathlib.Path, gold: Sequence[GoldDocument], out: str | pathlib.Path,
                 config: TrainConfig = TrainConfig()) -> RankerSpec:
    """Fits, compares, calibrates and saves a linker directory; returns its spec.

    Args:
        index_path: A KB index directory (``kgpipe kb build``).
        gold: Gold documents (target groups resolved against that KB), in file order.
        out: The linker directory to write.
        config: Training settings.

    Raises:
        ValueError: Too few gold documents to cut a calibration slice, or no positive example.
    """
    started = time.perf_counter()
    index = AliasIndex.open(index_path)
    cut = len(gold) - max(1, int(round(len(gold) * config.calibration_fraction)))
    if cut < 1:
        raise ValueError(f"{len(gold)} gold documents: too few to cut a calibration slice")
    draft = RankerSpec(model="logistic", nil_threshold=0.0, set_threshold=1.0,
                       kb_path=str(pathlib.Path(index_path).resolve()), kb_version=index.version,
                       ngram_keys=config.ngram_keys, max_candidates=config.max_candidates,
                       split_pieces=config.split_pieces, memory_neighbours=config.memory_neighbours,
                       logistic={"unfitted": True})
    featurizer = Featurizer(index, draft, memory=_write_memory(index, gold, pathlib.Path(out), config))
    fit = featurize(featurizer, gold[:cut])
    calibration = featurize(featurizer, gold[cut:], first=len(fit.spans))
    if not fit.y.sum():
        raise ValueError("no gold target is among the candidates of the training mentions; nothing to learn")
    _log.info("link train: %d fit rows, %d calibration rows (%.0f s)", len(fit.y), len(calibration.y),
              time.perf_counter() - started)
    metrics = {"fit_mentions": len(fit.spans), "calibration_mentions": len(calibration.spans),
               "fit_candidate_recall": _candidate_recall(fit), "calibration_candidate_recall": _candidate_recall(calibration)}
    chosen, model = _choose(fit, calibration, config, metrics)
    ranked = _ranked(calibration, model.predict(calibration.x))
    nil_threshold = calibrate_nil(ranked, calibration.groups)
    grid = [round(0.05 * step, 2) for step in range(1, 20)]
    set_threshold = max(grid, key=lambda t: (set_f1(ranked, calibration.groups, nil_threshold, t, config.top_k), t))
    metrics.update(calibration_accuracy=round(accuracy(ranked, calibration.groups, nil_threshold), 4),
                   calibration_set_f1=round(set_f1(ranked, calibration.groups, nil_threshold, set_threshold,
                                                   config.top_k), 4),
                   train_seconds=round(time.perf_counter() - started, 1))
    logistic = model.to_json() if chosen == "logistic" else None
    spec = dataclasses.replace(draft, model=chosen, nil_threshold=nil_threshold, set_threshold=set_threshold,
                               logistic=logistic, metrics=metrics)
    save_linker_dir(out, spec, model)
    return spec


def _choose(fit: _Rows, calibration: _Rows, config: TrainConfig, metrics: dict) -> tuple[str, object]:
    """Fits each model kind; keeps the best calibration top-1 accuracy (ties: logistic)."""
    fitted, scores = {}, {}
    for kind in config.models:
        model = LogisticModel.fit(fit.x, fit.y) if kind == "logistic" else BoostedModel.fit(fit.x, fit.y)
        fitted[kind] = model
        scores[kind] = accuracy(_ranked(calibration, model.predict(calibration.x)), calibration.groups, 0.0)
        metrics[f"calibration_accuracy_{kind}"] = round(scores[kind], 4)
    chosen = max(config.models, key=lambda kind: (scores[kind], kind == "logistic"))
    metrics["chosen"] = chosen
    return chosen, fitted[chosen]


def _write_memory(index: AliasIndex, gold: Sequence[GoldDocument], out: pathlib.Path,
                  config: TrainConfig) -> ExampleMemory | None:
    """Writes the example memory of every gold mention into the linker directory ``out``."""
    if not config.memory_neighbours:
        return None
    keys, targets = [], []
    for item in gold:
        for mention, groups in zip(item.mentions, item.target_groups()):
            keys.append(normalize(mention.text))
            targets.append(sorted({index.entity_index(kb_id) for group in groups for kb_id in group}))
    out.mkdir(parents=True, exist_ok=True)
    ExampleMemory.write(keys, targets, out)
    return ExampleMemory.open(out, index.size)


def _candidate_recall(rows: _Rows) -> float:
    in_kb = [(start, end) for (start, end), targets in zip(rows.spans, rows.groups) if targets]
    return round(sum(1 for start, end in in_kb if rows.y[start:end].any()) / max(1, len(in_kb)), 4)

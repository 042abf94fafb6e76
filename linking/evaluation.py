"""Linking evaluation on gold JSON Lines.

Gold format, one document per line::

    {"id": "d1", "text": "...", "mentions": [{"start": 0, "end": 2, "label": "ORG", "kb_id": "Q312"},
                                             {"start": 5, "end": 8, "label": "PER", "kb_id": null}]}

``kb_id: null`` marks a NIL mention (not in the KB). The gold spans and labels
are given to the linker, so the scores measure linking alone, not NER.

Metrics:

* ``accuracy``: predicted id (or NIL) equals gold, over all mentions;
* ``in_kb_accuracy``: the same over gold mentions with a KB id;
* ``nil_precision`` / ``nil_recall`` / ``nil_f1``: of predicted NIL, how many are gold
  NIL / of gold NIL, how many are predicted NIL;
* ``candidate_recall_at_k``: gold id among the link's top-k alternatives (in-KB mentions);
* ``nil_clusters``: distinct ``nil_key`` values among predicted NIL links (the nodes a run mints);
* ``mentions_per_second``: linking throughput (wall clock, excluding KB load).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import time
from collections.abc import Iterator, Sequence

from kgpipe.linking.linker import EntityLinker
from kgpipe.schemas.records import Document, Link, Mention


class GoldError(ValueError):
    """A gold file record that cannot be read; names the file and line."""


@dataclasses.dataclass(frozen=True)
class GoldDocument:
    """A document with its gold mentions and their gold KB ids (``None`` = NIL)."""

    document: Document
    mentions: tuple[Mention, ...]
    kb_ids: tuple[str | None, ...]


@dataclasses.dataclass(frozen=True)
class LinkingScores:
    """Linking metrics; ratios are in [0, 1] (0 when their denominator is 0)."""

    mentions: int
    in_kb_mentions: int
    nil_mentions: int
    accuracy: float
    in_kb_accuracy: float
    nil_precision: float
    nil_recall: float
    nil_f1: float
    candidate_recall_at_k: float
    k: int
    nil_clusters: int
    mentions_per_second: float
    kb_version: str = ""
    errors: tuple[dict, ...] = ()

    def to_dict(self, with_errors: bool = False) -> dict:
        out = dataclasses.asdict(self)
        if not with_errors:
            out.pop("errors")
        else:
            out["errors"] = list(self.errors)
        return out


def read_gold(path: str | pathlib.Path) -> Iterator[GoldDocument]:
    """Streams gold documents.

    Raises:
        GoldError: On a malformed line or a span outside the text (file:line named).
    """
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield _gold_document(json.loads(line))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as failure:
                raise GoldError(f"{path}:{number}: bad gold record ({type(failure).__name__}: {failure})") from None


def _gold_document(record: dict) -> GoldDocument:
    document = Document(id=str(record["id"]), text=record["text"])
    mentions, kb_ids = [], []
    for item in record["mentions"]:
        start, end = int(item["start"]), int(item["end"])
        if end > len(document.text):
            raise ValueError(f"span [{start}, {end}) is outside the text ({len(document.text)} characters)")
        mentions.append(Mention(doc_id=document.id, start=start, end=end, text=document.text[start:end],
                                label=str(item.get("label", "")), score=1.0, model="gold"))
        kb_id = item.get("kb_id")
        kb_ids.append(None if kb_id is None else str(kb_id))
    return GoldDocument(document, tuple(mentions), tuple(kb_ids))


def evaluate(linker: EntityLinker, gold: Sequence[GoldDocument]) -> LinkingScores:
    """Links every gold document's mentions and scores the decisions."""
    started = time.perf_counter()
    predictions = [linker.link(item.document, item.mentions) for item in gold]
    seconds = time.perf_counter() - started
    pairs = [(kb_id, link) for item, links in zip(gold, predictions) for kb_id, link in zip(item.kb_ids, links)]
    return score(pairs, k=linker.config.top_k, seconds=seconds, kb_version=linker.kb_version)


def score(pairs: Sequence[tuple[str | None, Link]], k: int, seconds: float = 0.0,
          kb_version: str = "") -> LinkingScores:
    """Scores ``(gold kb id or None, predicted Link)`` pairs."""
    total = len(pairs)
    in_kb = [(g, link) for g, link in pairs if g is not None]
    gold_nil = total - len(in_kb)
    correct = sum(1 for g, link in pairs if g == link.entity_id)
    in_kb_correct = sum(1 for g, link in in_kb if g == link.entity_id)
    predicted_nil = sum(1 for _, link in pairs if link.is_nil)
    true_nil = sum(1 for g, link in pairs if g is None and link.is_nil)
    in_candidates = sum(1 for g, link in in_kb if g in {c.entity_id for c in link.alternatives[:k]})
    precision, recall = _ratio(true_nil, predicted_nil), _ratio(true_nil, gold_nil)
    errors = tuple(
        {"doc_id": link.doc_id, "start": link.start, "end": link.end, "text": link.text,
         "label": link.label, "gold": g, "predicted": link.entity_id, "score": link.score}
        for g, link in pairs if g != link.entity_id)
    return LinkingScores(
        mentions=total, in_kb_mentions=len(in_kb), nil_mentions=gold_nil,
        accuracy=_ratio(correct, total), in_kb_accuracy=_ratio(in_kb_correct, len(in_kb)),
        nil_precision=precision, nil_recall=recall,
        nil_f1=_ratio(2 * precision * recall, precision + recall),
        candidate_recall_at_k=_ratio(in_candidates, len(in_kb)), k=k,
        nil_clusters=len({link.nil_key for _, link in pairs if link.is_nil}),
        mentions_per_second=round(total / seconds, 1) if seconds > 0 else 0.0,
        kb_version=kb_version, errors=errors,
    )


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0

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
* ``mentions_per_second``: linking throughput (wall clock, excluding KB load);
* ``set_precision`` / ``set_recall`` / ``set_f1``: over gold target groups, when a
  linker predicts several targets (its entity plus alternatives scoring at least its
  ``set_threshold``; one target otherwise).

Multi-target gold (CHIP-CDN's ``name##name``): a mention is correct when its top
prediction is any of its targets; the set-level scores count every target.
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
    """A document with its gold mentions and their gold KB ids (``None`` = NIL).

    Attributes:
        targets: Per mention, the gold target groups: one frozenset of entity ids per
            gold target (CHIP-CDN's ``##``-joined names; a name several KB rows share is
            one group); ``()`` = NIL. Empty (the default): one group ``{kb_id}`` per mention.
        sources: Per mention, ``"file:line"`` of its gold record (for error messages).
    """

    document: Document
    mentions: tuple[Mention, ...]
    kb_ids: tuple[str | None, ...]
    targets: tuple[tuple[frozenset[str], ...], ...] = ()
    sources: tuple[str, ...] = ()

    def target_groups(self) -> tuple[tuple[frozenset[str], ...], ...]:
        if self.targets:
            return self.targets
        return tuple(() if kb_id is None else (frozenset([kb_id]),) for kb_id in self.kb_ids)


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
    set_precision: float = 0.0
    set_recall: float = 0.0
    set_f1: float = 0.0

    def to_dict(self, with_errors: bool = False) -> dict:
        out = dataclasses.asdict(self)
        if not with_errors:
            out.pop("errors")
        else:
            out["errors"] = list(self.errors)
        return out


def read_gold(path: str | pathlib.Path) -> Iterator[GoldDocument]:
    """Streams gold documents.

    A mention may carry its surface (``"text"`` or ``"mention"``); it must equal the
    document text at ``[start, end)``.

    Raises:
        GoldError: On a malformed line, a span outside the text, a surface that does
            not match the text at its offsets, or a file without records (file:line named).
    """
    records = 0
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            records += 1
            try:
                yield _gold_document(json.loads(line), f"{path}:{number}")
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as failure:
                raise GoldError(f"{path}:{number}: bad gold record ({type(failure).__name__}: {failure})") from None
    if not records:
        raise GoldError(f"{path}:1: empty gold file; expected one JSON document per line")


def _gold_document(record: dict, source: str = "") -> GoldDocument:
    document = Document(id=str(record["id"]), text=record["text"])
    mentions, kb_ids = [], []
    for item in record["mentions"]:
        start, end = int(item["start"]), int(item["end"])
        if not 0 <= start < end:
            raise ValueError(f"span [{start}, {end}) is empty or negative")
        if end > len(document.text):
            raise ValueError(f"span [{start}, {end}) is outside the text ({len(document.text)} characters)")
        surface = item.get("text", item.get("mention"))
        if surface is not None and document.text[start:end] != surface:
            raise ValueError(f"mention {surface!r} does not match the text at [{start}, {end}): "
                             f"{document.text[start:end]!r}")
        mentions.append(Mention(doc_id=document.id, start=start, end=end, text=document.text[start:end],
                                label=str(item.get("label", "")), score=1.0, model="gold"))
        kb_id = item.get("kb_id")
        kb_ids.append(None if kb_id is None else str(kb_id))
    return GoldDocument(document, tuple(mentions), tuple(kb_ids), sources=(source,) * len(mentions))


def check_gold(linker: EntityLinker, gold: Sequence[GoldDocument]) -> None:
    """Raises :class:`GoldError` naming file:line for the first gold id not in the linker's KB."""
    for item in gold:
        for position, groups in enumerate(item.target_groups()):
            for kb_id in sorted(set().union(*groups)):
                if linker.entity(kb_id) is None:
                    where = item.sources[position] if item.sources else f"document {item.document.id}"
                    raise GoldError(f"{where}: gold kb_id {kb_id!r} is not in the KB {linker.kb_version}")


def evaluate(linker: EntityLinker, gold: Sequence[GoldDocument]) -> LinkingScores:
    """Links every gold document's mentions and scores the decisions.

    Raises:
        GoldError: If ``gold`` is empty or names an id the KB lacks (file:line named).
    """
    if not gold:
        raise GoldError("no gold documents to evaluate")
    check_gold(linker, gold)
    started = time.perf_counter()
    predictions = [linker.link(item.document, item.mentions) for item in gold]
    seconds = time.perf_counter() - started
    pairs = [(groups, link) for item, links in zip(gold, predictions)
             for groups, link in zip(item.target_groups(), links)]
    return score(pairs, k=linker.config.top_k, seconds=seconds, kb_version=linker.kb_version,
                 set_threshold=linker.set_threshold)


def _groups(gold) -> tuple[frozenset[str], ...]:
    """Gold as target groups: ``None`` -> NIL ``()``, an id -> one group, groups as they are."""
    if gold is None:
        return ()
    if isinstance(gold, str):
        return (frozenset([gold]),)
    return tuple(gold)


def predicted_set(link: Link, set_threshold: float | None) -> list[str]:
    """The ids a link predicts: its entity, plus alternatives scoring ``>= set_threshold``."""
    if link.is_nil:
        return []
    extra = [] if set_threshold is None else [c.entity_id for c in link.alternatives
                                              if c.score >= set_threshold and c.entity_id != link.entity_id]
    return [link.entity_id, *extra]


def set_counts(groups: tuple[frozenset[str], ...], predicted: list[str]) -> tuple[int, int, int]:
    """(true positives, predicted targets, gold targets); predictions in one group count once."""
    hit_groups, predicted_targets = set(), 0
    for entity_id in predicted:
        inside = [g for g, group in enumerate(groups) if entity_id in group]
        if inside and inside[0] in hit_groups:
            continue  # another KB row of a target already predicted
        predicted_targets += 1
        hit_groups.update(inside[:1])
    return len(hit_groups), predicted_targets, len(groups)


def score(pairs: Sequence[tuple[object, Link]], k: int, seconds: float = 0.0,
          kb_version: str = "", set_threshold: float | None = None) -> LinkingScores:
    """Scores ``(gold, predicted Link)`` pairs.

    ``gold`` is a KB id, ``None`` (NIL) or target groups (see :class:`GoldDocument`): a
    mention is correct when its link's entity is in any group (or both are NIL).
    """
    pairs = [(_groups(g), link) for g, link in pairs]
    total = len(pairs)
    in_kb = [(g, link) for g, link in pairs if g]
    gold_nil = total - len(in_kb)
    hit = [(not g and link.is_nil) or (bool(g) and link.entity_id in frozenset().union(*g)) for g, link in pairs]
    correct = sum(hit)
    in_kb_correct = sum(h for h, (g, _) in zip(hit, pairs) if g)
    predicted_nil = sum(1 for _, link in pairs if link.is_nil)
    true_nil = sum(1 for g, link in pairs if not g and link.is_nil)
    in_candidates = sum(1 for g, link in in_kb
                        if frozenset().union(*g) & {c.entity_id for c in link.alternatives[:k]})
    precision, recall = _ratio(true_nil, predicted_nil), _ratio(true_nil, gold_nil)
    counts = [set_counts(g, predicted_set(link, set_threshold)) for g, link in pairs]
    set_p = _ratio(sum(c[0] for c in counts), sum(c[1] for c in counts))
    set_r = _ratio(sum(c[0] for c in counts), sum(c[2] for c in counts))
    errors = tuple(
        {"doc_id": link.doc_id, "start": link.start, "end": link.end, "text": link.text,
         "label": link.label, "gold": sorted(frozenset().union(*g)) if g else None,
         "predicted": link.entity_id, "score": link.score}
        for h, (g, link) in zip(hit, pairs) if not h)
    return LinkingScores(
        mentions=total, in_kb_mentions=len(in_kb), nil_mentions=gold_nil,
        accuracy=_ratio(correct, total), in_kb_accuracy=_ratio(in_kb_correct, len(in_kb)),
        nil_precision=precision, nil_recall=recall,
        nil_f1=_ratio(2 * precision * recall, precision + recall),
        candidate_recall_at_k=_ratio(in_candidates, len(in_kb)), k=k,
        nil_clusters=len({link.nil_key for _, link in pairs if link.is_nil}),
        mentions_per_second=round(total / seconds, 1) if seconds > 0 else 0.0,
        kb_version=kb_version, errors=errors, set_precision=set_p, set_recall=set_r,
        set_f1=_ratio(2 * set_p * set_r, set_p + set_r),
    )


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0

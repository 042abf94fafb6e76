"""Pseudo-labels for self-training: tag unlabelled text with trained models, keep what they agree on.

Self-training (a "teacher" labels raw text, a "student" trains on gold + those labels) is how a
tagger trained from scratch on ~2M characters of annotated news learns from the text nobody
annotated. Its risk is the teacher's errors; two filters keep precision up:

- **agreement**: with several teachers (e.g. models trained with different features), a window is
  kept only when every teacher predicts exactly the same spans (offsets and types);
- **confidence**: every kept span must score at least ``min_score`` (its mean posterior tag
  probability) with every teacher.

Windows are sentences cut by ``ner.windows`` exactly as the pipeline cuts documents. Windows
with no entity are kept as well (they teach ``O``), subject to the same agreement filter; so a
window holding an entity of a type left out by ``labels`` is dropped, not kept without it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterable, Protocol, Sequence

from kgpipe.ner.data import Example
from kgpipe.ner.windows import split_windows

_UNWRITABLE = re.compile(r"[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


class SpanTagger(Protocol):
    max_window_chars: int
    head_labels: dict[str, tuple[str, ...]]  # head name -> the labels it emits

    def predict_spans(self, texts: Sequence[str], heads: Sequence[str] | None = None,
                      batch_size: int = 64) -> list[list[tuple[int, int, str, float]]]: ...


@dataclasses.dataclass
class PseudoLabelStats:
    """What happened to the windows of the unlabelled text."""

    windows: int = 0  # tagged windows
    skipped: int = 0  # windows not tagged: shorter than min_chars, or holding a tab/line break
    kept: int = 0
    disagreed: int = 0
    low_confidence: int = 0
    other_types: int = 0  # a span of a type outside ``labels`` (kept, it would teach O there)
    entities: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def pseudo_label(taggers: Sequence[SpanTagger], texts: Iterable[str], *,
                 heads: Sequence[str] | None = None, labels: Iterable[str] | None = None,
                 min_score: float = 0.9, min_chars: int = 4,
                 batch_size: int = 512) -> tuple[list[Example], PseudoLabelStats]:
    """Tags ``texts`` with every tagger and returns the windows they agree on, as ``Example``s.

    Args:
        taggers: one or more ``MentionTagger``-like objects (``predict_spans``).
        texts: unlabelled documents, any length (split into sentence windows here).
        heads: heads to decode (default all).
        labels: the entity types to keep (default all the decoded heads emit); windows with a
            span of another type are dropped.
        min_score: lowest span score kept; a window with a lower-scored span is dropped.
        min_chars: windows shorter than this are skipped (headings, fragments).
        batch_size: windows tagged per call.

    Returns:
        The kept windows (text + spans, offsets into the window) and the counts.
    """
    if not taggers:
        raise ValueError("pseudo_label needs at least one tagger. Received: taggers=[]")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"`min_score` must be in [0, 1]. Received: min_score={min_score}")
    emitted = set()
    for tagger in taggers:
        unknown = set(heads or ()) - set(tagger.head_labels)
        if unknown:
            raise ValueError(f"unknown heads {sorted(unknown)}. Received: heads={list(heads)}; "
                             f"the model has {sorted(tagger.head_labels)}")
        emitted |= {label for name, names in tagger.head_labels.items()
                    if heads is None or name in heads for label in names}
    wanted = emitted if labels is None else set(labels)
    if not wanted <= emitted:
        raise ValueError(f"labels {sorted(wanted - emitted)} are emitted by none of the decoded "
                         f"heads. Received: labels={sorted(wanted)}; they emit {sorted(emitted)}")
    max_chars = min(t.max_window_chars for t in taggers)
    windows, skipped = _windows(texts, max_chars, min_chars)
    stats = PseudoLabelStats(windows=len(windows), skipped=skipped)
    kept = []
    for k in range(0, len(windows), batch_size):
        chunk = windows[k:k + batch_size]
        predictions = [t.predict_spans(chunk, heads=heads) for t in taggers]
        for i, text in enumerate(chunk):
            per_tagger = [p[i] for p in predictions]
            spans = {tuple(s[:3]) for s in per_tagger[0]}
            if any({tuple(s[:3]) for s in other} != spans for other in per_tagger[1:]):
                stats.disagreed += 1
            elif any(s[3] < min_score for p in per_tagger for s in p):
                stats.low_confidence += 1
            elif any(label not in wanted for _, _, label in spans):
                stats.other_types += 1
            else:
                kept.append(Example(text, tuple(sorted(spans))))
                stats.entities += len(spans)
    stats.kept = len(kept)
    return kept, stats


def _windows(texts: Iterable[str], max_chars: int, min_chars: int) -> tuple[list[str], int]:
    from kgpipe.schemas.records import Document

    out, skipped = [], 0
    for number, text in enumerate(texts):
        if not text.strip():
            continue
        for window in split_windows(Document(id=str(number), text=text), max_chars):
            # Tabs and line breaks would break the column file the windows are written to.
            if len(window.text) >= min_chars and not _UNWRITABLE.search(window.text):
                out.append(window.text)
            else:
                skipped += 1
    return out, skipped

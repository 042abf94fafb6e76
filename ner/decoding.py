"""Numpy decoding: CRF (Viterbi), tag marginals for mention scores, GlobalPointer span scores,
and merging of heads.

Kept apart from the Keras layers (as in bert4keras) so decoding is plain, testable numpy.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from kgpipe.ner.schemes import tags_to_spans


def viterbi(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray | None = None,
            end: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Best tag path of one sequence.

    Args:
        emissions: float [seq_length, num_tags] (only real positions, no padding).
        transitions: float [num_tags, num_tags]; ``[i, j]`` scores tag i followed by tag j.
        start, end: float [num_tags] scores of the first and last tag, or None for zeros.

    Returns:
        (int64 path [seq_length], its total score). Ties break towards the lower tag index.
    """
    length, num_tags = emissions.shape
    if length == 0:
        return np.zeros(0, np.int64), 0.0
    start = np.zeros(num_tags) if start is None else start
    end = np.zeros(num_tags) if end is None else end
    score = start + emissions[0]
    backpointers = np.zeros((length, num_tags), np.int64)
    for t in range(1, length):
        candidates = score[:, None] + transitions
        backpointers[t] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + emissions[t]
    score = score + end
    path = np.zeros(length, np.int64)
    path[-1] = int(score.argmax())
    for t in range(length - 1, 0, -1):
        path[t - 1] = backpointers[t, path[t]]
    return path, float(score.max())


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    peak = x.max(axis=axis, keepdims=True)
    return (peak + np.log(np.exp(x - peak).sum(axis=axis, keepdims=True))).squeeze(axis)


def marginals(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray | None = None,
              end: np.ndarray | None = None) -> np.ndarray:
    """Posterior tag probabilities per position (forward-backward): float [seq_length, num_tags]."""
    length, num_tags = emissions.shape
    start = np.zeros(num_tags) if start is None else start
    end = np.zeros(num_tags) if end is None else end
    alpha = np.zeros((length, num_tags))
    beta = np.zeros((length, num_tags))
    alpha[0] = start + emissions[0]
    for t in range(1, length):
        alpha[t] = _logsumexp(alpha[t - 1][:, None] + transitions, axis=0) + emissions[t]
    beta[-1] = end
    for t in range(length - 2, -1, -1):
        beta[t] = _logsumexp(transitions + (emissions[t + 1] + beta[t + 1])[None, :], axis=1)
    log_z = _logsumexp(alpha[-1] + end, axis=0)
    return np.exp(alpha + beta - log_z)


def decode_spans(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray,
                 end: np.ndarray, tags: Sequence[str]) -> list[tuple[int, int, str, float]]:
    """Viterbi spans over token positions with scores.

    A span's score is the mean posterior probability of its Viterbi tags.

    Returns:
        ``(start, end, label, score)`` with token positions, end exclusive.
    """
    if len(emissions) == 0:
        return []
    path, _ = viterbi(emissions, transitions, start, end)
    spans = tags_to_spans([tags[i] for i in path])
    if not spans:
        return []
    probs = marginals(emissions, transitions, start, end)
    chosen = probs[np.arange(len(path)), path]
    return [(s, e, label, float(chosen[s:e].mean())) for s, e, label in spans]


def merge_spans(candidates: Sequence[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Resolves overlaps across heads: higher score first, then longer, then earlier, then label.

    Returns non-overlapping spans sorted by position.
    """
    order = sorted(candidates, key=lambda c: (-c[3], -(c[1] - c[0]), c[0], c[2]))
    taken: list[tuple[int, int, str, float]] = []
    for cand in order:
        if all(cand[1] <= s or cand[0] >= e for s, e, _, _ in taken):
            taken.append(cand)
    return sorted(taken, key=lambda c: (c[0], c[1], c[2]))


def viterbi_batch(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray,
                  start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Best paths of a padded batch, vectorised over the batch.

    Args:
        emissions: float [batch_size, seq_length, num_tags]; positions past ``lengths`` ignored.
        lengths: int [batch_size], each >= 1.

    Returns:
        int64 [batch_size, seq_length]; entries past a row's length repeat its last tag.
    """
    batch, seq_length, num_tags = emissions.shape
    rows = np.arange(batch)
    score = start[None] + emissions[:, 0]
    backpointers = np.zeros((batch, seq_length, num_tags), np.int64)
    identity = np.broadcast_to(np.arange(num_tags), (batch, num_tags))
    pairs = transitions[None]
    for t in range(1, seq_length):
        candidates = score[:, :, None] + pairs
        best = candidates.argmax(axis=1)
        new = candidates.max(axis=1) + emissions[:, t]  # the value at ``best``, ties alike
        if t < lengths.min():  # every row is still live (batches are sorted by length)
            backpointers[:, t], score = best, new
            continue
        live = (t < lengths)[:, None]
        backpointers[:, t] = np.where(live, best, identity)
        score = np.where(live, new, score)
    path = np.zeros((batch, seq_length), np.int64)
    path[:, -1] = (score + end[None]).argmax(axis=1)
    for t in range(seq_length - 1, 0, -1):
        path[:, t - 1] = backpointers[rows, t, path[:, t]]
    return path


def marginals_batch(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray,
                    start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Posterior tag probabilities of a padded batch: float [batch_size, seq_length, num_tags]
    (rows past a sequence's length are meaningless).

    Scaled forward-backward: probabilities (not logs) with each step normalised, so a step is
    one small matrix product instead of a log-sum-exp over ``[batch, tags, tags]`` (about 5x
    faster). Rows whose scores are so extreme that a step's total underflows (to zero or to a
    subnormal number, which loses precision) are recomputed in the log domain.
    """
    batch, seq_length, num_tags = emissions.shape
    live = np.arange(seq_length)[None, :, None] < np.asarray(lengths)[:, None, None]
    emit = np.exp(emissions - emissions.max(axis=2, keepdims=True))
    trans = np.exp(transitions - transitions.max())
    alpha = np.empty((batch, seq_length, num_tags))
    beta = np.empty_like(alpha)
    tiny = np.finfo(np.float64).tiny
    bad = np.zeros(batch, bool)  # a step's total fell to (or below) the subnormal range
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = np.exp(start - start.max())[None] * emit[:, 0]
        total = a.sum(axis=1, keepdims=True)
        bad |= total[:, 0] < tiny
        alpha[:, 0] = a = a / total
        for t in range(1, seq_length):
            new = (a @ trans) * emit[:, t]
            total = new.sum(axis=1, keepdims=True)
            bad |= live[:, t, 0] & (total[:, 0] < tiny)
            alpha[:, t] = a = np.where(live[:, t], new / total, a)
        last = np.broadcast_to(np.exp(end - end.max()), (batch, num_tags))
        beta[:, -1] = b = last
        for t in range(seq_length - 2, -1, -1):
            new = (emit[:, t + 1] * b) @ trans.T
            total = new.sum(axis=1, keepdims=True)
            bad |= live[:, t + 1, 0] & (total[:, 0] < tiny)
            beta[:, t] = b = np.where(live[:, t + 1], new / total, last)
        probs = alpha * beta
        total = probs.sum(axis=2, keepdims=True)
        bad |= (live[:, :, 0] & (total[:, :, 0] < tiny)).any(axis=1)
        probs /= total
    bad |= ~np.isfinite(probs).all(axis=(1, 2))
    if bad.any():
        probs[bad] = _marginals_batch_log(emissions[bad], np.asarray(lengths)[bad], transitions,
                                          start, end)
    return probs


def _marginals_batch_log(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray,
                    start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``marginals_batch`` in the log domain: slower, safe for any score range."""
    batch, seq_length, num_tags = emissions.shape
    alpha = np.zeros((batch, seq_length, num_tags))
    beta = np.zeros_like(alpha)
    alpha[:, 0] = start[None] + emissions[:, 0]
    for t in range(1, seq_length):
        new = _logsumexp(alpha[:, t - 1, :, None] + transitions[None], axis=1) + emissions[:, t]
        alpha[:, t] = np.where((t < lengths)[:, None], new, alpha[:, t - 1])
    beta[:, -1] = end[None]
    for t in range(seq_length - 2, -1, -1):
        new = _logsumexp(transitions[None] + (emissions[:, t + 1] + beta[:, t + 1])[:, None, :],
                         axis=2)
        beta[:, t] = np.where((t + 1 < lengths)[:, None], new, end[None])
    log_z = _logsumexp(alpha[:, -1] + end[None], axis=1)
    return np.exp(alpha + beta - log_z[:, None, None])


def decode_batch(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray,
                 start: np.ndarray, end: np.ndarray,
                 tags: Sequence[str]) -> list[list[tuple[int, int, str, float]]]:
    """``decode_spans`` for a padded batch; same results, vectorised over the batch."""
    lengths = np.asarray(lengths)
    out: list[list[tuple[int, int, str, float]]] = [[] for _ in range(len(lengths))]
    live = lengths > 0
    if not live.any():
        return out
    emissions = emissions.astype(np.float64)
    safe = np.maximum(lengths, 1)
    paths = viterbi_batch(emissions, safe, transitions, start, end)
    span_lists = path_spans(paths, lengths, tags)
    if not any(span_lists):
        return out
    # Marginals only for the rows that have spans, cut to their longest length.
    rows = np.array([b for b, spans in enumerate(span_lists) if spans])
    width = int(safe[rows].max())
    probs = marginals_batch(emissions[rows, :width], safe[rows], transitions, start, end)
    chosen = np.take_along_axis(probs, paths[rows, :width, None], axis=2)[:, :, 0]
    # Every span's mean at once, from running sums along each row.
    sums = np.concatenate([np.zeros((len(rows), 1)), np.cumsum(chosen, axis=1)], axis=1)
    where = np.array([(r, s, e) for r, b in enumerate(rows) for s, e, _ in span_lists[b]])
    means = iter(((sums[where[:, 0], where[:, 2]] - sums[where[:, 0], where[:, 1]])
                  / (where[:, 2] - where[:, 1])).tolist())
    for b in rows.tolist():
        out[b] = [(s, e, label, next(means)) for s, e, label in span_lists[b]]
    return out


def decode_globalpointer(scores: np.ndarray, lengths: np.ndarray, labels: Sequence[str], *,
                         nested: bool, threshold: float = 0.0
                         ) -> list[list[tuple[int, int, str, float]]]:
    """Spans scoring above ``threshold``.

    Args:
        scores: float [batch_size, num_labels, seq_length, seq_length] head output.
        lengths: int [batch_size] content tokens per row (spans beyond are ignored).
        labels: label of each score channel.
        nested: keep every span above the threshold (nested and overlapping; one label per
            exact span, the best, since downstream records key mentions by span); otherwise keep
            the best-scoring non-overlapping ones (``ner.decoding.merge_spans`` order).

    Returns:
        Per row, ``(start, end, label, score)`` token spans, end exclusive, sorted by position;
        ``score`` is the span's sigmoid probability.
    """
    out = []
    for row, length in enumerate(np.asarray(lengths)):
        block = scores[row, :, :length, :length]
        found = np.argwhere(block > threshold)
        spans = [(int(s), int(e) + 1, labels[t], float(1.0 / (1.0 + np.exp(-block[t, s, e]))))
                 for t, s, e in found if s <= e]
        out.append(best_per_span(spans) if nested else merge_spans(spans))
    return out


def best_per_span(spans: Sequence[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """One span per exact ``(start, end)``: the best score, then the first label; sorted by position."""
    best: dict[tuple[int, int], tuple[int, int, str, float]] = {}
    for span in sorted(spans, key=lambda c: (-c[3], c[2])):
        best.setdefault(span[:2], span)
    return sorted(best.values(), key=lambda c: (c[0], c[1], c[2]))


def path_spans(paths: np.ndarray, lengths: np.ndarray, tags: Sequence[str]) -> list[list[tuple[int, int, str]]]:
    """``schemes.tags_to_spans`` of each row's first ``lengths[b]`` tag indices, reading only
    the non-``O`` positions (rows of only ``O`` cost no Python step).

    Args:
        paths: int [batch_size, seq_length] tag indices into ``tags``.
        lengths: int [batch_size].
    """
    from kgpipe.ner.schemes import _split

    parsed = [_split(tag) for tag in tags]
    outside = np.array([prefix == "O" for prefix, _ in parsed])
    positions = ~outside[paths] & (np.arange(paths.shape[1])[None] < np.asarray(lengths)[:, None])
    out: list[list[tuple[int, int, str]]] = [[] for _ in range(len(paths))]
    for b in np.flatnonzero(positions.any(axis=1)).tolist():
        out[b] = _row_spans(np.flatnonzero(positions[b]).tolist(), paths[b], parsed)
    return out


def _row_spans(indices: list[int], path: np.ndarray, parsed) -> list[tuple[int, int, str]]:
    """``tags_to_spans`` over the non-O ``indices`` of one path; a gap is an ``O`` that closes
    the open entity."""
    spans: list[tuple[int, int, str]] = []
    start, label, previous = None, None, -2
    for i, k in zip(indices, path[indices].tolist()):
        if start is not None and i != previous + 1:
            spans.append((start, previous + 1, label))
            start, label = None, None
        previous = i
        prefix, tag_label = parsed[k]
        if prefix in ("I", "M", "E") and start is not None and tag_label == label:
            if prefix == "E":
                spans.append((start, i + 1, label))
                start, label = None, None
            continue
        if start is not None:
            spans.append((start, i, label))
            start, label = None, None
        if prefix in ("S", "E"):
            spans.append((i, i + 1, tag_label))
        else:
            start, label = i, tag_label
    if start is not None:
        spans.append((start, previous + 1, label))
    return spans

import itertools

import numpy as np
import pytest

from kgpipe.ner import decoding


def _brute_force(emissions, transitions, start, end):
    length, num_tags = emissions.shape
    best, best_path = -np.inf, None
    scores = {}
    for path in itertools.product(range(num_tags), repeat=length):
        score = start[path[0]] + end[path[-1]] + sum(emissions[t, k] for t, k in enumerate(path))
        score += sum(transitions[a, b] for a, b in zip(path, path[1:]))
        scores[path] = score
        if score > best:
            best, best_path = score, path
    return np.array(best_path), best, scores


@pytest.mark.parametrize("seed", range(5))
def test_viterbi_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    length, num_tags = 1 + seed, 3
    emissions = rng.normal(size=(length, num_tags))
    transitions, start, end = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    path, score = decoding.viterbi(emissions, transitions, start, end)
    expected_path, expected_score, _ = _brute_force(emissions, transitions, start, end)
    np.testing.assert_array_equal(path, expected_path)
    assert score == pytest.approx(expected_score)


def test_marginals_match_brute_force():
    rng = np.random.default_rng(7)
    emissions = rng.normal(size=(4, 3))
    transitions, start, end = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    _, _, scores = _brute_force(emissions, transitions, start, end)
    z = np.logaddexp.reduce(list(scores.values()))
    expected = np.zeros((4, 3))
    for path, score in scores.items():
        for t, k in enumerate(path):
            expected[t, k] += np.exp(score - z)
    np.testing.assert_allclose(decoding.marginals(emissions, transitions, start, end), expected,
                               atol=1e-9)



@pytest.mark.parametrize("scale", [1.0, 30.0, 3000.0])
def test_scaled_batch_marginals_equal_log_domain_ones(scale):
    """The probability-domain forward-backward agrees with the log-domain one, including rows
    whose scores are extreme enough to underflow (those fall back to the log domain)."""
    rng = np.random.default_rng(11)
    lengths = np.array([6, 1, 4, 6, 2])
    emissions = rng.normal(size=(5, 6, 4)) * scale
    transitions, start, end = rng.normal(size=(4, 4)), rng.normal(size=4), rng.normal(size=4)
    transitions[0, 2] = transitions[3, :] = -1e4  # forbidden moves, as trained CRFs learn
    probs = decoding.marginals_batch(emissions, lengths, transitions, start, end)
    assert np.isfinite(probs).all()
    for row, length in enumerate(lengths):
        single = decoding.marginals(emissions[row, :length], transitions, start, end)
        np.testing.assert_allclose(probs[row, :length], single, atol=1e-9)


def test_scaled_marginals_fall_back_when_a_step_is_subnormal():
    """A step whose total is subnormal (finite, but imprecise) must go to the log domain too."""
    transitions = np.array([[0.0, -1e4, 0.0], [-1e4, 0.0, -1e4], [0.0, -1e4, 0.0]])
    emissions = np.array([[[0.0, -800.0, 0.0], [-744.0, 0.0, -744.6]]])
    zeros = np.zeros(3)
    probs = decoding.marginals_batch(emissions, np.array([2]), transitions, zeros, zeros)
    np.testing.assert_allclose(probs[0], decoding.marginals(emissions[0], transitions, zeros, zeros),
                               atol=1e-9)

def test_batch_decoding_equals_single_sequences():
    rng = np.random.default_rng(3)
    tags = ("O", "B-PER", "I-PER", "E-PER", "S-PER")
    lengths = np.array([5, 1, 3, 0])
    emissions = rng.normal(size=(4, 5, 5)) * 3
    transitions, start, end = rng.normal(size=(5, 5)), rng.normal(size=5), rng.normal(size=5)
    batch = decoding.decode_batch(emissions, lengths, transitions, start, end, tags)
    for row, length in enumerate(lengths):
        single = decoding.decode_spans(emissions[row, :length], transitions, start, end, tags)
        assert [s[:3] for s in batch[row]] == [s[:3] for s in single]
        np.testing.assert_allclose([s[3] for s in batch[row]], [s[3] for s in single])
    for row, length in enumerate(lengths[:3]):
        path, _ = decoding.viterbi(emissions[row, :length], transitions, start, end)
        batch_path = decoding.viterbi_batch(emissions, np.maximum(lengths, 1), transitions, start, end)
        np.testing.assert_array_equal(batch_path[row, :length], path)


def test_merge_spans_prefers_higher_score_and_sorts():
    merged = decoding.merge_spans([(0, 3, "ORG", 0.6), (2, 4, "BRAND", 0.9), (5, 6, "PER", 0.5)])
    assert merged == [(2, 4, "BRAND", 0.9), (5, 6, "PER", 0.5)]


@pytest.mark.parametrize("tags", [("O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "E-LOC"),
                                  ("O", "B-ORG", "I-ORG", "B-PER", "I-PER")])
def test_path_spans_equal_tags_to_spans_on_any_path(tags):
    from kgpipe.ner.schemes import tags_to_spans

    rng = np.random.default_rng(11)
    # Mostly O, and arbitrary (also ill-formed) tag sequences: lenient reading must agree.
    paths = np.where(rng.random((200, 30)) < 0.5, 0, rng.integers(0, len(tags), (200, 30)))
    lengths = rng.integers(0, 31, 200)
    got = decoding.path_spans(paths, lengths, tags)
    for row, length in enumerate(lengths):
        assert got[row] == tags_to_spans([tags[k] for k in paths[row, :length]])

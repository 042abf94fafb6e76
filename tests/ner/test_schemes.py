import pytest

from kgpipe.ner import schemes

SPANS = [(0, 2, "PER"), (3, 4, "LOC"), (5, 8, "ORG")]


@pytest.mark.parametrize("scheme", list(schemes.TagScheme))
def test_round_trip(scheme):
    tags = schemes.spans_to_tags(SPANS, 9, scheme)
    assert schemes.detect_scheme(tags) in (scheme, schemes.TagScheme.BIO)
    assert schemes.tags_to_spans(tags) == SPANS


def test_written_tags():
    assert schemes.spans_to_tags(SPANS, 9, "BIOES") == [
        "B-PER", "E-PER", "O", "S-LOC", "O", "B-ORG", "I-ORG", "E-ORG", "O"]
    assert schemes.spans_to_tags(SPANS, 9, "BMES")[5:8] == ["B-ORG", "M-ORG", "E-ORG"]
    assert schemes.spans_to_tags(SPANS, 9, "BIO")[3] == "B-LOC"


def test_detect_scheme():
    assert schemes.detect_scheme(["B-A", "I-A", "O"]) is schemes.TagScheme.BIO
    assert schemes.detect_scheme(["S-A", "O"]) is schemes.TagScheme.BIOES
    assert schemes.detect_scheme(["B-A", "M-A", "E-A"]) is schemes.TagScheme.BMES


def test_lenient_reading_and_bilou():
    assert schemes.tags_to_spans(["I-PER", "I-PER", "O", "B-LOC", "I-ORG"]) == [
        (0, 2, "PER"), (3, 4, "LOC"), (4, 5, "ORG")]
    assert schemes.tags_to_spans(["U-PER", "B-LOC", "L-LOC"]) == [(0, 1, "PER"), (1, 3, "LOC")]


def test_bad_tag_and_overlap_raise():
    with pytest.raises(ValueError, match="cannot read tag"):
        schemes.tags_to_spans(["X"])
    with pytest.raises(ValueError, match="overlaps"):
        schemes.spans_to_tags([(0, 2, "A"), (1, 3, "B")], 4, "BIO")

import pytest

from kgpipe.ner.windows import sentence_spans, split_windows
from kgpipe.schemas.records import Document


def _check_offsets(doc, windows):
    for w in windows:
        assert doc.text[w.start:w.end] == w.text
    starts = [w.start for w in windows]
    assert starts == sorted(starts)


def test_sentences_split_at_terminal_punctuation_and_newlines():
    text = "北京是首都。上海呢？\n深圳！”他说。Done. Next"
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["北京是首都。", "上海呢？", "深圳！”", "他说。", "Done.", "Next"]


def test_windows_cover_every_character_of_text_and_fit():
    text = "苹果公司发布新品。" * 3 + "很长，" * 80 + "结束"
    doc = Document("d", text)
    windows = split_windows(doc, max_chars=50, min_chars=1)
    _check_offsets(doc, windows)
    assert all(len(w.text) <= 50 for w in windows)
    covered = "".join(w.text for w in windows)
    assert covered == "".join(text.split())


def test_long_sentence_is_cut_at_a_comma_not_mid_word():
    doc = Document("d", "甲" * 30 + "，" + "乙" * 30)
    windows = split_windows(doc, max_chars=40)
    assert windows[0].text == "甲" * 30 + "，"
    _check_offsets(doc, windows)


def test_short_fragments_join_the_next_sentence():
    doc = Document("d", "标题\n正文第一句很长很长。")
    [window] = split_windows(doc, max_chars=100, min_chars=8)
    assert window.text == doc.text


def test_blank_document_has_no_windows_and_bad_limit_raises():
    assert split_windows(Document("d", "  \n "), 10) == []
    with pytest.raises(ValueError, match="max_chars"):
        split_windows(Document("d", "x"), 0)

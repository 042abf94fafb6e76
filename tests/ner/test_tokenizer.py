import pytest

from kgpipe.ner.tokenizer import CLS, PAD, SEP, SPECIAL_TOKENS, UNK, Tokenizer, normalize_text

VOCAB = [PAD, UNK, CLS, SEP, "[MASK]", "北", "京", "是", "，", "ipad", "##s", "a", "##p", "##p",
         "##l", "##e", "20", "##1", "##3", "年"]


def _tokenizer():
    return Tokenizer(VOCAB)


def _check_offsets(text, encoding):
    norm = normalize_text(text)
    for token, (start, end) in zip(encoding.tokens, encoding.offsets):
        assert 0 <= start < end <= len(text)
        if token != UNK:
            assert token.removeprefix("##") in (norm[start:end], text[start:end])


def test_chinese_one_token_per_char():
    enc = _tokenizer().encode("北京是")
    assert enc.tokens == ("北", "京", "是")
    assert enc.offsets == ((0, 1), (1, 2), (2, 3))


def test_latin_wordpiece_and_digits():
    text = "北京 iPads，2013年"
    enc = _tokenizer().encode(text)
    assert enc.tokens == ("北", "京", "ipad", "##s", "，", "20", "##1", "##3", "年")
    assert enc.offsets[2:4] == ((3, 7), (7, 8))
    _check_offsets(text, enc)


def test_full_width_is_normalised_without_moving_offsets():
    text = "ＩＰＡＤＳ\u3000２０１３年"
    enc = _tokenizer().encode(text)
    assert enc.tokens == ("ipad", "##s", "20", "##1", "##3", "年")
    assert enc.offsets == ((0, 4), (4, 5), (6, 8), (8, 9), (9, 10), (10, 11))
    _check_offsets(text, enc)


def test_unknown_word_and_char():
    enc = _tokenizer().encode("xyz上")
    assert enc.tokens == (UNK, UNK)
    assert enc.offsets == ((0, 3), (3, 4))


def test_build_save_load_round_trip(tmp_path):
    tokenizer = Tokenizer.build(["苹果iPhone手机", "iphone 12 手机"], min_word_count=2)
    path = tmp_path / "vocab.txt"
    tokenizer.save(path)
    loaded = Tokenizer.from_file(path)
    assert loaded.vocab == tokenizer.vocab
    assert "iphone" in loaded.token_to_id and "##1" in loaded.token_to_id
    enc = loaded.encode("ＩＰＨＯＮＥ 12")
    assert enc.tokens == ("iphone", "1", "##2") or enc.tokens == ("iphone", UNK)
    assert UNK not in loaded.encode("苹果手机").tokens


def test_vocab_without_specials_is_rejected():
    with pytest.raises(ValueError, match="special tokens"):
        Tokenizer(["a", "b"])


def test_regex_word_splitting_equals_the_character_scan():
    """``split_words`` (regex classes over the BMP) against the per-character reference."""
    import random

    from kgpipe.ner.tokenizer import _split_words_python, split_words

    every_char = "".join(chr(cp) for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF)
    rng = random.Random(5)
    texts = [every_char, "ＩＰＨＯＮＥ１２ ab_c-d\u200b中文\u3000x\t\ny", "𠀀ab😀c d"]
    texts += ["".join(rng.choice(every_char[:0x3100]) for _ in range(60)) for _ in range(300)]
    for text in texts:
        assert split_words(text) == _split_words_python(text)


def test_encode_batch_equals_encode_text_by_text():
    texts = ["张三在北京大学工作。", "", "  ", "a", "Ａｐｐｌｅ公司 iPhone 15 Pro", "abc def\tghi",
             "价格：1999元！", "x" * 150 + "字", "😀表情𠀀字", "𝐀𝐁c中", "﹏㊣ⅷ\u200b字", "unaffable"]
    vocab = list(SPECIAL_TOKENS) + list("张三在北京大学工作。元字apple公司") + ["un", "##aff", "##able", "1999"]
    tokenizer = Tokenizer(vocab)
    for batch in (texts, texts[:4], texts[4:8], [texts[-1]], []):
        assert tokenizer.encode_batch(batch) == [tokenizer.encode(t) for t in batch]

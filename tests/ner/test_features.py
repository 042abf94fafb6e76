"""The vectorised batch featurizer equals a plain per-text reference, token by token."""

from pathlib import Path

import numpy as np

from kgpipe.ner.features import BIGRAM_BOUNDARY, BIGRAM_UNK, Featurizer, bigrams, token_strings
from kgpipe.ner.tokenizer import normalize_text
from tests.ner.test_tagger import tiny_featurizer

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "ner" / "default_model"
TEXTS = ["张三在北京大学工作。", "华为手机P30很好用", "", "  ", "a", "北", "Ａｐｐｌｅ公司 iPhone 15 Pro",
         "李四去了上海和Apple公司", "价格：1999元！😀表情𠀀字", "abc def\tghi", "上海上海上海"]


def reference(featurizer: Featurizer, text: str):
    """Features of one text the plain way (the featurizer before vectorisation)."""
    tok = featurizer.tokenizer
    encoding = tok.encode(text)
    norm = normalize_text(text)
    index = featurizer.bigram_vocab.index
    token_ids = np.array([tok.cls_id, *encoding.ids, tok.sep_id], np.int32)
    bigram_ids = np.array([BIGRAM_BOUNDARY]
                          + [index.get(b, BIGRAM_UNK) for b in bigrams(token_strings(text, encoding))]
                          + [BIGRAM_BOUNDARY], np.int32)
    lexicon = np.zeros((len(encoding) + 2, featurizer.lexicon_dim), np.float16)
    if len(encoding) and featurizer.lexicon_dim:
        lexicon[1:-1] = featurizer._char_features(norm)[[s for s, _ in encoding.offsets]]
    return token_ids, bigram_ids, lexicon, encoding.offsets


def check(featurizer, texts, chunk_size):
    got = featurizer.batch(texts, chunk_size=chunk_size)
    assert len(got) == len(texts)
    for text, features in zip(texts, got):
        token_ids, bigram_ids, lexicon, offsets = reference(featurizer, text)
        np.testing.assert_array_equal(features.token_ids, token_ids)
        np.testing.assert_array_equal(features.bigram_ids, bigram_ids)
        np.testing.assert_array_equal(features.lexicon, lexicon)
        assert features.offsets == offsets and features.lexicon.dtype == np.float16


def test_tiny_featurizer_matches_reference_for_any_chunking():
    featurizer = tiny_featurizer(TEXTS)
    assert len(featurizer.bigram_vocab) > 10
    for chunk_size in (1, 3, 256):
        check(featurizer, TEXTS, chunk_size)


def test_default_model_featurizer_matches_reference(shared_data):
    from kgpipe.ner.data import read_examples
    from kgpipe.ner.model_dir import load_model_dir

    _, featurizer, _ = load_model_dir(DEFAULT_MODEL)
    texts = [ex.text for ex in read_examples(shared_data / "msra" / "test.txt")[:150]] + TEXTS
    features = featurizer.batch(texts)
    known = sum(int((f.bigram_ids[1:-1] > BIGRAM_UNK).sum()) for f in features)
    assert known > 1000  # the table lookup finds real bigrams, not only unknowns
    check(featurizer, texts, 64)

"""The jieba lexicon cache: same features as a fresh build, rebuilt when unreadable, optional."""

import numpy as np

from kgpipe.ner.lexicon import build_lexicon

TEXT = "我们在北京大学学习人工智能，华为公司在深圳。"


def test_cached_lexicon_gives_the_fresh_features(tmp_path):
    fresh = build_lexicon()
    first = build_lexicon(cache_dir=tmp_path)
    second = build_lexicon(cache_dir=tmp_path)
    assert not first.from_cache and second.from_cache
    assert len(list(tmp_path.glob("jieba-lexicon-*.pkl"))) == 1
    expected = fresh.features(TEXT)
    np.testing.assert_array_equal(first.features(TEXT), expected)
    np.testing.assert_array_equal(second.features(TEXT), expected)
    # Words added after the cached part still count (the automaton is rebuilt with them).
    second.add_words(["人工智能学"], "BRAND")
    assert second.categories[-1] == "BRAND" and second.features(TEXT).shape[1] == second.feature_dim


def test_unreadable_cache_is_rebuilt_and_other_settings_get_their_own_entry(tmp_path):
    build_lexicon(cache_dir=tmp_path)
    (entry,) = tmp_path.glob("jieba-lexicon-*.pkl")
    entry.write_bytes(b"not a pickle")
    again = build_lexicon(cache_dir=tmp_path)
    assert not again.from_cache  # rebuilt, and stored again whole
    np.testing.assert_array_equal(again.features(TEXT), build_lexicon().features(TEXT))
    assert build_lexicon(cache_dir=tmp_path).from_cache
    build_lexicon(cache_dir=tmp_path, max_word_length=8)
    assert len(list(tmp_path.glob("jieba-lexicon-*.pkl"))) == 2


def test_an_unwritable_cache_directory_only_costs_time(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    lexicon = build_lexicon(cache_dir=blocked / "cache")
    assert not lexicon.from_cache and lexicon.features(TEXT).any()

from kgpipe.linking.normalize import normalize, normalize_with_offsets


def test_variants_share_one_key():
    assert normalize("苹果公司") == normalize("蘋果公司") == normalize("苹果 公司") == "苹果公司"
    assert normalize("ＡＰＰＬＥ") == normalize("Apple") == normalize("APPLE") == "apple"
    assert normalize("New-York") == normalize("new  york") == normalize("New York") == "newyork"
    assert normalize("阿里·巴巴") == normalize("阿里巴巴") == "阿里巴巴"
    assert normalize("華為") == "华为"
    assert normalize("Zürich") == "zurich"


def test_full_width_digits_and_brackets():
    assert normalize("华为（深圳）１２３") == "华为深圳123"


def test_symbols_are_kept_and_blank_is_empty():
    assert normalize("C++") == "c++"
    assert normalize("  ，。 ") == ""


def test_offsets_map_back_to_the_original():
    text = "在 蘋果 公司，ＡＢ"
    normalized, origin = normalize_with_offsets(text)
    assert normalized == "在苹果公司ab"
    assert len(origin) == len(normalized)
    start = normalized.index("苹果公司")
    end = start + len("苹果公司")
    assert text[origin[start]:origin[end - 1] + 1] == "蘋果 公司"


def test_substring_of_normalised_text_is_normalised_substring():
    text = "他住在北京朝陽區"
    normalized, _ = normalize_with_offsets(text)
    assert normalize(text) == normalized
    assert normalize("朝陽區") in normalized

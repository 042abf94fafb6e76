"""Tests for kg.relations.BrandOfProduct."""

import dataclasses

import pytest

from kgpipe.kg.relations import BrandOfProduct, ResolvedMention
from kgpipe.schemas.records import Document
from kgpipe.schemas.vocab import KGP


def _m(text, surface, cls, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return ResolvedMention(start, start + len(surface), surface, f"https://e.org/{surface}", cls, 0.9)


def _pairs(text, mentions, **kw):
    rels = BrandOfProduct(**kw).extract(Document("d", text), mentions)
    return sorted((r.subject.rsplit("/", 1)[1], r.object.rsplit("/", 1)[1]) for r in rels)


def test_brand_before_product_within_gap():
    text = "华为Mate40 Pro 5G手机 曜石黑"
    assert _pairs(text, [_m(text, "华为", KGP.Brand), _m(text, "手机", KGP.Product)]) == [("手机", "华为")]
    assert _pairs(text, [_m(text, "华为", KGP.Brand), _m(text, "手机", KGP.Product)], max_gap=5) == []


def test_nearest_preceding_brand_wins_and_sentences_separate():
    text = "小米充电宝，华为手机。耐克"
    mentions = [_m(text, "小米", KGP.Brand), _m(text, "充电宝", KGP.Product), _m(text, "华为", KGP.Brand),
                _m(text, "手机", KGP.Product), _m(text, "耐克", KGP.Brand)]
    assert _pairs(text, mentions) == [("充电宝", "小米"), ("手机", "华为")]


def test_brand_after_product_when_none_before():
    text = "运动鞋 耐克"
    assert _pairs(text, [_m(text, "运动鞋", KGP.Product), _m(text, "耐克", KGP.Brand)]) == [("运动鞋", "耐克")]


def test_organisation_only_when_attached_to_product():
    text = "苹果iPhone 15 Pro，腾讯今天谈到了手机"
    mentions = [_m(text, "苹果", KGP.Organization), _m(text, "iPhone", KGP.Product),
                _m(text, "腾讯", KGP.Organization), _m(text, "手机", KGP.Product)]
    assert _pairs(text, mentions) == [("iPhone", "苹果")]


def test_an_unlinked_brand_attached_to_a_linked_one_is_a_series_name():
    from kgpipe.schemas.records import Link

    text = "华为Mate 60 Pro 智能手机，小米 充电宝"
    linked = dataclasses.replace(_m(text, "华为", KGP.Brand),
                                 link=Link("d", 0, 2, "华为", "BRAND", "kb:huawei", 0.9))
    nil = dataclasses.replace(_m(text, "Mate", KGP.Brand),
                              link=Link("d", 2, 6, "Mate", "BRAND", None, 0.1, nil_key="mate"))
    product = _m(text, "手机", KGP.Product)
    assert _pairs(text, [linked, nil, product]) == [("手机", "华为")]
    # Without link information the nearest brand wins; a brand that is not attached stays.
    assert _pairs(text, [_m(text, "华为", KGP.Brand), _m(text, "Mate", KGP.Brand), product]) == [("手机", "Mate")]
    text = "华为手机 小米充电宝"
    huawei = dataclasses.replace(_m(text, "华为", KGP.Brand),
                                 link=Link("d", 0, 2, "华为", "BRAND", "kb:huawei", 0.9))
    assert _pairs(text, [huawei, _m(text, "手机", KGP.Product), _m(text, "小米", KGP.Brand),
                         _m(text, "充电宝", KGP.Product)]) == [("充电宝", "小米"), ("手机", "华为")]


def test_an_organisation_tagged_as_brand_counts_as_a_brand():
    from kgpipe.schemas.records import Mention

    text = "华为Mate 60 Pro 智能手机"
    org = _m(text, "华为", KGP.Organization)
    tagged = dataclasses.replace(org, mention=Mention("d", 0, 2, "华为", "BRAND", 0.9, "test"))
    product = _m(text, "手机", KGP.Product)
    assert _pairs(text, [org, product]) == []  # an organisation 14 characters away: too far
    assert _pairs(text, [tagged, product]) == [("手机", "华为")]


def test_config_echoes_bad_values():
    with pytest.raises(ValueError, match="max_gap=-1"):
        BrandOfProduct(max_gap=-1)

"""The report's product picture: brand -> product -> category."""

import re

from kgpipe.kg.builder import BuilderConfig
from kgpipe.kg.local import write_run
from kgpipe.kg.report import render_report
from kgpipe.schemas.records import Document, Link, Mention

TITLES = [
    ("p1", "华为 MateBook 14 16GB+1TB 笔记本电脑", "华为", "huawei"),
    ("p2", "华为 nova 12 Pro 12GB+256GB 5G手机", "华为", "huawei"),
    ("p3", "美的电饭煲 家用4L", "美的", "midea"),
    ("p4", "加厚保温杯 1000ml", None, None),
]


def _run(tmp_path):
    documents, annotations = [], {}
    for doc_id, text, brand, entity_id in TITLES:
        doc = Document(doc_id, text, metadata={"kind": "product"})
        mentions, links = [], []
        if brand:
            start = text.index(brand)
            mentions.append(Mention(doc_id, start, start + len(brand), brand, "BRAND", 0.9, "m"))
            links.append(Link(doc_id, start, start + len(brand), brand, "BRAND", entity_id, 0.8,
                              entity_name=brand, entity_types=("Brand",)))
        documents.append(doc)
        annotations[doc_id] = (mentions, links)
    write_run(tmp_path, BuilderConfig("run-pic", extractor="kgpipe/test"), documents, annotations)
    return tmp_path


def test_report_draws_brand_product_category(tmp_path):
    page = render_report(_run(tmp_path))
    svg = re.search(r'<svg id="product-graph".*?</svg>', page, re.S).group()
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert {"华为", "美的", "MateBook 14", "nova 12 Pro", "笔记本电脑 · 电子产品", "手机 · 电子产品",
            "电饭煲 · 家用电器", "加厚保温杯 1000ml"} <= set(labels)
    assert svg.count('class="brand-edge"') == 3 and svg.count('class="category-edge"') == 4
    assert page.index('id="graph-core"') < page.index('id="product-graph"')


def test_report_without_products_has_no_product_picture(sample_run_dir):
    assert 'id="product-graph"' not in render_report(sample_run_dir)

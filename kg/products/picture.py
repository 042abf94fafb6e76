"""The report's product picture: brand -> product -> category, as one inline SVG.

Three columns read from a run's triples table: brands (objects of ``kgp:brand``),
products (subjects of ``kgp:category`` or ``kgp:brand``, labelled by their
``schema:model``, else their title cut short) and categories (objects of
``kgp:category``, labelled ``leaf · top-level``). Pure and deterministic: the
same run gives the same picture.
"""

from __future__ import annotations

import html
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from kgpipe.schemas.vocab import KGP, RDFS, SCHEMA

_BRAND, _CATEGORY, _LABEL, _MODEL = str(KGP.brand), str(KGP.category), str(RDFS.label), str(SCHEMA.model)
_SUBCLASS = str(RDFS.subClassOf)
_COLORS = {"brand": "#e15759", "product": "#76b7b2", "category": "#59a14f"}


def _rows(table: pa.Table, predicate: str) -> list[dict[str, Any]]:
    return table.filter(pc.equal(table["predicate"], predicate)).select(["subject", "object", "language"]).to_pylist()


def _labels(table: pa.Table, language: str) -> dict[str, str]:
    out: dict[str, str] = {}
    rows = sorted(_rows(table, _LABEL), key=lambda r: (r["language"] != language, r["language"] or "", r["object"]))
    for row in rows:
        out.setdefault(row["subject"], row["object"])
    return out


def product_edges(table: pa.Table, max_products: int = 24, language: str = "zh") -> dict[str, Any]:
    """Returns ``{"brands", "products", "categories": [(iri, label)], "edges": [(a, b, kind)]}`` for the picture.

    Products are ordered by (first brand label, product label); at most ``max_products`` are kept.
    """
    labels = _labels(table, language)
    brands: dict[str, list[str]] = {}
    for row in _rows(table, _BRAND):
        brands.setdefault(row["subject"], []).append(row["object"])
    category = {row["subject"]: row["object"] for row in _rows(table, _CATEGORY)}
    models = {row["subject"]: row["object"] for row in sorted(_rows(table, _MODEL), key=lambda r: r["object"])}
    parents = {row["subject"]: row["object"] for row in _rows(table, _SUBCLASS)}
    products = sorted(set(category) | {p for p in brands if p.endswith("#product")},
                      key=lambda p: (labels.get(sorted(brands.get(p, ["~"]))[0], "~"),
                                     _product_label(p, models, labels), p))
    products = products[:max_products]
    edges = [(b, p, "brand") for p in products for b in sorted(set(brands.get(p, [])))]
    edges += [(p, category[p], "category") for p in products if p in category]
    brand_nodes = sorted({a for a, _, kind in edges if kind == "brand"}, key=lambda b: (labels.get(b, b), b))
    category_nodes = sorted({b for _, b, kind in edges if kind == "category"},
                            key=lambda c: (_category_label(c, parents, labels), c))
    return {"brands": [(b, labels.get(b, b.rsplit("/", 1)[-1])) for b in brand_nodes],
            "products": [(p, _product_label(p, models, labels)) for p in products],
            "categories": [(c, _category_label(c, parents, labels)) for c in category_nodes], "edges": edges}


def _product_label(product: str, models: dict[str, str], labels: dict[str, str]) -> str:
    if product in models:
        return models[product]
    title = labels.get(product, product.rsplit("/", 1)[-1])  # Already short (kg.products.facts).
    return title if len(title) <= 14 else title[:13] + "…"


def _category_label(category: str, parents: dict[str, str], labels: dict[str, str]) -> str:
    top, seen = category, {category}
    while parents.get(top) in labels and parents[top] not in seen:  # Up to the last labelled ancestor.
        top = parents[top]
        seen.add(top)
    leaf = labels.get(category, category.rsplit("/", 1)[-1])
    return leaf if top == category else f"{leaf} · {labels[top]}"


def product_svg(table: pa.Table, width: int = 1040, max_products: int = 24) -> str:
    """Returns the inline SVG of brand -> product -> category (an empty string when the run has no products)."""
    data = product_edges(table, max_products)
    if not data["products"]:
        return ""
    row_height = 26
    height = 40 + row_height * max(len(data["products"]), len(data["brands"]), len(data["categories"]))
    columns = {"brand": (data["brands"], 150), "product": (data["products"], width // 2),
               "category": (data["categories"], width - 170)}
    xy: dict[str, tuple[float, float]] = {}
    for kind, (nodes, x) in columns.items():
        step = (height - 40) / max(len(nodes), 1)
        for i, (iri, _) in enumerate(nodes):
            xy[kind + iri] = (x, 20 + step * (i + 0.5))
    parts = [f'<svg id="product-graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
             f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label="brand, product, category">']
    for a, b, kind in data["edges"]:
        (x1, y1), (x2, y2) = xy[("brand" if kind == "brand" else "product") + a], xy[
            ("product" if kind == "brand" else "category") + b]
        dash = ' stroke-dasharray="6 3"' if kind == "brand" else ""
        parts.append(f'<line class="{kind}-edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     f'stroke="{_COLORS[kind if kind == "brand" else "category"]}" stroke-width="1.5"{dash} '
                     f'stroke-opacity="0.7"/>')
    for kind, (nodes, _) in columns.items():
        anchor = {"brand": "end", "product": "middle", "category": "start"}[kind]
        dx = {"brand": -9, "product": 0, "category": 9}[kind]
        dy = -8 if kind == "product" else 5
        for iri, label in nodes:
            x, y = xy[kind + iri]
            parts.append(f'<g class="{kind}"><circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{_COLORS[kind]}">'
                         f'<title>{html.escape(iri)}</title></circle><text x="{x + dx:.1f}" y="{y + dy:.1f}" '
                         f'text-anchor="{anchor}" font-size="13" paint-order="stroke" stroke="#fff" stroke-width="3" '
                         f'fill="#222">{html.escape(label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)

"""``kgpipe report DIR``: one self-contained HTML file about a run's graph.

The page holds the tables of ``kg.graph.graph_stats`` and two inline SVG
drawings: the graph's core (the top entities by PageRank and the edges among
them, laid out per component with networkx's Kamada-Kawai layout, which is
deterministic, so the same run always gives the same picture) and the degree distribution. No scripts, no external
files or fonts: it opens anywhere, and prints. Chinese labels use the CJK
fonts of the viewer's system (Noto Sans CJK, Source Han, PingFang, YaHei...).
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import networkx as nx

from kgpipe.kg import manifest
from kgpipe.kg.graph import EntityGraph, GraphStatsConfig, load, short_name, summarize
from kgpipe.kg.products.picture import product_svg

_FONT = ('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "PingFang SC", '
         '"Microsoft YaHei", "Hiragino Sans GB", sans-serif')
_CLASS_COLORS = {
    "kgp:Person": "#4e79a7", "kgp:Organization": "#f28e2b", "kgp:Location": "#59a14f", "kgp:Brand": "#e15759",
    "kgp:Product": "#76b7b2", "kgp:CreativeWork": "#edc948", "kgp:Event": "#b07aa1", "kgp:Position": "#ff9da7",
}
_OTHER_COLOR = "#9c755f"
_RELATION_COLORS = {"kgp:coOccursWith": "#b8b8b8", "kgp:brand": "#e15759"}
_CSS = f"""
body {{ font-family: {_FONT}; margin: 24px auto; max-width: 1100px; color: #222; background: #fafafa; }}
h1 {{ font-size: 24px; margin-bottom: 4px; }} h2 {{ font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }}
.meta {{ color: #666; font-size: 13px; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }}
.card {{ background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 10px 16px; min-width: 120px; }}
.card b {{ display: block; font-size: 22px; }} .card span {{ color: #666; font-size: 12px; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 18px; }}
table {{ border-collapse: collapse; background: #fff; font-size: 13px; width: 100%; }}
th, td {{ border: 1px solid #e3e3e3; padding: 4px 8px; text-align: left; }} th {{ background: #f0f0f0; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
svg {{ background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; }}
svg text {{ font-family: {_FONT}; }}
.legend span {{ display: inline-block; margin-right: 14px; font-size: 13px; }}
.legend i {{ display: inline-block; width: 11px; height: 11px; border-radius: 6px; margin-right: 4px; vertical-align: -1px; }}
"""


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    """Options of the HTML report.

    Attributes:
        core_size: Entities drawn in the graph's core (top by PageRank).
        top: Entities listed in the PageRank table.
        width, height: Size of the core drawing, in CSS pixels.
        run_id: Only this run (default: all runs).
    """

    core_size: int = 40
    top: int = 25
    width: int = 1040
    height: int = 640
    run_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("core_size", "top", "width", "height"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _color(types: list[str]) -> str:
    for t in types:
        if t in _CLASS_COLORS:
            return _CLASS_COLORS[t]
    return _OTHER_COLOR


def core_nodes(eg: EntityGraph, size: int) -> list[str]:
    """Returns the graph's core: the top entities by PageRank and their strongest links.

    Half of ``size`` goes to the top entities; each then brings in up to two
    neighbours, strongest edge first, until ``size`` nodes are chosen, so the
    picture shows how the top entities connect even when they share no edge.
    """
    rank, g = eg.rank, eg.graph
    ordered = sorted(rank, key=lambda n: (-rank[n], n))
    core = dict.fromkeys(ordered[: max(1, size // 2)])
    for node in list(core):
        neighbours = sorted(g[node], key=lambda m: (-g[node][m]["weight"], -rank[m], m))
        for neighbour in neighbours[:2]:
            if len(core) < size:
                core.setdefault(neighbour)
    for node in ordered:  # Fill up with the next entities by rank.
        if len(core) >= size:
            break
        core.setdefault(node)
    return list(core)


def core_svg(eg: EntityGraph, config: ReportConfig) -> str:
    """Returns the inline SVG drawing of the graph's core (top entities and their links)."""
    rank = eg.rank
    core = eg.graph.subgraph(core_nodes(eg, config.core_size) if len(eg.graph) else []).copy()
    w, h, margin = config.width, config.height, 70
    parts = [f'<svg id="graph-core" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}" role="img" aria-label="graph core">']
    if not len(core):
        parts.append(f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle" fill="#888">no entities</text></svg>')
        return "".join(parts)
    xy = {n: (margin + x * (w - 2 * margin), margin + y * (h - 2 * margin)) for n, (x, y) in layout(core, w / h).items()}
    max_weight = max((d["weight"] for _, _, d in core.edges(data=True)), default=1)
    for a, b, data in sorted(core.edges(data=True), key=lambda e: (e[2]["weight"], e[0], e[1])):
        relation = "kgp:brand" if "kgp:brand" in data["relations"] else sorted(data["relations"])[0]
        stroke = 1 + 4 * math.log1p(data["weight"]) / math.log1p(max_weight)
        (x1, y1), (x2, y2) = xy[a], xy[b]
        dash = ' stroke-dasharray="6 3"' if relation == "kgp:brand" else ""
        parts.append(f'<line class="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     f'stroke="{_RELATION_COLORS.get(relation, "#555")}" stroke-width="{stroke:.2f}"{dash} '
                     f'stroke-opacity="0.8"><title>{_e(eg.labels.get(a, a))} — {_e(eg.labels.get(b, b))}: '
                     f'{_e(", ".join(sorted(data["relations"])))} (weight {data["weight"]})</title></line>')
    top_rank = max(rank[n] for n in core)
    for node in sorted(core, key=lambda n: (rank[n], n)):
        x, y = xy[node]
        radius = 5 + 19 * math.sqrt(rank[node] / top_rank)
        types = [short_name(t) for t in eg.types.get(node, [])]
        label = eg.label(node)
        parts.append(f'<g class="node"><circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{_color(types)}" '
                     f'stroke="#fff" stroke-width="1.5"><title>{_e(label)} ({_e(", ".join(types))})\n{_e(node)}\n'
                     f'PageRank {rank[node]:.4f}</title></circle>'
                     f'<text x="{x:.1f}" y="{y - radius - 4:.1f}" text-anchor="middle" font-size="14" '
                     f'paint-order="stroke" stroke="#fff" stroke-width="3" fill="#222">{_e(label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def layout(graph: nx.Graph, aspect: float = 1.6) -> dict[str, tuple[float, float]]:
    """Returns node positions in the unit square, each connected component laid out on its own.

    Components get a Kamada-Kawai layout in a box of the drawing's aspect
    ratio whose area grows with their size, and the boxes are packed in rows
    (largest first), so small components neither collapse nor drift to the
    corners and the largest one uses the width of the picture.
    """
    comps = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    stretch = math.sqrt(aspect)
    sizes = [(math.sqrt(len(c)) * stretch, math.sqrt(len(c)) / stretch) if len(c) > 1 else (1.0, 1.0) for c in comps]
    row_width = max(max(w for w, _ in sizes), math.sqrt(sum(w * h for w, h in sizes) * aspect))
    boxes, x, y, row_height = [], 0.0, 0.0, 0.0
    for bw, bh in sizes:
        if x > 0 and x + bw > row_width + 1e-9:
            x, y, row_height = 0.0, y + row_height, 0.0
        boxes.append((x, y, bw, bh))
        x, row_height = x + bw, max(row_height, bh)
    total_w, total_h = max(bx + bw for bx, _, bw, _ in boxes), max(by + bh for _, by, _, bh in boxes)
    scale = min(aspect / total_w, 1.0 / total_h)  # fit into an aspect x 1 area, then normalise
    off_x, off_y = (aspect - total_w * scale) / 2, (1.0 - total_h * scale) / 2
    positions: dict[str, tuple[float, float]] = {}
    for comp, (bx, by, bw, bh) in zip(comps, boxes):
        if len(comp) == 1:
            pos = {comp[0]: (0.0, 0.0)}
        else:  # Kamada-Kawai spreads hubs' neighbours evenly and is deterministic (no random start).
            pos = nx.kamada_kawai_layout(graph.subgraph(comp), weight=None)
        xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
        span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
        for node, (px, py) in pos.items():
            ux = 0.5 if len(comp) == 1 else 0.1 + 0.8 * (px - min(xs)) / span_x
            uy = 0.5 if len(comp) == 1 else 0.1 + 0.8 * (py - min(ys)) / span_y
            positions[node] = ((off_x + (bx + ux * bw) * scale) / aspect, off_y + (by + uy * bh) * scale)
    return positions


def degree_svg(stats: dict[str, Any], width: int = 480, height: int = 220) -> str:
    """Returns an inline SVG bar chart of the degree distribution (log-scaled counts)."""
    rows = stats["degree"]["distribution"][:40]
    parts = [f'<svg id="degree-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="degree distribution">']
    if rows:
        top = max(math.log10(r["nodes"] + 1) for r in rows)
        bar = (width - 60) / len(rows)
        for i, r in enumerate(rows):
            bh = (height - 50) * math.log10(r["nodes"] + 1) / top
            x = 40 + i * bar
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{height - 30 - bh:.1f}" width="{max(bar - 2, 1):.1f}" '
                         f'height="{bh:.1f}" fill="#4e79a7"><title>degree {r["degree"]}: {r["nodes"]} nodes</title></rect>')
            if len(rows) <= 20 or i % 5 == 0:
                parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 14}" font-size="11" text-anchor="middle">'
                             f'{r["degree"]}</text>')
        parts.append('<text x="8" y="16" font-size="11" fill="#666">nodes (log scale) by degree</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(table_id: str, headers: list[str], rows: list[list[Any]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _dead_letters(output_dir: Path, limit: int = 20) -> list[list[Any]]:
    """Dead letters grouped by (stage, reason), most frequent first: [stage, reason, count, first input_ref]."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for path in sorted((output_dir / "dead_letter").rglob("*.jsonl")) if (output_dir / "dead_letter").is_dir() else []:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                reason = re.sub(r"\d+", "N", str(record.get("error", "")))[:160]  # One row per kind of error.
                group = groups.setdefault((record.get("stage", ""), reason), [0, record.get("input_ref", "")])
                group[0] += 1
    rows = sorted(groups.items(), key=lambda item: (-item[1][0], item[0]))
    return [[stage, reason, count, ref] for (stage, reason), (count, ref) in rows[:limit]]


def _runs_section(output_dir: Path) -> list[str]:
    """Per run: rows written, dead letters by stage and throughput, from the manifests."""
    rows = []
    for record in manifest.read_manifests(output_dir):
        written = record.get("rows") or record.get("counts", {})
        throughput = record.get("throughput") or {}
        dead = record.get("dead_letters") or {}
        rows.append([record["run_id"], written.get("documents", 0), written.get("mentions", 0),
                     written.get("triples", 0), sum(dead.values()) if dead else written.get("dead_letters", 0),
                     ", ".join(f"{k} {v}" for k, v in sorted(dead.items())) or "-", record.get("seconds", "-"),
                     throughput.get("documents_per_second", "-"), throughput.get("ner_chars_per_second", "-")])
    dead_rows = _dead_letters(output_dir)
    return [
        "<h2>Runs: rows, dead letters and throughput</h2>",
        _html_table("runs", ["run", "documents", "mentions", "triples", "dead letters", "by stage", "seconds",
                             "documents/s", "NER chars/s"], rows, {1, 2, 3, 4, 6, 7, 8}),
        "<h2>Dead letters</h2>",
        _html_table("dead-letters", ["stage", "reason", "records", "first record"], dead_rows, {2})
        if dead_rows else '<p class="meta">None: every input record became a document.</p>',
    ]


def render_report(output_dir: str | Path, config: ReportConfig | None = None) -> str:
    """Returns the HTML report of a run directory."""
    config = config or ReportConfig()
    stats_config = GraphStatsConfig(top=config.top, run_id=config.run_id)
    table, entity_graph = load(output_dir, stats_config)
    stats = summarize(output_dir, table, entity_graph, stats_config)
    eg, deg = stats["entity_graph"], stats["degree"]
    cards = [("triples", stats["triples"]), ("entities", eg["nodes"]), ("entity edges", eg["edges"]),
             ("components", eg["components"]), ("largest component", (eg["largest_components"] or [0])[0]),
             ("mean degree", f"{deg['mean']:.2f}"), ("runs", len(stats["runs"]))]
    core = core_nodes(entity_graph, config.core_size) if len(entity_graph.graph) else []
    present = sorted({short_name(t) for n in core for t in entity_graph.types.get(n, []) if short_name(t) in _CLASS_COLORS})
    legend = "".join(f'<span><i style="background:{_CLASS_COLORS[t]}"></i>{_e(t)}</span>' for t in present)
    legend += "".join(f'<span><i style="background:{c};border-radius:0;height:3px"></i>{_e(r)}</span>'
                      for r, c in _RELATION_COLORS.items())
    top_rows = [[i + 1, r["label"], ", ".join(r["types"]), f"{r['pagerank']:.4f}", r["degree"], r["mentions"], r["iri"]]
                for i, r in enumerate(stats["pagerank_top"][: config.top])]
    sections = [
        "<h2>Graph core</h2>",
        f'<p class="meta">The top entities by PageRank, their strongest links and the edges among them '
        f'({min(config.core_size, eg["nodes"])} entities). Node size: PageRank; edge width: weight '
        "(co-occurring sentences); dashed: brand.</p>",
        f'<div class="legend">{legend}</div>', core_svg(entity_graph, config),
        "<h2>Top entities by PageRank</h2>",
        _html_table("pagerank-top", ["#", "entity", "types", "PageRank", "degree", "mentions", "IRI"], top_rows, {0, 3, 4, 5}),
        '<div class="grid"><div><h2>Nodes by type</h2>',
        _html_table("nodes-by-type", ["type", "nodes"], [[r["name"], r["count"]] for r in stats["nodes_by_type"]], {1}),
        "</div><div><h2>Edges by predicate</h2>",
        _html_table("edges-by-predicate", ["predicate", "statements"],
                    [[r["name"], r["count"]] for r in stats["edges_by_predicate"]], {1}),
        "</div></div>",
        '<div class="grid"><div><h2>Entity graph</h2>',
        _html_table("entity-graph", ["measure", "value"], [
            ["nodes", eg["nodes"]], ["edges", eg["edges"]], ["connected components", eg["components"]],
            ["largest components", ", ".join(map(str, eg["largest_components"])) or "-"],
            ["isolated nodes", eg["isolated_nodes"]], ["density", f"{eg['density']:.5f}"],
            *[[f"edges: {r['name']}", r["count"]] for r in eg["edges_by_relation"]]], {1}),
        "</div><div><h2>Degree distribution</h2>", degree_svg(stats),
        _html_table("degree-distribution", ["degree", "nodes"],
                    [[r["degree"], r["nodes"]] for r in deg["distribution"][:30]], {0, 1}),
        "</div></div>",
        "<h2>Attributes by predicate</h2>",
        _html_table("attributes-by-predicate", ["predicate", "statements"],
                    [[r["name"], r["count"]] for r in stats["attributes_by_predicate"]], {1}),
    ]
    products = product_svg(table, config.width)
    if products:  # After the graph core: brand -> product -> category of product titles.
        sections[4:4] = ["<h2>Products: brand → product → category</h2>",
                         '<p class="meta">Product titles: brand (dashed) → product (its model, else its title) → '
                         "category (· its top-level type).</p>", products]
    sections += _runs_section(Path(output_dir))
    card_html = "".join(f'<div class="card"><b>{_e(f"{v:,}" if isinstance(v, int) else v)}</b><span>{_e(k)}</span></div>'
                        for k, v in cards)
    return ("<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">"
            f"<title>kgpipe report: {_e(Path(output_dir).name)}</title><style>{_CSS}</style></head><body>"
            f"<h1>Knowledge graph report</h1><p class=\"meta\">{_e(output_dir)} — runs: "
            f"{_e(', '.join(stats['runs']) or '-')}</p><div class=\"cards\">{card_html}</div>"
            + "".join(sections) + "</body></html>\n")


def write_report(output_dir: str | Path, path: str | Path | None = None, config: ReportConfig | None = None) -> Path:
    """Writes the report (default ``DIR/report.html``); returns its path."""
    target = Path(path) if path else Path(output_dir) / "report.html"
    target.write_text(render_report(output_dir, config), "utf-8")
    return target

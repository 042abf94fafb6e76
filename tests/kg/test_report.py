"""Tests for kg.report: the HTML has the drawing and tables, and renders in headless Chromium."""

import re
import shutil
import subprocess

import pytest

from kgpipe.kg.report import ReportConfig, layout, render_report, write_report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TABLES = ["pagerank-top", "nodes-by-type", "edges-by-predicate", "entity-graph", "degree-distribution"]


def test_html_has_graph_drawing_and_tables(sample_run_dir):
    page = render_report(sample_run_dir)
    core = re.search(r'<svg id="graph-core".*?</svg>', page, re.S).group()
    assert core.count("<circle") == 11 and core.count('class="edge"') == 13
    assert "马云" in core and "充电宝" in core and 'stroke-dasharray' in core  # brand edges are dashed
    for table in TABLES:
        assert f'<table id="{table}">' in page
    assert '<meta charset="utf-8">' in page and "<script" not in page and "http://" not in page.split("<body>")[0]


def test_report_is_deterministic_and_escapes_text(sample_run_dir):
    assert render_report(sample_run_dir) == render_report(sample_run_dir)
    page = render_report(sample_run_dir, ReportConfig(core_size=3, top=2))
    assert re.search(r'<svg id="graph-core".*?</svg>', page, re.S).group().count("<circle") == 3
    assert page.count("<tr>", page.index('id="pagerank-top"'), page.index('id="nodes-by-type"')) == 3


def test_layout_keeps_components_apart_and_inside_the_frame():
    import networkx as nx

    g = nx.Graph([("a", "b"), ("b", "c"), ("x", "y")])
    g.add_node("alone")
    pos = layout(g)
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in pos.values())
    assert len({tuple(round(v, 3) for v in p) for p in pos.values()}) == len(g)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(sample_run_dir, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    html = write_report(sample_run_dir, tmp_path / "report.html")
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, "--window-size=1200,1400", f"--screenshot={shot}", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = subprocess.run([browser, *flags, "--dump-dom", html.as_uri()], check=True, capture_output=True,
                         timeout=120, text=True).stdout
    assert dom.count("<circle") == 11 and all(f'id="{t}"' in dom for t in TABLES)
    image = pytest.importorskip("PIL.Image").open(shot).convert("RGB")
    assert image.size == (1200, 1400)
    colours = {c for _, c in image.getcolors(1 << 20)}
    # Node fills drawn in the picture: Person blue, Brand red, Product teal.
    for hex_colour in ("#4e79a7", "#e15759", "#76b7b2"):
        rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, hex_colour

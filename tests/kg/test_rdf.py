"""Tests for kg.export.rdf: lines that hostile text cannot break, sharded writers."""

import gzip

import pyoxigraph
import pytest
import rdflib
from rdflib.compare import isomorphic

from kgpipe.kg.export import rdf
from kgpipe.schemas.records import TermKind, Triple

S, P = "http://example.org/s", "http://example.org/p"
HOSTILE = [
    "line\nbreak", "cr\rlf\r\n", 'quote " here', "back\\slash\\", "a > b <c>", "tab\tand\x00nul\x1f\x7f",
    "lone \ud800 surrogate \udfff", "\u2028line sep\u2029para\x85nel", "\\u0041 not an escape", '"""',
    "ends with backslash \\", "中文\n英文", "\U0001F600 emoji", "",
]


def _parse(text: str, fmt=pyoxigraph.RdfFormat.N_TRIPLES):
    return list(pyoxigraph.parse(text, fmt))


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_literal_is_one_valid_line(text):
    line = rdf.ntriples_line(Triple(S, P, text, TermKind.LITERAL))
    assert line.endswith(" .\n")
    assert len(line.splitlines()) == 1  # splitlines also splits on U+2028, U+0085, \x1c...
    (quad,) = _parse(line)
    assert quad.object.value == text.replace("\ud800", "\ufffd").replace("\udfff", "\ufffd")


def test_ntriples_columns_are_the_lines_of_each_triple():
    triples = [Triple(S, P, text, TermKind.LITERAL, language="zh" if i % 3 == 1 else None,
                      datatype="http://www.w3.org/2001/XMLSchema#token" if i % 3 == 2 else None)
               for i, text in enumerate(HOSTILE)]
    triples += [Triple(S + "/" + text, P, "http://example.org/o " + text, TermKind.IRI) for text in HOSTILE]
    columns = {name: [getattr(t, name) for t in triples] for name in Triple.__dataclass_fields__}
    assert rdf.ntriples_columns(columns) == "".join(map(rdf.ntriples_line, triples))
    columns["object_kind"] = [kind.value for kind in columns["object_kind"]]  # Plain strings read back from Parquet.
    assert rdf.ntriples_columns(columns) == "".join(map(rdf.ntriples_line, triples))
    assert rdf.ntriples_columns({k: [] for k in columns}) == ""


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_in_iris_and_language_literals(text):
    t = Triple(S + "/" + text, P, S + "?" + text + "#x#" + text, TermKind.IRI)
    (quad,) = _parse(rdf.ntriples_line(t))
    assert quad.subject.value.startswith(S + "/")
    lit = Triple(S, P, text, TermKind.LITERAL, language="zh")
    (quad,) = _parse(rdf.ntriples_line(lit))
    assert quad.object.language == "zh"


def test_typed_literals_and_nquads():
    t = Triple(S, P, "0.5", TermKind.LITERAL, datatype="http://www.w3.org/2001/XMLSchema#double")
    assert rdf.ntriples_line(t) == f'<{S}> <{P}> "0.5"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
    plain = Triple(S, P, "x", TermKind.LITERAL, datatype=rdf.XSD_STRING)
    assert rdf.ntriples_line(plain) == f'<{S}> <{P}> "x" .\n'  # canonical: xsd:string implied
    graph = rdf.run_graph_iri("https://example.org/kg/", "run-1")
    assert graph == "https://example.org/kg/graph/run-1"
    (quad,) = _parse(rdf.nquads_line(t, graph), pyoxigraph.RdfFormat.N_QUADS)
    assert quad.graph_name.value == graph


def test_invalid_terms_raise_readably():
    with pytest.raises(ValueError, match="absolute"):
        rdf.ntriples_line(Triple("relative", P, "x", TermKind.LITERAL))
    with pytest.raises(ValueError, match="language tag"):
        rdf.ntriples_line(Triple(S, P, "x", TermKind.LITERAL, language="no tag!"))
    with pytest.raises(ValueError, match="base_iri"):
        rdf.run_graph_iri("https://example.org/kg", "run-1")


def test_format_double():
    assert [rdf.format_double(x) for x in (0.25, float("nan"), float("inf"), -float("inf"), 1e-9)] == \
        ["0.25", "NaN", "INF", "-INF", "1e-09"]
    assert rdf.format_double(0.9400000000000001) == "0.94" and rdf.format_double(1) == "1.0"
    assert rdf.format_double(0.123456789) == "0.123457"


def test_lines_match_rdflib_graph():
    triples = [Triple(S, P, text, TermKind.LITERAL) for text in HOSTILE if "\ud800" not in text] + [
        Triple(S, P, "http://example.org/o", TermKind.IRI),
        Triple(S, P, "马云", TermKind.LITERAL, language="zh"),
        Triple(S, P, "3", TermKind.LITERAL, datatype="http://www.w3.org/2001/XMLSchema#integer"),
    ]
    ours = rdflib.Graph().parse(data="".join(map(rdf.ntriples_line, triples)), format="nt")
    expected = rdflib.Graph()
    for t in triples:
        obj = rdflib.URIRef(t.object) if t.object_kind is TermKind.IRI else rdflib.Literal(
            t.object, lang=t.language, datatype=rdflib.URIRef(t.datatype) if t.datatype else None)
        expected.add((rdflib.URIRef(t.subject), rdflib.URIRef(t.predicate), obj))
    assert isomorphic(ours, expected)


@pytest.mark.parametrize("compress", [False, True])
def test_shard_writer_streams_shards(tmp_path, compress):
    triples = [Triple(S, P, f"value {i}\n", TermKind.LITERAL) for i in range(25)]
    with rdf.ShardWriter(tmp_path, shard_size=10, compress=compress) as writer:
        assert writer.write_all(triples) == 25
    suffix = ".nt.gz" if compress else ".nt"
    assert [p.name for p in sorted(tmp_path.iterdir())] == [f"part-0000{i}{suffix}" for i in range(3)]
    values = []
    for path in sorted(tmp_path.iterdir()):
        data = gzip.decompress(path.read_bytes()) if compress else path.read_bytes()
        values += [q.object.value for q in _parse(data)]
    assert values == [t.object for t in triples]


def test_shard_writer_gzip_is_deterministic(tmp_path):
    triples = [Triple(S, P, "x", TermKind.LITERAL)]
    for name in ("a", "b"):
        with rdf.ShardWriter(tmp_path / name, compress=True) as writer:
            writer.write_all(triples)
    assert (tmp_path / "a/part-00000.nt.gz").read_bytes() == (tmp_path / "b/part-00000.nt.gz").read_bytes()


def test_shard_writer_nquads_and_discard_on_error(tmp_path):
    graph = "https://example.org/kg/graph/r"
    with rdf.ShardWriter(tmp_path / "q", graph=graph) as writer:
        writer.write(Triple(S, P, "x", TermKind.LITERAL))
    (quad,) = _parse((tmp_path / "q/part-00000.nq").read_bytes(), pyoxigraph.RdfFormat.N_QUADS)
    assert quad.graph_name.value == graph
    with pytest.raises(ValueError):
        with rdf.ShardWriter(tmp_path / "bad") as writer:
            writer.write_all([Triple(S, P, "x", TermKind.LITERAL), Triple("bad", P, "x", TermKind.LITERAL)])
    assert list((tmp_path / "bad").iterdir()) == []  # no half-written shard left behind


def _random_text(rng, length):
    pools = [(0x00, 0x20), (0x20, 0x7F), (0x7F, 0xA0), (0x2028, 0x202A), (0x4E00, 0x9FFF), (0xD800, 0xE000),
             (0xE000, 0xF900), (0xFDD0, 0xFDF0), (0xFFF0, 0x10000), (0x1F600, 0x1F650), (0x10FFF0, 0x110000)]
    return "".join(chr(rng.randrange(*rng.choice(pools))) for _ in range(length))


def test_random_hostile_strings_always_give_one_strict_line():
    import random

    rng = random.Random(1234)
    lines = []
    for _ in range(400):
        text = _random_text(rng, rng.randrange(0, 40))
        lines.append(rdf.ntriples_line(Triple(S, P, text, TermKind.LITERAL)))
        lines.append(rdf.ntriples_line(Triple(S + "/" + text, P, S + "#" + text, TermKind.IRI)))
        lines.append(rdf.nquads_line(Triple(S, P, text, TermKind.LITERAL, language="zh-Hans"), S + "?g=" + text))
    assert all(len(line.splitlines()) == 1 and line.endswith(" .\n") for line in lines)
    data = "".join(lines).encode("utf-8")  # would raise on a lone surrogate
    assert len(list(pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_QUADS))) == len(lines)

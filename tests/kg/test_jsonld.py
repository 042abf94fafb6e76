"""JSON-LD export keeps xsd:double scores typed (a JSON-LD reader takes a bare ``1.0`` for an integer)."""

import dataclasses
import json

import rdflib
from rdflib.compare import isomorphic

from kgpipe.kg.builder import BuilderConfig
from kgpipe.kg.export.convert import ExportConfig, ExportFormat, export
from kgpipe.kg.local import write_run
from tests.kg import sample


def _floats(node, path="$"):
    if isinstance(node, float):
        yield path
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _floats(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _floats(value, f"{path}.{key}")


def test_scores_of_one_stay_typed_doubles(tmp_path):
    annotations = sample.mentions_and_links()
    mentions, links = annotations["news-1"]
    annotations["news-1"] = ([dataclasses.replace(mentions[0], score=1.0), *mentions[1:]], links)
    out = tmp_path / "run"
    write_run(out, BuilderConfig("run-jsonld", extractor=sample.EXTRACTOR), sample.DOCUMENTS, annotations,
              sample.ENTITIES)
    target = tmp_path / "g.jsonld"
    export(out, target, ExportConfig(format=ExportFormat.JSONLD))
    document = json.loads(target.read_text("utf-8"))
    assert list(_floats(document)) == []  # No bare JSON numbers that a reader could take for integers.
    assert '{"@value": "1.0", "@type": "xsd:double"}' in json.dumps(document, ensure_ascii=False)
    reference = rdflib.Graph()
    for path in (out / "rdf").glob("*.nt"):
        reference.parse(path, format="nt")
    assert isomorphic(rdflib.Graph().parse(target, format="json-ld"), reference)

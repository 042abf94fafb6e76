"""RDF (Turtle / N-Triples) -> Entity records.

Every subject with a name becomes an entity whose id is the subject IRI:

* name: ``skos:prefLabel``, ``schema:name`` or ``rdfs:label`` in the preferred
  language (then any language); other labels and ``skos:altLabel`` /
  ``schema:alternateName`` become aliases;
* description: ``schema:description`` or ``rdfs:comment``;
* types: ``rdf:type`` (local names, e.g. ``Organization``);
* prior: ``kgp:prior`` if given (a number in [0, 1]);
* every other literal or IRI object becomes an attribute keyed by the
  predicate's local name.

Subjects without any name (e.g. blank nodes for structured values) are not
entities and are skipped. N-Triples are streamed line by line, so an error
names its line; Turtle is parsed by rdflib in one go and its syntax errors
carry rdflib's line number.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterator, Sequence

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.plugins.parsers.ntriples import W3CNTriplesParser

from kgpipe.schemas.records import Entity

SCHEMA_HTTP = "http://schema.org/"
SCHEMA_HTTPS = "https://schema.org/"
_NAME = {str(SKOS.prefLabel), SCHEMA_HTTP + "name", SCHEMA_HTTPS + "name", str(RDFS.label)}
_ALIAS = {str(SKOS.altLabel), SCHEMA_HTTP + "alternateName", SCHEMA_HTTPS + "alternateName"}
_DESCRIPTION = {SCHEMA_HTTP + "description", SCHEMA_HTTPS + "description", str(RDFS.comment)}
_PRIOR = {"https://w3id.org/kgpipe/ontology#prior"}
_NAME_ORDER = [str(SKOS.prefLabel), SCHEMA_HTTP + "name", SCHEMA_HTTPS + "name", str(RDFS.label)]


class _Sink:
    """Collects triples with the line they came from."""

    def __init__(self) -> None:
        self.triples: list[tuple[int | None, object, object, object]] = []
        self.line: int | None = None

    def triple(self, subject, predicate, obj) -> None:
        self.triples.append((self.line, subject, predicate, obj))


def _read_ntriples(path: pathlib.Path, error: Callable[..., Exception]) -> list[tuple]:
    sink = _Sink()
    parser = W3CNTriplesParser(sink=sink)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            sink.line = number
            try:
                parser.parsestring(line)
            except Exception as failure:  # rdflib raises ParseError or ValueError
                raise error(path, number, f"invalid N-Triples statement ({failure})") from None
    return sink.triples


def _read_turtle(path: pathlib.Path, error: Callable[..., Exception]) -> list[tuple]:
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as failure:  # rdflib's BadSyntax carries a 0-based line number
        line = getattr(failure, "lines", None)
        raise error(path, line + 1 if isinstance(line, int) else None, f"invalid Turtle ({failure})") from None
    return [(None, *t) for t in sorted(graph, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))]


def iter_rdf(path: pathlib.Path, turtle: bool, languages: Sequence[str],
             error: Callable[..., Exception]) -> Iterator[tuple[int | None, Entity]]:
    """Yields ``(line of the subject's first triple, Entity)`` per named subject."""
    triples = _read_turtle(path, error) if turtle else _read_ntriples(path, error)
    by_subject: dict[str, list[tuple[str, object]]] = {}
    lines: dict[str, int | None] = {}
    for line, subject, predicate, obj in triples:
        by_subject.setdefault(str(subject), []).append((str(predicate), obj))
        lines.setdefault(str(subject), line)
    for subject, pairs in by_subject.items():
        entity = _entity(subject, pairs, languages, path, error)
        if entity is not None:
            yield lines.get(subject), entity


def _rank(literal: object, languages: Sequence[str]) -> int:
    language = (getattr(literal, "language", None) or "").lower()
    if language in languages:
        return languages.index(language)
    base = language.split("-", 1)[0]
    return len(languages) + (0 if base in languages or not language else 1)


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _entity(subject: str, pairs, languages, path, error) -> Entity | None:
    names = [(p, o) for p, o in pairs if p in _NAME and isinstance(o, Literal)]
    if not names:
        return None
    names.sort(key=lambda po: (_rank(po[1], languages), _NAME_ORDER.index(po[0]), str(po[1])))
    name = str(names[0][1])
    aliases = [str(o) for _, o in names[1:]]
    aliases += sorted((str(o) for p, o in pairs if p in _ALIAS and isinstance(o, Literal)),
                      key=lambda text: text)
    descriptions = sorted(((p, o) for p, o in pairs if p in _DESCRIPTION),
                          key=lambda po: (_rank(po[1], languages), str(po[1])))
    types = [_local(str(o)) for p, o in pairs if p == str(RDF.type) and isinstance(o, URIRef)]
    prior = 0.0
    attributes: dict[str, list[str]] = {}
    for predicate, obj in pairs:
        if predicate in _PRIOR:
            try:
                prior = float(obj)
            except (TypeError, ValueError):
                prior = -1.0
            if not 0.0 <= prior <= 1.0:
                raise error(path, None, f"subject {subject}: prior must be a number in [0, 1], "
                            f"got {str(obj)!r}", "kgp:prior")
        elif predicate not in _NAME | _ALIAS | _DESCRIPTION | {str(RDF.type)}:
            attributes.setdefault(_local(predicate), []).append(str(obj))
    return Entity(
        id=subject, name=name,
        aliases=tuple(dict.fromkeys(a for a in aliases if a != name)),
        types=tuple(dict.fromkeys(types)),
        description=str(descriptions[0][1]) if descriptions else "",
        prior=prior, attributes={k: tuple(v) for k, v in attributes.items()},
    )

"""A run's Parquet tables as property-graph tables: nodes and typed relationships (pyarrow).

The shared model behind the LadybugDB loader and the Neo4j CSV export:

- ``Entity`` nodes (KB and minted NIL entities): IRI, name, all labels, ontology
  types (``Person``, ``Brand``, ...), aliases, KB id, minted flag, description;
- ``Document`` nodes and ``Mention`` nodes (a span ``[start, end)`` in code points);
- ``IN_DOCUMENT`` (mention -> document) and ``REFERS_TO`` (mention -> entity);
- one relationship type per predicate linking two entities, named from the
  predicate's local name (``kgp:coOccursWith`` -> ``CO_OCCURS_WITH`` with the
  sentence count of the run, ``kgp:brand`` -> ``BRAND`` from product to brand;
  relations learned later, under any predicate, get their own type the same way).
  Each carries its predicate IRI, ``count`` (co-occurrence: sentences; others:
  supporting mentions, at least 1), the best ``confidence`` and its ``run_id``.

Entities are read from the triples (``rdf:type`` into the ontology's entity
classes); documents, mentions and links from their own tables.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re

import pyarrow as pa
import pyarrow.compute as pc

from kgpipe.kg import iri as iris
from kgpipe.kg.export.parquet import read_table
from kgpipe.kg.stores.runs import base_iri_of, run_manifests
from kgpipe.schemas import vocab
from kgpipe.schemas.records import Document, Link, Mention, Triple

_RDF, _RDFS, _SKOS, _SCHEMA = str(vocab.RDF), str(vocab.RDFS), str(vocab.SKOS), str(vocab.SCHEMA)
TYPE, LABEL = _RDF + "type", _RDFS + "label"
ENTITY_CLASSES = frozenset(vocab.NAMESPACE + name for name in
                           ("Entity", "Person", "Location", "Organization", "Brand", "Product",
                            "CreativeWork", "Event", "Position"))
_COOCCURS, _REFERS_TO = vocab.NAMESPACE + "coOccursWith", vocab.NAMESPACE + "refersTo"
_COUNT = vocab.NAMESPACE + "cooccurrenceCount"
_LITERAL_PROPERTIES = {vocab.NAMESPACE + "kbId": "kb_id", vocab.NAMESPACE + "minted": "minted",
                       _SKOS + "prefLabel": "pref_label", _SKOS + "altLabel": "aliases",
                       _SCHEMA + "description": "description"}

ENTITY_SCHEMA = pa.schema([("iri", pa.string()), ("name", pa.string()), ("labels", pa.list_(pa.string())),
                           ("types", pa.list_(pa.string())), ("aliases", pa.list_(pa.string())),
                           ("kb_id", pa.string()), ("minted", pa.bool_()), ("description", pa.string())])
DOCUMENT_SCHEMA = pa.schema([("iri", pa.string()), ("id", pa.string()), ("source", pa.string()),
                             ("language", pa.string()), ("title", pa.string()), ("text", pa.string()),
                             ("run_id", pa.string())])
MENTION_SCHEMA = pa.schema([("iri", pa.string()), ("doc_id", pa.string()), ("start_offset", pa.int32()),
                            ("end_offset", pa.int32()), ("text", pa.string()), ("label", pa.string()),
                            ("ner_score", pa.float64()), ("link_score", pa.float64()), ("run_id", pa.string())])
IN_DOCUMENT_SCHEMA = pa.schema([("from", pa.string()), ("to", pa.string())])
REFERS_TO_SCHEMA = pa.schema([("from", pa.string()), ("to", pa.string()), ("score", pa.float64())])
RELATION_SCHEMA = pa.schema([("from", pa.string()), ("to", pa.string()), ("predicate", pa.string()),
                             ("count", pa.int64()), ("confidence", pa.float64()), ("run_id", pa.string())])


@dataclasses.dataclass(frozen=True)
class GraphTables:
    """Node and relationship tables; relationship tables start with the ``from`` and ``to`` node IRIs.

    Attributes:
        entities: ``ENTITY_SCHEMA`` rows, one per entity IRI.
        documents: ``DOCUMENT_SCHEMA`` rows.
        mentions: ``MENTION_SCHEMA`` rows.
        in_document: Mention -> document.
        refers_to: Mention -> entity, with the link score.
        relations: ``{relationship type: RELATION_SCHEMA rows}``, entity -> entity.
    """

    entities: pa.Table
    documents: pa.Table
    mentions: pa.Table
    in_document: pa.Table
    refers_to: pa.Table
    relations: dict[str, pa.Table]

    def counts(self) -> dict[str, int]:
        """Rows per node label and relationship type."""
        fixed = {"Entity": self.entities, "Document": self.documents, "Mention": self.mentions,
                 "IN_DOCUMENT": self.in_document, "REFERS_TO": self.refers_to}
        return {name: table.num_rows for name, table in {**fixed, **self.relations}.items()}


def relationship_type(predicate: str) -> str:
    """``UPPER_SNAKE`` relationship type from a predicate's local name (``coOccursWith`` -> ``CO_OCCURS_WITH``)."""
    local = re.split(r"[#/:]", predicate.rstrip("#/"))[-1]
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", local)
    name = re.sub(r"[^A-Za-z0-9]+", "_", snake).strip("_").upper()
    if not name or name[0].isdigit() or name in ("IN_DOCUMENT", "REFERS_TO"):
        name = "REL_" + (name or iris.encode_segment(local).replace("%", ""))
    return name


def _pairs(triples: pa.Table, predicate: str) -> pa.Table:
    """Distinct ``(subject, object)`` of one predicate."""
    rows = triples.filter(pc.equal(triples["predicate"], predicate)).select(["subject", "object"])
    return rows.group_by(["subject", "object"], use_threads=False).aggregate([])


def _entity_rows(triples: pa.Table) -> dict[str, dict]:
    typed = triples.filter(pc.and_(pc.equal(triples["predicate"], TYPE),
                                   pc.is_in(triples["object"], pa.array(sorted(ENTITY_CLASSES)))))
    entities: dict[str, dict] = {}
    for row in typed.select(["subject", "object"]).to_pylist():
        entity = entities.setdefault(row["subject"], {"iri": row["subject"], "labels": [], "types": [], "aliases": [],
                                                       "kb_id": None, "minted": False, "description": None,
                                                       "pref_label": None})
        kind = row["object"][len(vocab.NAMESPACE):]
        if kind not in entity["types"]:
            entity["types"].append(kind)
    for predicate, key in [(LABEL, "labels"), *_LITERAL_PROPERTIES.items()]:
        for row in _pairs(triples, predicate).to_pylist():
            entity = entities.get(row["subject"])
            if entity is None:
                continue
            if key in ("labels", "aliases"):
                entity[key].append(row["object"])
            else:
                entity[key] = row["object"] == "true" if key == "minted" else row["object"]
    return entities


def _entities_table(entities: dict[str, dict]) -> pa.Table:
    rows = []
    for entity in sorted(entities.values(), key=lambda e: e["iri"]):
        labels = sorted(set(entity["labels"]))
        name = entity["pref_label"] or (labels[0] if labels else None)
        rows.append({**{k: v for k, v in entity.items() if k != "pref_label"}, "name": name, "labels": labels,
                     "types": sorted(entity["types"]), "aliases": sorted(set(entity["aliases"]))})
    return pa.Table.from_pylist(rows, schema=ENTITY_SCHEMA)


def _cooccurrence_counts(triples: pa.Table) -> dict[tuple[str, str], int]:
    subjects = dict((r["subject"], r["object"]) for r in _pairs(triples, _RDF + "subject").to_pylist())
    objects = dict((r["subject"], r["object"]) for r in _pairs(triples, _RDF + "object").to_pylist())
    counts: dict[tuple[str, str], int] = {}
    for row in _pairs(triples, _COUNT).to_pylist():
        statement = row["subject"]
        if statement in subjects and statement in objects:
            key = (subjects[statement], objects[statement])
            counts[key] = counts.get(key, 0) + int(row["object"])
    return counts


def _relations(triples: pa.Table, entities: dict[str, dict], run_id: str) -> dict[str, list[dict]]:
    known = pa.array(sorted(entities))
    links = triples.filter(pc.and_(pc.and_(pc.equal(triples["object_kind"], "iri"),
                                           pc.not_equal(triples["predicate"], TYPE)),
                                   pc.and_(pc.is_in(triples["subject"], known), pc.is_in(triples["object"], known))))
    grouped = links.group_by(["subject", "predicate", "object"], use_threads=False).aggregate(
        [("doc_id", "count"), ("confidence", "max")])
    cooccurrence = _cooccurrence_counts(triples) if grouped.num_rows else {}
    out: dict[str, list[dict]] = {}
    for row in grouped.to_pylist():
        predicate, pair = row["predicate"], (row["subject"], row["object"])
        count = cooccurrence.get(pair, 1) if predicate == _COOCCURS else max(row["doc_id_count"], 1)
        out.setdefault(predicate, []).append({"from": pair[0], "to": pair[1], "predicate": predicate,
                                              "count": count, "confidence": row["confidence_max"], "run_id": run_id})
    return out


def _documents(output_dir: str | os.PathLike[str], run_id: str, base: str) -> list[dict]:
    rows = read_table(output_dir, Document, run_id).to_pylist()
    return [{"iri": iris.document_iri(base, r["id"]), "id": r["id"], "source": r["source"], "language": r["language"],
             "title": dict(r["metadata"] or ()).get("title"), "text": r["text"], "run_id": run_id} for r in rows]


def _mentions(output_dir: str | os.PathLike[str], run_id: str, base: str) -> list[dict]:
    document_iri = functools.lru_cache(maxsize=None)(lambda doc_id: iris.document_iri(base, doc_id))
    spans: dict[tuple[str, int, int], dict] = {}
    for kind in (Mention, Link):
        table = read_table(output_dir, kind, run_id, ["doc_id", "start", "end", "text", "label", "score"])
        for r in table.to_pylist():
            key = (r["doc_id"], r["start"], r["end"])
            row = spans.get(key)
            if row is None:  # iris.mention_iri, with the document's IRI encoded once per document.
                row = spans[key] = {"iri": f"{document_iri(key[0])}#char={key[1]},{key[2]}", "doc_id": key[0],
                                    "start_offset": key[1], "end_offset": key[2], "text": r["text"],
                                    "label": r["label"], "ner_score": None, "link_score": None, "run_id": run_id}
            row["ner_score" if kind is Mention else "link_score"] = r["score"]
    return [spans[key] for key in sorted(spans)]


def _unique(rows: list[dict], *keys: str) -> list[dict]:
    seen: dict[tuple, dict] = {}
    for row in rows:
        seen.setdefault(tuple(row[k] for k in keys), row)
    return list(seen.values())


def build_tables(output_dir: str | os.PathLike[str], run_id: str | None = None) -> GraphTables:
    """Reads ``DIR``'s runs (or ``run_id`` only) into property-graph tables.

    Raises:
        StoreError: If ``DIR`` has no such run.
    """
    entities: dict[str, dict] = {}
    documents, mentions, refers_to, in_document = [], [], [], []
    relations: dict[str, list[dict]] = {}
    for record in run_manifests(output_dir, run_id):
        rid, base = record["run_id"], base_iri_of(record)
        triples = read_table(output_dir, Triple, rid, ["subject", "predicate", "object", "object_kind",
                                                       "doc_id", "confidence"])
        run_entities = _entity_rows(triples)
        for iri, entity in run_entities.items():
            merged = entities.setdefault(iri, entity)
            if merged is not entity:
                for key in ("labels", "types", "aliases"):
                    merged[key] += [v for v in entity[key] if v not in merged[key]]
        for predicate, rows in _relations(triples, run_entities, rid).items():
            relations.setdefault(predicate, []).extend(rows)
        refers = triples.filter(pc.equal(triples["predicate"], _REFERS_TO))
        refers = refers.group_by(["subject", "object"], use_threads=False).aggregate([("confidence", "max")])
        refers_to += [{"from": r["subject"], "to": r["object"], "score": r["confidence_max"]} for r in refers.to_pylist()]
        documents += _documents(output_dir, rid, base)
        run_mentions = _mentions(output_dir, rid, base)
        mentions += run_mentions
        in_document += [{"from": m["iri"], "to": m["iri"].rpartition("#char=")[0]} for m in run_mentions]
    return _tables(entities, documents, mentions, in_document, refers_to, relations)


def _tables(entities, documents, mentions, in_document, refers_to, relations) -> GraphTables:
    names: dict[str, str] = {}
    for predicate in sorted(relations):  # Two predicates with one local name get distinct types.
        name = relationship_type(predicate)
        names[predicate] = name if name not in names.values() else f"{name}_{len(names)}"
    mention_iris = {m["iri"] for m in mentions}
    refers_to = [r for r in _unique(refers_to, "from", "to") if r["from"] in mention_iris and r["to"] in entities]
    return GraphTables(
        entities=_entities_table(entities),
        documents=pa.Table.from_pylist(_unique(documents, "iri"), schema=DOCUMENT_SCHEMA),
        mentions=pa.Table.from_pylist(_unique(mentions, "iri"), schema=MENTION_SCHEMA),
        in_document=pa.Table.from_pylist(_unique(in_document, "from", "to"), schema=IN_DOCUMENT_SCHEMA),
        refers_to=pa.Table.from_pylist(refers_to, schema=REFERS_TO_SCHEMA),
        relations={names[p]: pa.Table.from_pylist(rows, schema=RELATION_SCHEMA) for p, rows in sorted(relations.items())},
    )

"""Knowledge-base records and the loaders for every supported KB format.

Every loader streams its file and yields :class:`schemas.records.Entity`
records. A bad record raises :class:`KbError` naming the file, the line and
the field; :func:`load_entities` reads the whole file before returning, so a
caller either gets every entity or an error, never half a KB. Duplicate ids
are errors too (naming both lines).

Formats (:class:`KbFormat`):

* ``jsonl``: ``{"id","name","aliases":[],"types":[],"description","prior","attributes":{}}``
* ``csv`` / ``tsv``: a header with ``id`` and ``name`` columns; optional
  ``aliases``, ``types`` (``|``-separated), ``description``, ``prior``; every
  other non-empty column becomes an attribute.
* ``turtle`` / ``ntriples``: see :mod:`linking.kb_rdf`.
* ``ccks``: CCKS 2019 entity-linking ``kb_data`` lines.
* ``wikidata``: Wikidata JSON dump lines, see :mod:`linking.kb_wikidata`.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import pathlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kgpipe.schemas.records import Entity

LIST_SEPARATOR = "|"
DEFAULT_LANGUAGES = ("zh", "zh-hans", "zh-cn", "zh-hant", "en")


class KbFormat(str, enum.Enum):
    """Supported KB file formats."""

    JSONL = "jsonl"
    CSV = "csv"
    TSV = "tsv"
    TURTLE = "turtle"
    NTRIPLES = "ntriples"
    CCKS = "ccks"
    WIKIDATA = "wikidata"


_EXTENSIONS = {
    ".jsonl": KbFormat.JSONL, ".ndjson": KbFormat.JSONL, ".csv": KbFormat.CSV,
    ".tsv": KbFormat.TSV, ".tab": KbFormat.TSV, ".ttl": KbFormat.TURTLE,
    ".turtle": KbFormat.TURTLE, ".nt": KbFormat.NTRIPLES, ".ntriples": KbFormat.NTRIPLES,
}


class KbError(ValueError):
    """A KB file that cannot be loaded; the message names file, line and field."""

    def __init__(self, path: str | pathlib.Path, line: int | None, message: str,
                 field: str | None = None) -> None:
        where = f"{path}" + (f":{line}" if line is not None else "")
        what = f" field {field!r}:" if field else ""
        super().__init__(f"{where}:{what} {message}")
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message


def infer_format(path: str | pathlib.Path) -> KbFormat:
    """Guesses the format of a KB file from its extension, else from its first line.

    Raises:
        KbError: If neither the extension nor the content says.
    """
    path = pathlib.Path(path)
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2")]
    if suffixes and suffixes[-1] in _EXTENSIONS:
        found = _EXTENSIONS[suffixes[-1]]
        if found is KbFormat.JSONL:
            return _sniff_json(path) or found
        return found
    if suffixes and suffixes[-1] == ".json":
        sniffed = _sniff_json(path)
        if sniffed:
            return sniffed
    raise KbError(path, None, f"cannot infer the KB format from the name; pass a format, one of "
                  f"{[f.value for f in KbFormat]}")


def _sniff_json(path: pathlib.Path) -> KbFormat | None:
    """Tells our JSONL, CCKS and Wikidata dump lines apart by their keys."""
    with _open_text(path) as handle:
        for line in handle:
            line = line.strip().rstrip(",")
            if line in ("", "["):
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                return None
            if not isinstance(record, dict):
                return None
            if "subject_id" in record:
                return KbFormat.CCKS
            if "labels" in record and "id" in record:
                return KbFormat.WIKIDATA
            return KbFormat.JSONL
    return None


def _open_text(path: pathlib.Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        import gzip
        return gzip.open(path, "rt", encoding="utf-8")
    if path.suffix == ".bz2":
        import bz2
        return bz2.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8", newline="")


def iter_entities(path: str | pathlib.Path, kb_format: KbFormat | str | None = None,
                  languages: Sequence[str] = DEFAULT_LANGUAGES) -> Iterator[Entity]:
    """Streams the entities of a KB file, raising on a bad record or a duplicate id.

    Args:
        path: The KB file (``.gz`` / ``.bz2`` accepted for line formats).
        kb_format: A :class:`KbFormat` (or its value); ``None`` infers it.
        languages: Preferred languages, best first, for formats with
            language-tagged labels (RDF, Wikidata).

    Raises:
        KbError: On the first bad record or repeated id, naming file, line and field.
    """
    seen: dict[str, int | None] = {}
    for line, entity in iter_located(path, kb_format, languages):
        if entity.id in seen:
            first = seen[entity.id]
            raise KbError(path, line, f"duplicate entity id {entity.id!r}"
                          + (f" (first on line {first})" if first is not None else ""), field="id")
        seen[entity.id] = line
        yield entity


def load_entities(path: str | pathlib.Path, kb_format: KbFormat | str | None = None,
                  languages: Sequence[str] = DEFAULT_LANGUAGES) -> list[Entity]:
    """Loads a whole KB file, or raises: a caller never gets half a KB.

    Returns:
        Every entity, in file order.

    Raises:
        KbError: On a bad record or a duplicate id (both lines named).
    """
    return list(iter_entities(path, kb_format, languages))


def iter_located(path: str | pathlib.Path, kb_format: KbFormat | str | None = None,
                 languages: Sequence[str] = DEFAULT_LANGUAGES) -> Iterator[tuple[int | None, Entity]]:
    """Streams ``(line number, entity)`` without the duplicate check (line is None for Turtle)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise KbError(path, None, "no such KB file")
    fmt = infer_format(path) if kb_format is None else _as_format(kb_format)
    if fmt is KbFormat.JSONL:
        yield from _iter_jsonl(path)
    elif fmt in (KbFormat.CSV, KbFormat.TSV):
        yield from _iter_delimited(path, "\t" if fmt is KbFormat.TSV else ",")
    elif fmt is KbFormat.CCKS:
        yield from _iter_ccks(path)
    elif fmt is KbFormat.WIKIDATA:
        from kgpipe.linking import kb_wikidata
        yield from kb_wikidata.iter_wikidata(path, languages, _open_text, KbError)
    else:
        from kgpipe.linking import kb_rdf
        yield from kb_rdf.iter_rdf(path, fmt is KbFormat.TURTLE, languages, KbError)


def _as_format(kb_format: KbFormat | str) -> KbFormat:
    try:
        return KbFormat(kb_format)
    except ValueError:
        raise ValueError(f"`kb_format` must be one of {[f.value for f in KbFormat]}. "
                         f"Received: kb_format={kb_format!r}") from None


# ---------------------------------------------------------------- field checks


def _string(value: Any, path, line, field, required=False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise KbError(path, line, f"expected a{' non-empty' if required else ''} string, "
                      f"got {value!r}", field)
    return value.strip()


def _string_list(value: Any, path, line, field) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KbError(path, line, f"expected a list of strings, got {value!r}", field)
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _prior(value: Any, path, line, field="prior") -> float:
    if value is None or value == "":
        return 0.0
    try:
        prior = float(value)
    except (TypeError, ValueError):
        raise KbError(path, line, f"expected a number in [0, 1], got {value!r}", field) from None
    if isinstance(value, bool) or not 0.0 <= prior <= 1.0:
        raise KbError(path, line, f"expected a number in [0, 1], got {value!r}", field)
    return prior


def _attributes(value: Any, path, line, field="attributes") -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise KbError(path, line, f"expected an object of predicate -> values, got {value!r}", field)
    out: dict[str, tuple[str, ...]] = {}
    for key, values in value.items():
        if isinstance(values, (int, float)) and not isinstance(values, bool):
            values = str(values)
        out[str(key)] = _string_list(values, path, line, f"{field}.{key}")
    return out


def make_entity(record: Mapping[str, Any], path, line) -> Entity:
    """Builds an Entity from a JSONL-style dict, checking every field."""
    unknown = set(record) - {"id", "name", "aliases", "types", "description", "prior", "attributes"}
    if unknown:
        raise KbError(path, line, f"unknown fields {sorted(unknown)}", sorted(unknown)[0])
    entity_id = record.get("id")
    if isinstance(entity_id, int) and not isinstance(entity_id, bool):
        entity_id = str(entity_id)
    return Entity(
        id=_string(entity_id, path, line, "id", required=True),
        name=_string(record.get("name"), path, line, "name", required=True),
        aliases=_string_list(record.get("aliases"), path, line, "aliases"),
        types=_string_list(record.get("types"), path, line, "types"),
        description=_string(record.get("description"), path, line, "description"),
        prior=_prior(record.get("prior"), path, line),
        attributes=_attributes(record.get("attributes"), path, line),
    )


# ---------------------------------------------------------------- formats


def _iter_json_lines(path: pathlib.Path) -> Iterator[tuple[int, dict]]:
    """Yields ``(line number, object)``; tolerates dump framing (``[``, ``]``, trailing commas)."""
    from kgpipe.linking.kb_wikidata import iter_json_objects

    yield from iter_json_objects(path, _open_text, KbError)


def _iter_jsonl(path: pathlib.Path) -> Iterator[tuple[int, Entity]]:
    for number, record in _iter_json_lines(path):
        yield number, make_entity(record, path, number)


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(LIST_SEPARATOR) if v.strip()]


def _iter_delimited(path: pathlib.Path, delimiter: str) -> Iterator[tuple[int, Entity]]:
    with _open_text(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise KbError(path, 1, "empty file; expected a header with id and name columns")
        header = [h.strip().lstrip("\ufeff").lower() for h in header]
        missing = [c for c in ("id", "name") if c not in header]
        if missing:
            raise KbError(path, 1, f"header lacks required columns {missing}; got {header}", missing[0])
        known = {"id", "name", "aliases", "types", "description", "prior"}
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise KbError(path, number, f"expected {len(header)} columns, got {len(row)}")
            cells = dict(zip(header, row))
            attributes = {k: _split(v) for k, v in cells.items() if k not in known and v.strip()}
            yield number, make_entity({
                "id": cells["id"], "name": cells["name"],
                "aliases": _split(cells.get("aliases")), "types": _split(cells.get("types")),
                "description": cells.get("description", ""), "prior": cells.get("prior", ""),
                "attributes": attributes,
            }, path, number)


_CCKS_DESCRIPTION_PREDICATES = ("义项描述", "摘要")
_CCKS_FIELDS = {"id": "subject_id", "name": "subject", "aliases": "alias", "types": "type"}


def _iter_ccks(path: pathlib.Path) -> Iterator[tuple[int, Entity]]:
    """CCKS 2019 kb_data: ``alias, subject_id, subject, type, data[{predicate, object}]``."""
    for number, record in _iter_json_lines(path):
        data = record.get("data", [])
        if not isinstance(data, list):
            raise KbError(path, number, f"expected a list of predicate/object pairs, got {data!r}", "data")
        attributes: dict[str, list[str]] = {}
        for pair in data:
            if not (isinstance(pair, dict) and isinstance(pair.get("predicate"), str)
                    and isinstance(pair.get("object"), str)):
                raise KbError(path, number, f"expected {{'predicate': str, 'object': str}}, got {pair!r}", "data")
            attributes.setdefault(pair["predicate"], []).append(pair["object"])
        description = " ".join(
            v for p in _CCKS_DESCRIPTION_PREDICATES for v in attributes.pop(p, [])
        )
        try:
            yield number, make_entity({
                "id": record.get("subject_id"), "name": record.get("subject"),
                "aliases": record.get("alias"), "types": record.get("type"),
                "description": description, "attributes": attributes,
            }, path, number)
        except KbError as failure:  # name the CCKS field, not ours
            field = _CCKS_FIELDS.get(failure.field or "", failure.field)
            raise KbError(path, number, failure.reason, field) from None


def names_by_type(path: str | pathlib.Path, types: Mapping[str, Sequence[str]],
                  kb_format: KbFormat | str | None = None,
                  languages: Sequence[str] = DEFAULT_LANGUAGES) -> dict[str, list[str]]:
    """Names and aliases of the KB's entities by group of types, e.g. for NER gazetteer features.

    Args:
        path: A KB file (any :class:`KbFormat`) or an index directory from ``kgpipe kb build``.
        types: Group name -> entity types; an entity of any of them gives its name and aliases to
            the group (``{"BRAND": ["Brand"], "PRODUCT": ["Product"]}``).

    Returns:
        Group -> its distinct names in KB order (every group of ``types``, possibly empty).
    """
    wanted = {group: frozenset(group_types) for group, group_types in types.items()}
    out: dict[str, dict[str, None]] = {group: {} for group in wanted}
    path = pathlib.Path(path)
    if path.is_dir():
        from kgpipe.linking.index import AliasIndex

        index = AliasIndex.open(path)
        every = frozenset().union(*wanted.values())
        entities = (index.entity(i) for i in range(index.size)  # types first: full records are dear
                    if every.intersection(index.entity_types(i)))
    else:
        entities = iter_entities(path, kb_format, languages)
    for entity in entities:
        for group, group_types in wanted.items():
            if group_types.intersection(entity.types):
                out[group].update(dict.fromkeys((entity.name, *entity.aliases)))
    return {group: list(names) for group, names in out.items()}

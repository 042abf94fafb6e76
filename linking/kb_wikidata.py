"""Wikidata JSON dump lines -> Entity records.

A dump (``latest-all.json.gz``) is one JSON array with one entity per line;
this reader takes those lines (framing ``[``/``]`` and trailing commas are
skipped), picks labels, aliases and descriptions in the preferred languages,
maps ``P31`` (instance of) to type names, and turns the number of sitelinks
into a popularity prior. Properties and lexemes are skipped.
"""

from __future__ import annotations

import json
import math
import pathlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kgpipe.schemas.records import Entity

# P31 classes -> type names that ``schemas.vocab.class_for_kb_type`` knows.
# Other classes are kept as their QID.
TYPE_NAMES = {
    "Q5": "Human", "Q6256": "Country", "Q3624078": "Country", "Q7275": "Country",
    "Q515": "City", "Q1549591": "City", "Q1637706": "City", "Q1093829": "City",
    "Q1615742": "Province", "Q107390": "Region", "Q10864048": "Region", "Q15284": "District",
    "Q82794": "Region", "Q34442": "Place", "Q23397": "Place", "Q8502": "Place",
    "Q4830453": "Organization", "Q891723": "Organization", "Q783794": "Organization",
    "Q6881511": "Organization", "Q43229": "Organization", "Q3918": "Organization",
    "Q327333": "Organization", "Q2085381": "Organization", "Q163740": "Organization",
    "Q431289": "Brand", "Q167270": "Brand", "Q2424752": "Product", "Q1420": "Product",
    "Q7397": "Product", "Q7889": "Game", "Q11424": "CreativeWork", "Q571": "CreativeWork",
    "Q482994": "CreativeWork", "Q1656682": "Event", "Q1190554": "Event",
}

_SITELINKS_FOR_FULL_PRIOR = 200


def iter_json_objects(path: pathlib.Path, open_text: Callable,
                      error: Callable[..., Exception]) -> Iterator[tuple[int, dict]]:
    """Yields ``(line, object)`` of JSON Lines, or of a dump array with one object per line.

    Framing lines (``[``, ``]``) and trailing commas are skipped; a line that is
    not a JSON object raises ``error(path, line, message)``.
    """
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if line.endswith(","):
                line = line[:-1]
            if not line or line in ("[", "]"):
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as failure:
                raise error(path, number, f"invalid JSON ({failure.msg} at column {failure.colno})") from None
            if not isinstance(record, dict):
                raise error(path, number, f"expected a JSON object, got {type(record).__name__}")
            yield number, record


def iter_wikidata(path: pathlib.Path, languages: Sequence[str], open_text: Callable,
                  error: Callable[..., Exception]) -> Iterator[tuple[int, Entity]]:
    """Yields ``(line, Entity)`` per item line that has a label in one of ``languages``.

    Items with no label in any wanted language are skipped (a dump holds
    millions of them); a malformed line raises ``error(path, line, message, field)``.
    """
    for number, record in iter_json_objects(path, open_text, error):
        if not isinstance(record.get("id"), str):
            raise error(path, number, "expected an entity object with a string id", "id")
        if record.get("type", "item") != "item":
            continue
        entity = _entity(record, languages, path, number, error)
        if entity is not None:
            yield number, entity


def _values(block: Any, languages: Sequence[str], path, number, field, error) -> list[str]:
    if block is None:
        return []
    if not isinstance(block, dict):
        raise error(path, number, f"expected an object keyed by language, got {type(block).__name__}", field)
    out: list[str] = []
    for language in languages:
        entry = block.get(language)
        entries = entry if isinstance(entry, list) else [entry] if entry else []
        for item in entries:
            if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                raise error(path, number, f"expected {{'language', 'value'}}, got {item!r}",
                            f"{field}.{language}")
            out.append(item["value"])
    return out


def _entity(record: dict, languages, path, number, error) -> Entity | None:
    labels = _values(record.get("labels"), languages, path, number, "labels", error)
    if not labels:
        return None
    aliases = labels[1:] + _values(record.get("aliases"), languages, path, number, "aliases", error)
    descriptions = _values(record.get("descriptions"), languages, path, number, "descriptions", error)
    types = []
    for qid in _claim_items(record, "P31"):
        name = TYPE_NAMES.get(qid, qid)
        if name not in types:
            types.append(name)
    sitelinks = record.get("sitelinks") or {}
    prior = min(1.0, math.log1p(len(sitelinks)) / math.log1p(_SITELINKS_FOR_FULL_PRIOR))
    attributes = {"wikidata_p31": tuple(_claim_items(record, "P31"))}
    country = _claim_items(record, "P17")
    if country:
        attributes["wikidata_p17"] = tuple(country)
    return Entity(
        id=record["id"], name=labels[0],
        aliases=tuple(dict.fromkeys(a for a in aliases if a != labels[0])),
        types=tuple(types), description=descriptions[0] if descriptions else "",
        prior=round(prior, 4), attributes={k: v for k, v in attributes.items() if v},
    )


def _claim_items(record: dict, prop: str) -> list[str]:
    out = []
    claims = record.get("claims") or {}
    for claim in claims.get(prop, []) if isinstance(claims, dict) else []:
        try:
            out.append(claim["mainsnak"]["datavalue"]["value"]["id"])
        except (KeyError, TypeError):
            continue  # "novalue"/"somevalue" snaks carry no item
    return out

"""Gold readers for ``kgpipe link train`` / ``link eval``: kgpipe JSON Lines, CHIP-CDN, CCKS 2019.

* ``kgpipe``: :func:`linking.evaluation.read_gold` (``{"id","text","mentions":[...]}`` lines);
* ``chip-cdn``: a JSON array (or JSON Lines) of ``{"text", "normalized_result"}``. The whole
  text is the mention (a diagnosis string); ``normalized_result`` holds one or more KB
  *names* joined by ``##``. Each name becomes one target group: every KB entity whose
  normalised name or alias equals the name's (ICD-10 repeats names across codes, and a
  prediction of any of them is that name);
* ``ccks2019``: CCKS 2019 EL lines ``{"text_id","text","mention_data":[{"kb_id","mention","offset"}]}``;
  ``kb_id`` ``NIL...`` is NIL.

A gold id or name the KB lacks is an error naming file:line, or with
``UnknownGold.NIL`` that target is dropped and a mention left with none is gold NIL
(counted in :class:`GoldStats`), never silently scored as a miss.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import pathlib

from kgpipe.linking.evaluation import GoldDocument, GoldError, read_gold
from kgpipe.linking.index import AliasIndex
from kgpipe.linking.normalize import normalize
from kgpipe.schemas.records import Document, Mention


class GoldFormat(enum.Enum):
    KGPIPE = "kgpipe"
    CHIP_CDN = "chip-cdn"
    CCKS2019 = "ccks2019"


class UnknownGold(enum.Enum):
    ERROR = "error"   # a gold target the KB lacks is an error (file:line)
    NIL = "nil"       # drop it; a mention left with no target is gold NIL


@dataclasses.dataclass
class GoldStats:
    """What a reader did: documents and mentions read, targets the KB lacked."""

    documents: int = 0
    mentions: int = 0
    targets: int = 0
    unknown_targets: int = 0
    nil_mentions: int = 0


def load_gold(path: str | pathlib.Path, gold_format: GoldFormat, index: AliasIndex,
              unknown: UnknownGold = UnknownGold.ERROR, items: slice = slice(None),
              stats: GoldStats | None = None) -> list[GoldDocument]:
    """Reads gold documents ``items`` (a slice over the file's documents) resolved against ``index``.

    Raises:
        GoldError: Malformed record, offsets that do not match the text, an empty file or
            selection, or (``UnknownGold.ERROR``) a target the KB lacks: file:line named.
    """
    path = pathlib.Path(path)
    stats = stats if stats is not None else GoldStats()
    resolver = _Resolver(index, unknown, stats)
    if gold_format is GoldFormat.KGPIPE:
        documents = [resolver.kgpipe(item) for item in list(read_gold(path))[items]]
    elif gold_format is GoldFormat.CHIP_CDN:
        documents = [resolver.chip_cdn(record, f"{path}:{line}", f"{path.name}:{number}")
                     for number, line, record in _json_items(path)[items]]
    else:
        documents = [resolver.ccks(record, f"{path}:{line}") for line, record in _json_lines(path)[items]]
    if not documents:
        raise GoldError(f"{path}:1: no gold documents (in the selected range {items.start}:{items.stop})")
    stats.documents = len(documents)
    return documents


def _json_lines(path: pathlib.Path) -> list[tuple[int, dict]]:
    out = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    out.append((number, json.loads(line)))
                except json.JSONDecodeError as failure:
                    raise GoldError(f"{path}:{number}: bad JSON ({failure})") from None
    return out


def _json_items(path: pathlib.Path) -> list[tuple[int, int, dict]]:
    """``(item number, line, record)`` of a JSON array (line of each item's start) or JSON Lines."""
    text = path.read_text("utf-8")
    if not text.lstrip().startswith("["):
        return [(n, line, record) for n, (line, record) in enumerate(_json_lines(path))]
    decoder, out = json.JSONDecoder(), []
    position, line = text.index("[") + 1, 1 + text.count("\n", 0, text.index("["))
    while True:
        skipped = position
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        line += text.count("\n", skipped, position)
        if position >= len(text) or text[position] == "]":
            return out
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as failure:
            raise GoldError(f"{path}:{failure.lineno}: bad JSON ({failure.msg})") from None
        out.append((len(out), line, record))
        line += text.count("\n", position, end)
        position = end


class _Resolver:
    """Turns gold records into :class:`GoldDocument` with target groups checked against the KB."""

    def __init__(self, index: AliasIndex, unknown: UnknownGold, stats: GoldStats) -> None:
        self.index, self.unknown, self.stats = index, unknown, stats

    def _group_by_id(self, kb_id: str, where: str) -> frozenset[str] | None:
        if self.index.entity_index(kb_id) >= 0:
            return frozenset([kb_id])
        return self._missing(f"{where}: gold kb_id {kb_id!r} is not in the KB {self.index.version}")

    def _group_by_name(self, name: str, where: str) -> frozenset[str] | None:
        key = normalize(name.strip().strip('"'))
        ids = frozenset(self.index.entity_id(e) for e, _, _ in self.index.exact(key))
        return ids or self._missing(f"{where}: gold name {name!r} is not a name or alias in the KB "
                                    f"{self.index.version}")

    def _missing(self, message: str) -> None:
        if self.unknown is UnknownGold.ERROR:
            raise GoldError(message + " (use --unknown-gold nil to score such targets as NIL)")
        self.stats.unknown_targets += 1
        return None

    def _count(self, groups: list) -> tuple[frozenset[str], ...]:
        self.stats.mentions += 1
        self.stats.targets += len(groups)
        kept = tuple(g for g in groups if g is not None)
        self.stats.nil_mentions += not kept
        return kept

    def kgpipe(self, item: GoldDocument) -> GoldDocument:
        targets = tuple(self._count([] if kb_id is None else [self._group_by_id(kb_id, where)])
                        for kb_id, where in zip(item.kb_ids, item.sources))
        return dataclasses.replace(item, targets=targets)

    def chip_cdn(self, record: dict, where: str, doc_id: str) -> GoldDocument:
        try:
            text, names = record["text"], record["normalized_result"]
        except (KeyError, TypeError):
            raise GoldError(f"{where}: a CHIP-CDN item needs 'text' and 'normalized_result'") from None
        if not isinstance(text, str) or not text.strip() or not isinstance(names, str):
            raise GoldError(f"{where}: 'text' must be a non-empty string and 'normalized_result' a string")
        groups = self._count([self._group_by_name(n, where) for n in names.split("##") if n.strip()])
        mention = Mention(doc_id=doc_id, start=0, end=len(text), text=text, label="", score=1.0, model="gold")
        first = sorted(groups[0])[0] if groups else None
        return GoldDocument(Document(id=doc_id, text=text), (mention,), (first,), (groups,), (where,))

    def ccks(self, record: dict, where: str) -> GoldDocument:
        try:
            text, doc_id = record["text"], str(record.get("text_id", where))
            mentions, targets = [], []
            for item in record["mention_data"]:
                start = int(item["offset"])
                end = start + len(item["mention"])
                if text[start:end] != item["mention"]:
                    raise GoldError(f"{where}: mention {item['mention']!r} does not match the text at "
                                    f"offset {start}: {text[start:end]!r}")
                kb_id = str(item["kb_id"])
                targets.append(self._count([] if kb_id.startswith("NIL") else [self._group_by_id(kb_id, where)]))
                mentions.append(Mention(doc_id=doc_id, start=start, end=end, text=item["mention"], label="",
                                        score=1.0, model="gold"))
        except GoldError:
            raise
        except (KeyError, TypeError, ValueError) as failure:
            raise GoldError(f"{where}: bad CCKS record ({type(failure).__name__}: {failure})") from None
        kb_ids = tuple(sorted(g[0])[0] if g else None for g in targets)
        return GoldDocument(Document(id=doc_id, text=text), tuple(mentions), kb_ids, tuple(targets),
                            (where,) * len(mentions))

"""Nested-entity corpora: CMeEE-style JSON (``text`` + ``entities`` with inclusive ends).

CMeEE (Chinese medical NER, CBLUE) ships one JSON array of records::

    {"text": "...", "entities": [{"start_idx": 10, "end_idx": 13, "type": "sym", ...}, ...]}

``end_idx`` is inclusive. Entities may nest (``肺`` inside ``肺内病变``), so these examples suit a
GlobalPointer head; a CRF head keeps only a non-overlapping subset. JSON lines of the same
records are read too.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from kgpipe.ner.data import Example


def has_overlaps(example: Example) -> bool:
    """Whether two of the example's spans share a character (nested or crossing)."""
    spans = sorted(example.spans)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


def write_cmeee(path: str | os.PathLike, examples) -> None:
    """Writes ``Example``s as CMeEE-style JSON lines (inclusive ``end_idx``), which keep nested
    and crossing spans that a column file cannot; ``read_cmeee`` reads them back."""
    with open(path, "w", encoding="utf-8") as f:
        for example in examples:
            entities = [{"start_idx": start, "end_idx": end - 1, "type": label, "entity": example.text[start:end]}
                        for start, end, label in sorted(example.spans)]
            f.write(json.dumps({"text": example.text, "entities": entities}, ensure_ascii=False) + "\n")


def is_cmeee(path: str | os.PathLike) -> bool:
    """Whether a ``.json``/``.jsonl`` file holds CMeEE-style records (an ``entities`` list)."""
    with open(path, encoding="utf-8") as f:
        head = f.read(4096).lstrip()
    return head.startswith("[") or '"entities"' in head.split("\n", 1)[0]


def _example(record: Any, where: str, label_map: Mapping[str, str | None] | None) -> Example:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError(f"{where}: expected an object with a string 'text'")
    text, spans = record["text"], set()
    for entity in record.get("entities") or ():
        try:
            start, end, label = int(entity["start_idx"]), int(entity["end_idx"]), entity["type"]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: entity {entity!r} needs start_idx, end_idx (inclusive) "
                             "and type") from None
        if not 0 <= start <= end < len(text):
            raise ValueError(f"{where}: entity {entity!r} outside the text of {len(text)} chars")
        label = (label_map or {}).get(label, label)
        if label is not None:
            spans.add((start, end + 1, label))
    return Example(text, tuple(sorted(spans)))


def read_cmeee(path: str | os.PathLike, *,
               label_map: Mapping[str, str | None] | None = None) -> list[Example]:
    """Reads CMeEE-style records (a JSON array, or JSON lines); spans ``[start, end)``.

    ``label_map`` renames types (a ``None`` value drops one). Exact duplicate entities collapse.

    Raises:
        ValueError: naming the file and record of a malformed record or an entity outside its text.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("["):
        records = json.loads(text)
        return [_example(r, f"{path}: record {i}", label_map) for i, r in enumerate(records)]
    return [_example(json.loads(line), f"{path}:{number}", label_map)
            for number, line in enumerate(text.splitlines(), 1) if line.strip()]

"""Converts CCKS 2019 entity-linking data (train.json / dev.json) to kgpipe gold JSON Lines.

    python -m kgpipe.linking.ccks_gold --input dev.json --out ccks_dev_gold.jsonl [--kb kb_data]

CCKS lines look like ``{"text_id", "text", "mention_data": [{"kb_id", "mention",
"offset"}]}`` with ``offset`` a string character offset; ``kb_id`` ``"NIL"`` or
``"NIL_<type>"`` marks a mention with no KB entry. CCKS mentions carry no NER
label; with ``--kb`` the label is taken from the gold entity's first type
(``schemas.vocab`` class -> PER/LOC/ORG/...), else left empty (the type
feature then stays neutral). A mention whose text does not match the text at
its offset is an error naming the line.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections.abc import Sequence

from kgpipe.linking.features import LABEL_FOR_CLASS, kb_classes
from kgpipe.linking.kb import iter_entities


def _labels(kb: pathlib.Path | None) -> dict[str, str]:
    if kb is None:
        return {}
    out = {}
    for entity in iter_entities(kb, "ccks"):
        classes = kb_classes(entity.types)
        out[entity.id] = LABEL_FOR_CLASS.get(classes[0], "") if classes else ""
    return out


def convert(source: pathlib.Path, out: pathlib.Path, kb: pathlib.Path | None = None) -> int:
    """Writes the gold file; returns the number of documents."""
    labels = _labels(kb)
    documents = 0
    with open(source, encoding="utf-8") as reader, open(out, "w", encoding="utf-8") as writer:
        for number, line in enumerate(reader, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                text = record["text"]
                mentions = []
                for item in record.get("mention_data", []):
                    start = int(item["offset"])
                    end = start + len(item["mention"])
                    if text[start:end] != item["mention"]:
                        raise ValueError(f"mention {item['mention']!r} is not at offset {start}")
                    kb_id = str(item["kb_id"])
                    gold = None if kb_id.startswith("NIL") else kb_id
                    mentions.append({"start": start, "end": end, "label": labels.get(gold or "", ""),
                                     "kb_id": gold})
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as failure:
                raise ValueError(f"{source}:{number}: {type(failure).__name__}: {failure}") from None
            writer.write(json.dumps({"id": str(record.get("text_id", number)), "text": text,
                                     "mentions": mentions}, ensure_ascii=False) + "\n")
            documents += 1
    return documents


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, help="CCKS 2019 train.json or dev.json")
    parser.add_argument("--out", required=True, help="gold JSON lines for `kgpipe link eval`")
    parser.add_argument("--kb", default=None, help="CCKS kb_data, to give mentions an NER-style label")
    args = parser.parse_args(argv)
    try:
        count = convert(pathlib.Path(args.input), pathlib.Path(args.out),
                        pathlib.Path(args.kb) if args.kb else None)
    except (OSError, ValueError) as failure:
        print(f"ccks_gold: {failure}", file=sys.stderr)
        return 1
    print(f"wrote {count:,} documents to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

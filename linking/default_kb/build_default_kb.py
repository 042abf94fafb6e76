"""Writes the bundled default KB, ``kb.jsonl``, from the tables below.

Run from the repository root: ``python -m kgpipe.linking.default_kb.build_default_kb``.
The tables are the source of truth (written for kgpipe from general
knowledge; see README.md); ``kb.jsonl`` is generated and committed so the
package needs no build step. Traditional-character aliases are added with
OpenCC (s2t) wherever they differ from the simplified name.
"""

from __future__ import annotations

import json
import pathlib

from opencc import OpenCC

from kgpipe.linking.default_kb import data_companies, data_places

OUT = pathlib.Path(__file__).resolve().parent / "kb.jsonl"


def _with_traditional(name: str, aliases: list[str], converter: OpenCC) -> list[str]:
    out = list(aliases)
    for text in [name, *aliases]:
        traditional = converter.convert(text)
        if traditional != text and traditional not in out and traditional != name:
            out.append(traditional)
    return [a for a in dict.fromkeys(out) if a and a != name]


def records() -> list[dict]:
    """All default-KB records, ids unique, in a stable order."""
    converter = OpenCC("s2t")
    out: list[dict] = []
    seen: set[str] = set()
    for record in [*data_places.records(), *data_companies.records()]:
        if record["id"] in seen:
            raise ValueError(f"duplicate default-KB id {record['id']!r}")
        seen.add(record["id"])
        record["aliases"] = _with_traditional(record["name"], record.get("aliases", []), converter)
        out.append({
            "id": record["id"], "name": record["name"], "aliases": record["aliases"],
            "types": record["types"], "description": record["description"],
            "prior": record["prior"], "attributes": record.get("attributes", {}),
        })
    return out


def main() -> None:
    rows = records()
    with open(OUT, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} entities to {OUT}")


if __name__ == "__main__":
    main()

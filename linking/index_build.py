"""Builds an alias index directory (layout in :mod:`linking.index`) from streamed entities.

The KB streams past once; entity columns go straight into UTF-8 blobs, aliases
are normalised, sorted and grouped, and the fuzzy n-gram and context IDF tables
are computed with vectorised numpy. Everything is written into a staging
directory that replaces the target only when complete.
"""

from __future__ import annotations

import array
import hashlib
import json
import logging
import os
import pathlib
import shutil
import tempfile
import time
from collections.abc import Iterable

import numpy as np

from kgpipe.linking.index import (ENTITY_TABLES, FORMAT_VERSION, LIST_JOINER, PRIOR_SMOOTHING, codepoints,
                                  entity_context_text, hashed_bigrams, padded_bigrams)
from kgpipe.linking.ngram import write_ngram_index
from kgpipe.linking.normalize import NORMALIZATION_VERSION, normalize
from kgpipe.linking.strings import StringTableBuilder
from kgpipe.schemas.records import Entity

_log = logging.getLogger("kgpipe.linking")
_PROGRESS_EVERY = 500_000


class _Builder:
    """Accumulates entities column-wise while the KB streams past."""

    def __init__(self) -> None:
        self.tables = {name: StringTableBuilder() for name in ENTITY_TABLES}
        self.priors = array.array("d")
        self.keys: list[str] = []
        self.key_entities = array.array("i")
        self.key_is_name = array.array("B")
        self.contexts: list[str] = []

    def add(self, entity: Entity) -> None:
        index = len(self.priors)
        tables = self.tables
        tables["entity_ids"].append(entity.id)
        tables["entity_names"].append(entity.name)
        tables["entity_aliases"].append(LIST_JOINER.join(entity.aliases))
        tables["entity_types"].append(LIST_JOINER.join(entity.types))
        tables["entity_descriptions"].append(entity.description)
        attributes = {k: list(v) for k, v in entity.attributes.items()}
        tables["entity_attributes"].append(json.dumps(attributes, ensure_ascii=False) if attributes else "")
        self.priors.append(entity.prior)
        name_key = normalize(entity.name)
        seen = set()
        for position, surface in enumerate((entity.name, *entity.aliases)):
            key = name_key if position == 0 else normalize(surface)
            if key and key not in seen:
                seen.add(key)
                self.keys.append(key)
                self.key_entities.append(index)
                self.key_is_name.append(1 if key == name_key else 0)
        self.contexts.append(normalize(entity_context_text(entity.description, entity.attributes)))


def build_index(entities: Iterable[Entity], out_dir: str | pathlib.Path, *, name: str,
                content_hash: str, source: str = "") -> pathlib.Path:
    """Builds an alias index into ``out_dir`` (replaced atomically: never half-written).

    Args:
        entities: The KB, streamed once (ids must be unique; see ``linking.kb``).
        out_dir: Target directory; created, or replaced if it holds an index.
        name: KB name for the version string.
        content_hash: Hex digest of the KB content.
        source: Where the KB came from, recorded in the manifest.

    Returns:
        The index directory.
    """
    started = time.perf_counter()
    out_dir = pathlib.Path(out_dir)
    if out_dir.exists() and not (out_dir / "manifest.json").exists() and any(out_dir.iterdir()):
        raise ValueError(f"Refusing to replace {out_dir}: it is not an index directory.")
    builder = _Builder()
    for count, entity in enumerate(entities, start=1):
        builder.add(entity)
        if count % _PROGRESS_EVERY == 0:
            _log.info("kb build: %s entities read (%.0f s)", f"{count:,}", time.perf_counter() - started)
    _log.info("kb build: %s entities read; sorting and writing", f"{len(builder.priors):,}")
    if not len(builder.priors):
        raise ValueError(f"The KB {source or name!r} has no entities; nothing to index.")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        counts = _write(builder, staging)
        manifest = {
            "format_version": FORMAT_VERSION, "normalization_version": NORMALIZATION_VERSION,
            "name": name, "content_hash": content_hash, "source": source,
            "build_seconds": round(time.perf_counter() - started, 3), **counts,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        _swap_in(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _swap_in(staging: pathlib.Path, out_dir: pathlib.Path) -> None:
    """Moves the finished index into place; an old index is moved aside first, then deleted."""
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    old = pathlib.Path(tempfile.mkdtemp(prefix=out_dir.name + ".old.", dir=out_dir.parent))
    os.replace(out_dir, old / "index")
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _write(builder: _Builder, directory: pathlib.Path) -> dict[str, int]:
    for table_name, table in builder.tables.items():
        table.save(directory, table_name)
    priors = np.frombuffer(builder.priors, dtype=np.float64).copy()
    np.save(directory / "entity_priors.npy", priors)
    id_table = builder.tables["entity_ids"].freeze()
    builder.tables = {}  # written; free them before the large sorts below
    id_order = sorted(range(len(id_table)), key=id_table.raw)
    np.save(directory / "id_order.npy", np.asarray(id_order, dtype=np.int32))
    del id_table, id_order
    context_grams = _write_idf(builder.contexts, directory)
    builder.contexts = []
    alias_count = len(builder.keys)
    key_count, cp = _write_aliases(builder, priors, directory)
    ngram_grams = write_ngram_index(cp, key_count, directory)
    return {"entities": int(len(priors)), "aliases": alias_count,
            "alias_keys": key_count, "context_grams": context_grams, "ngram_grams": ngram_grams}


def _write_aliases(builder: _Builder, priors: np.ndarray, directory: pathlib.Path) -> tuple[int, np.ndarray]:
    """Writes the alias tables; returns the key count and the keys' code points (for n-grams)."""
    keys = builder.keys
    order = sorted(range(len(keys)), key=keys.__getitem__)
    entities = np.frombuffer(builder.key_entities, dtype=np.int32)[order]
    is_name = np.frombuffer(builder.key_is_name, dtype=np.uint8)[order]
    sorted_keys = [keys[i] for i in order]
    builder.keys = []
    starts = [i for i in range(len(sorted_keys)) if i == 0 or sorted_keys[i] != sorted_keys[i - 1]]
    unique_keys = [sorted_keys[i] for i in starts]
    del sorted_keys
    offsets = np.asarray(starts + [len(order)], dtype=np.int64)
    weights = priors[entities].astype(np.float64) + PRIOR_SMOOTHING
    totals = np.add.reduceat(weights, offsets[:-1]) if len(starts) else np.zeros(0)
    posting_priors = (weights / np.repeat(totals, np.diff(offsets))).astype(np.float32)
    table = StringTableBuilder()
    table.extend(unique_keys)
    table.save(directory, "alias_keys")
    np.save(directory / "alias_offsets.npy", offsets)
    np.save(directory / "posting_entities.npy", entities.astype(np.int32))
    np.save(directory / "posting_priors.npy", posting_priors)
    np.save(directory / "posting_is_name.npy", is_name)
    lengths = np.fromiter((len(k) for k in unique_keys), dtype=np.int32, count=len(unique_keys))
    np.save(directory / "key_lengths.npy", lengths)
    codes, owner = _sorted_distinct_pairs(*padded_bigrams(unique_keys), len(unique_keys))
    gram_starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, np.int64)
    np.save(directory / "gram_codes.npy", codes[gram_starts])
    np.save(directory / "gram_offsets.npy", np.r_[gram_starts, len(codes)].astype(np.int64))
    np.save(directory / "gram_keys.npy", owner.astype(np.int32))
    del codes, owner
    return len(unique_keys), codepoints(unique_keys)


def _sorted_distinct_pairs(codes: np.ndarray, owner: np.ndarray, owners: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorts ``(code, owner)`` pairs by code then owner and drops repeats.

    Codes use 42 bits; when the owner index fits in the other 22, one packed
    ``uint64`` sort replaces ``lexsort`` (about half the memory and time).
    """
    owner_bits = max(1, (owners - 1).bit_length())
    if 42 + owner_bits <= 64:
        packed = (codes.astype(np.uint64) << np.uint64(owner_bits)) | owner.astype(np.uint64)
        del codes, owner
        packed.sort()
        if len(packed):
            packed = packed[np.r_[True, packed[1:] != packed[:-1]]]
        mask = np.uint64((1 << owner_bits) - 1)
        return (packed >> np.uint64(owner_bits)).astype(np.int64), (packed & mask).astype(np.int64)
    by_code = np.lexsort((owner, codes))
    codes, owner = codes[by_code], owner[by_code]
    distinct = np.ones(len(codes), dtype=bool)
    distinct[1:] = (codes[1:] != codes[:-1]) | (owner[1:] != owner[:-1])
    return codes[distinct], owner[distinct]


def _write_idf(contexts: list[str], directory: pathlib.Path) -> int:
    """Document frequencies of hashed context bigrams -> smoothed IDF.

    Bigrams seen in one entity only are not stored: a lookup that misses gets
    the IDF of document frequency 1 (see :meth:`AliasIndex.idf`).
    """
    codes, owner = hashed_bigrams(contexts)
    combined = (codes.astype(np.uint64) << np.uint64(32)) | owner.astype(np.uint64)
    del codes, owner
    combined.sort()
    if len(combined):
        combined = combined[np.r_[True, combined[1:] != combined[:-1]]]
    grams = (combined >> np.uint64(32)).astype(np.uint32)
    del combined
    starts = np.flatnonzero(np.r_[True, grams[1:] != grams[:-1]]) if len(grams) else np.zeros(0, np.int64)
    df = np.diff(np.r_[starts, len(grams)])
    keep = df >= 2
    n = len(contexts)
    idf = np.log((1.0 + n) / (1.0 + df[keep])) + 1.0
    np.save(directory / "idf_codes.npy", grams[starts][keep])
    np.save(directory / "idf_values.npy", idf.astype(np.float32))
    return int(keep.sum())


def content_hash_of_file(path: str | pathlib.Path) -> str:
    """SHA-256 of a file's bytes, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

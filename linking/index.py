"""The alias index: built once from a KB (``linking.index_build``, ``kgpipe kb build``),
memory-mapped on load.

Directory layout (all numpy ``.npy`` or raw UTF-8 blobs, no pickle):

* ``manifest.json``: format version, KB name, content hash, counts, normalisation version;
* entity columns (``int`` entity index ``e`` in ``[0, n_entities)``): string
  tables ``entity_ids``, ``entity_names``, ``entity_aliases`` and
  ``entity_types`` (joined by U+001F), ``entity_descriptions``,
  ``entity_attributes`` (JSON); ``entity_priors.npy`` ``float64[n_entities]``;
  ``id_order.npy`` ``int32[n_entities]`` (entity indices sorted by id);
* aliases: ``alias_keys`` (sorted normalised keys, ``n_keys``),
  ``alias_offsets.npy`` ``int64[n_keys + 1]`` into the postings
  ``posting_entities.npy`` ``int32``, ``posting_priors.npy`` ``float32``
  (P(entity | alias) from entity priors) and ``posting_is_name.npy`` ``uint8``;
* fuzzy n-grams: ``gram_codes.npy`` ``int64[n_grams]`` (sorted character
  bigrams of ``"\\0" + key + "\\0"``, code ``a << 21 | b``), ``gram_offsets.npy``
  ``int64[n_grams + 1]`` into ``gram_keys.npy`` ``int32``, ``key_lengths.npy``;
* n-gram retrieval: ``ngram_*.npy`` (layout in :mod:`linking.ngram`);
* context IDF: ``idf_codes.npy`` ``uint32`` (hashed character bigrams of
  descriptions and attribute values, sorted), ``idf_values.npy`` ``float32``.
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np

from kgpipe.linking.ngram import NGRAM_ARRAYS, NgramIndex
from kgpipe.linking.normalize import NORMALIZATION_VERSION
from kgpipe.linking.strings import StringTable, map_array
from kgpipe.schemas.records import Entity

FORMAT_VERSION = 2  # 2: n-gram retrieval files
LIST_JOINER = "\x1f"
# Smoothing of P(entity | alias): entities with prior 0 still share an alias.
PRIOR_SMOOTHING = 0.1
ENTITY_TABLES = ("entity_ids", "entity_names", "entity_aliases", "entity_types",
                  "entity_descriptions", "entity_attributes")
_ARRAYS = ("entity_priors", "id_order", "alias_offsets", "posting_entities", "posting_priors",
           "posting_is_name", "gram_codes", "gram_offsets", "gram_keys", "key_lengths",
           "idf_codes", "idf_values", *NGRAM_ARRAYS)


class IndexError_(ValueError):
    """An index directory that is missing, incomplete or of another version."""


def codepoints(texts: list[str], separator: bool = True) -> np.ndarray:
    """Returns ``uint32`` code points of ``"\\0".join(texts)`` framed by ``\\0``."""
    joined = "\x00" + "\x00".join(texts) + "\x00" if separator else "".join(texts)
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)


def padded_bigrams(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Bigram codes of ``"\\0" + text + "\\0"`` for each text, and the text each belongs to.

    Returns:
        ``(codes int64[m], owner int64[m])``.
    """
    cp = codepoints(texts)
    keep = ~((cp[:-1] == 0) & (cp[1:] == 0))
    owner = (np.cumsum(cp == 0, dtype=np.int64)[:-1] - 1)[keep]
    codes = (cp[:-1][keep].astype(np.int64) << 21) | cp[1:][keep]
    return codes, owner


def hashed_bigrams(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashed (``uint32``) bigrams inside each text (no padding), and their owner."""
    cp = codepoints(texts).astype(np.uint64)
    separators = np.cumsum(cp == 0)
    valid = (cp[:-1] != 0) & (cp[1:] != 0)
    codes = (cp[:-1] << np.uint64(21)) | cp[1:]
    hashed = ((codes * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)).astype(np.uint32)
    return hashed[valid], (separators[:-1] - 1)[valid].astype(np.int64)


def entity_context_text(description: str, attributes: dict) -> str:
    """Returns the text an entity is compared with: description and attribute values."""
    values = [v for key in sorted(attributes) for v in attributes[key]]
    return " ".join([description, *values]).strip()


class AliasIndex:
    """A memory-mapped alias index (see the module docstring for the layout)."""

    def __init__(self, directory: pathlib.Path, manifest: dict, tables: dict, arrays: dict) -> None:
        self.directory = directory
        self.manifest = manifest
        self.tables = tables
        self.arrays = arrays
        self.keys: StringTable = tables["alias_keys"]
        self.ngrams = NgramIndex(arrays, len(self.keys))
        # IDF of a bigram in at most one entity (those are not stored).
        self.max_idf = float(math.log((1.0 + manifest["entities"]) / 2.0) + 1.0)

    @classmethod
    def open(cls, directory: str | pathlib.Path) -> "AliasIndex":
        """Opens an index directory written by :func:`build_index`.

        Raises:
            IndexError_: If it is missing, incomplete or of another format version.
        """
        directory = pathlib.Path(directory)
        manifest_path = directory / "manifest.json"
        if not manifest_path.is_file():
            raise IndexError_(f"{directory} is not a kgpipe KB index (no manifest.json); "
                              "build one with `kgpipe kb build`.")
        manifest = json.loads(manifest_path.read_text("utf-8"))
        expected = (FORMAT_VERSION, NORMALIZATION_VERSION)
        found = (manifest.get("format_version"), manifest.get("normalization_version"))
        if found != expected:
            raise IndexError_(f"{directory} has index format/normalisation {found}, this kgpipe "
                              f"reads {expected}; rebuild it with `kgpipe kb build`.")
        try:
            tables = {n: StringTable.open(directory, n) for n in (*ENTITY_TABLES, "alias_keys")}
            arrays = {n: map_array(directory / f"{n}.npy") for n in _ARRAYS}
        except FileNotFoundError as missing:
            raise IndexError_(f"{directory} is incomplete: {missing.filename} is missing.") from None
        return cls(directory, manifest, tables, arrays)

    @property
    def size(self) -> int:
        return int(self.manifest["entities"])

    @property
    def version(self) -> str:
        return f"{self.manifest['name']}@{self.manifest['content_hash'][:12]}"

    # ------------------------------------------------------------ entities

    def entity_index(self, entity_id: str) -> int:
        """Returns the entity index of a KB id, or -1."""
        ids: StringTable = self.tables["entity_ids"]
        order = self.arrays["id_order"]
        target = entity_id.encode("utf-8")
        low, high = 0, len(order)
        while low < high:
            middle = (low + high) // 2
            if ids.raw(int(order[middle])) < target:
                low = middle + 1
            else:
                high = middle
        if low < len(order) and ids.raw(int(order[low])) == target:
            return int(order[low])
        return -1

    def entity(self, index: int) -> Entity:
        """Returns the full record of entity ``index``."""
        tables = self.tables
        aliases = tables["entity_aliases"][index]
        types = tables["entity_types"][index]
        attributes = tables["entity_attributes"][index]
        return Entity(
            id=tables["entity_ids"][index], name=tables["entity_names"][index],
            aliases=tuple(aliases.split(LIST_JOINER)) if aliases else (),
            types=tuple(types.split(LIST_JOINER)) if types else (),
            description=tables["entity_descriptions"][index],
            prior=float(self.arrays["entity_priors"][index]),
            attributes={k: tuple(v) for k, v in json.loads(attributes).items()} if attributes else {},
        )

    def entity_id(self, index: int) -> str:
        return self.tables["entity_ids"][index]

    def entity_types(self, index: int) -> tuple[str, ...]:
        types = self.tables["entity_types"][index]
        return tuple(types.split(LIST_JOINER)) if types else ()

    # ------------------------------------------------------------ aliases

    def exact(self, key: str) -> list[tuple[int, float, bool]]:
        """Entities with normalised alias ``key``: ``(entity index, P(e|alias), is_name)``."""
        position = self.keys.find(key) if key else -1
        if position < 0:
            return []
        return self.postings(position)

    def postings(self, key_index: int) -> list[tuple[int, float, bool]]:
        offsets = self.arrays["alias_offsets"]
        start, end = int(offsets[key_index]), int(offsets[key_index + 1])
        entities = self.arrays["posting_entities"][start:end]
        priors = self.arrays["posting_priors"][start:end]
        names = self.arrays["posting_is_name"][start:end]
        return [(int(e), float(p), bool(n)) for e, p, n in zip(entities, priors, names)]

    def similar_keys(self, key: str, limit: int) -> list[tuple[int, float]]:
        """Keys sharing the most padded bigrams with ``key``: ``(key index, Dice)``, best first.

        Only the rarer half (plus one) of the query's bigrams is looked up: a
        key within edit similarity ~0.75 of the query keeps more than half of
        its bigrams, so by pigeonhole it shares at least one of those, and the
        very common bigrams (long posting lists) are skipped. Dice is computed
        on the bigrams looked up; the caller re-scores by edit distance.
        """
        if not key:
            return []
        query = np.unique(padded_bigrams([key])[0])
        codes, offsets = self.arrays["gram_codes"], self.arrays["gram_offsets"]
        where = np.searchsorted(codes, query)
        inside = where < len(codes)
        where, query_inside = where[inside], query[inside]
        where = where[np.asarray(codes[where]) == query_inside]
        if not len(where):
            return []
        spans = sorted((int(offsets[w + 1]) - int(offsets[w]), int(offsets[w]), int(offsets[w + 1])) for w in where)
        spans = spans[: len(query) // 2 + 1]
        gram_keys = self.arrays["gram_keys"]
        hits = np.concatenate([np.asarray(gram_keys[a:b]) for _, a, b in spans])
        found, shared = np.unique(hits, return_counts=True)
        lengths = np.asarray(self.arrays["key_lengths"][found], dtype=np.float64)
        dice = 2.0 * shared / (len(spans) + lengths + 1.0)
        if len(found) > limit:
            # Keep everything tied with the limit-th best, then break ties by key index.
            kth = np.partition(dice, len(dice) - limit)[len(dice) - limit]
            keep = dice >= kth
            found, dice = found[keep], dice[keep]
        order = np.lexsort((found, -dice))[:limit]
        return [(int(found[i]), float(dice[i])) for i in order]

    def idf(self, codes: np.ndarray) -> np.ndarray:
        """IDF of hashed context bigrams ``uint32[m]`` -> ``float64[m]`` (rare ones get the maximum)."""
        table, values = self.arrays["idf_codes"], self.arrays["idf_values"]
        if not len(table):
            return np.full(len(codes), self.max_idf, dtype=np.float64)
        where = np.minimum(np.searchsorted(table, codes), len(table) - 1)
        known = np.asarray(table[where]) == codes
        return np.where(known, np.asarray(values[where], dtype=np.float64), self.max_idf)

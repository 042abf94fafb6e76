"""Character n-gram retrieval: TF-IDF cosine over 1-3-grams of the normalised alias keys.

Built by ``kgpipe kb build`` beside the alias index (:func:`write_ngram_index`) and
memory-mapped on load (:class:`NgramIndex`). Files, all ``.npy``:

* ``ngram_codes`` ``uint32[n_grams]``: sorted hashed n-grams (1-, 2- and 3-grams of
  each alias key; 32-bit hashes, so a rare collision merges two grams);
* ``ngram_offsets`` ``int64[n_grams + 1]`` into the postings;
* ``ngram_keys`` ``int32[n_postings]``: alias key indices, ascending within a gram;
* ``ngram_weights`` ``float32[n_postings]``: ``idf(gram) / |key vector|``, so that a
  query's score is the cosine of binary-TF, IDF-weighted gram vectors.

A query looks its grams up rarest first and stops once ``posting_budget`` postings
are read: the common grams (a radical-like character in a medical KB, a Latin letter)
carry little IDF and would dominate the cost. Scores still divide by the query's full
norm, so they stay cosines (a lower bound of the full cosine). Cost per query: a
binary search per gram plus at most ``posting_budget`` accumulated postings.
"""

from __future__ import annotations

import math
import pathlib
import threading

import numpy as np

from kgpipe.linking.strings import map_array

NGRAM_ARRAYS = ("ngram_codes", "ngram_offsets", "ngram_keys", "ngram_weights")
_HASH = np.uint64(0x9E3779B97F4A7C15)


def gram_hashes(cp: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashed ``n``-grams inside the ``\\0``-separated code points ``cp``.

    Args:
        cp: ``uint32[m]`` code points, texts separated (and framed) by 0.
        n: Gram length, 1 to 3 (21 bits per code point, so 3 fit in 63 bits).

    Returns:
        ``(hashes uint32[g], positions int64[g])``: each gram's hash and start position in ``cp``.
    """
    length = len(cp) - n + 1
    if length <= 0:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    valid = cp[:length] != 0
    code = cp[:length].astype(np.uint64)
    for offset in range(1, n):
        following = cp[offset:offset + length]
        valid &= following != 0
        code = (code << np.uint64(21)) | following
    positions = np.flatnonzero(valid)
    hashed = ((code[positions] * _HASH) >> np.uint64(32)).astype(np.uint32)
    return hashed, positions


def write_ngram_index(cp: np.ndarray, n_keys: int, directory: pathlib.Path, prefix: str = "ngram") -> int:
    """Writes the n-gram files for the alias keys whose code points are ``cp``.

    Args:
        cp: ``uint32`` code points of ``"\\0" + "\\0".join(keys) + "\\0"`` (``index.codepoints``).
        n_keys: Number of keys.
        directory: The index directory being built.
        prefix: File name prefix (``ngram``; the trained ranker's example memory uses another).

    Returns:
        The number of distinct grams.
    """
    owner_of = np.cumsum(cp == 0, dtype=np.int64) - 1
    parts = []
    for n in (1, 2, 3):  # one packed (hash << 32 | key) uint64 per gram occurrence
        hashed, positions = gram_hashes(cp, n)
        parts.append((hashed.astype(np.uint64) << np.uint64(32)) | owner_of[positions].astype(np.uint64))
        del hashed, positions
    del owner_of
    packed = np.concatenate(parts)
    del parts
    packed.sort()
    if len(packed):
        packed = packed[np.r_[True, packed[1:] != packed[:-1]]]  # binary TF: a gram once per key
    grams = (packed >> np.uint64(32)).astype(np.uint32)
    keys = (packed & np.uint64(0xFFFFFFFF)).astype(np.int32)
    del packed
    starts = np.flatnonzero(np.r_[True, grams[1:] != grams[:-1]]) if len(grams) else np.zeros(0, np.int64)
    df = np.diff(np.r_[starts, len(grams)])
    idf = np.log1p(n_keys / np.maximum(df, 1)).astype(np.float32)
    posting_idf = np.repeat(idf, df)
    norms = np.sqrt(np.bincount(keys, weights=posting_idf.astype(np.float64) ** 2, minlength=n_keys))
    weights = (posting_idf / np.maximum(norms[keys], 1e-12)).astype(np.float32)
    np.save(directory / f"{prefix}_codes.npy", grams[starts])
    np.save(directory / f"{prefix}_offsets.npy", np.r_[starts, len(grams)].astype(np.int64))
    np.save(directory / f"{prefix}_keys.npy", keys)
    np.save(directory / f"{prefix}_weights.npy", weights)
    return int(len(starts))


def query_hashes(key: str) -> set[int]:
    """The distinct hashed 1-3-grams of one key, as :func:`gram_hashes` computes them.

    Plain Python: for a short mention this is several times faster than numpy's per-call cost.
    """
    points = [ord(char) for char in key]
    out = set()
    for n in (1, 2, 3):
        for position in range(len(points) - n + 1):
            code = 0
            for point in points[position:position + n]:
                code = (code << 21) | point
            out.add(((code * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 32)
    return out


class NgramIndex:
    """Top-k alias keys by n-gram TF-IDF cosine (thread-safe; one accumulator per thread).

    Args:
        arrays: The four ``ngram_*`` arrays (memory-mapped).
        n_keys: Number of alias keys.
        posting_budget: Postings read per query at most (rarest grams first; at
            least one gram is always read).
    """

    def __init__(self, arrays: dict[str, np.ndarray], n_keys: int, posting_budget: int = 5_000,
                 prefix: str = "ngram") -> None:
        self.codes = arrays[f"{prefix}_codes"]
        self.offsets = arrays[f"{prefix}_offsets"]
        self.keys = arrays[f"{prefix}_keys"]
        self.weights = arrays[f"{prefix}_weights"]
        self.n_keys = n_keys
        self.posting_budget = posting_budget
        self._local = threading.local()
        #: Postings read so far by this process (an operation count for tests and benches).
        self.postings_read = 0

    @classmethod
    def open(cls, directory: pathlib.Path, n_keys: int, prefix: str = "ngram") -> "NgramIndex":
        """Maps the ``<prefix>_*`` files of a directory (``FileNotFoundError`` if absent)."""
        names = [prefix + name[len("ngram"):] for name in NGRAM_ARRAYS]
        return cls({name: map_array(directory / f"{name}.npy") for name in names}, n_keys, prefix=prefix)

    def _accumulator(self) -> np.ndarray:
        accumulator = getattr(self._local, "accumulator", None)
        if accumulator is None:
            accumulator = self._local.accumulator = np.zeros(self.n_keys, dtype=np.float32)
        return accumulator

    def query_grams(self, key: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Posting ranges ``(starts, ends)`` of ``key``'s grams in the index, rarest first,
        and the number of distinct grams of ``key`` (found or not)."""
        hashed = np.fromiter(query_hashes(key), dtype=np.uint32)
        where = np.searchsorted(self.codes, hashed)
        inside = where < len(self.codes)
        where = where[inside][self.codes[where[inside]] == hashed[inside]]
        starts, ends = self.offsets[where], self.offsets[where + 1]
        order = np.argsort(ends - starts, kind="stable")
        return starts[order], ends[order], len(hashed)

    def search(self, key: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` alias keys most similar to normalised ``key``.

        Returns:
            ``(key index, cosine in [0, 1])`` pairs, best first, ties by key index.
        """
        if not key or not self.n_keys:
            return []
        starts, ends, n_grams = self.query_grams(key)
        if not len(starts):
            return []
        # A query has a dozen grams or so: plain Python beats numpy's per-call cost here.
        starts, ends = starts.tolist(), ends.tolist()
        top_idf = math.log1p(self.n_keys)
        idf = [math.log1p(self.n_keys / (b - a)) for a, b in zip(starts, ends)]
        # Grams absent from the index still count in the query norm (at the highest IDF).
        norm = math.sqrt(sum(v * v for v in idf) + (n_grams - len(starts)) * top_idf * top_idf)
        read, used = 0, 0
        for a, b in zip(starts, ends):
            if used and read + b - a > self.posting_budget:
                break
            read, used = read + b - a, used + 1
        if used == 1:
            keys = self.keys[starts[0]:ends[0]]
            weights = self.weights[starts[0]:ends[0]] * np.float32(idf[0] / norm)
        else:
            keys = np.concatenate([self.keys[a:b] for a, b in zip(starts[:used], ends[:used])])
            weights = np.concatenate([self.weights[a:b] * np.float32(w / norm)
                                      for a, b, w in zip(starts[:used], ends[:used], idf)])
        self.postings_read += len(keys)
        accumulator = self._accumulator()
        np.add.at(accumulator, keys, weights)
        scores = accumulator[keys]
        # Keep one occurrence per key without sorting: the last write of its position wins.
        positions = np.arange(len(keys), dtype=np.float32)  # exact below 2**24 postings
        accumulator[keys] = positions
        distinct = accumulator[keys] == positions
        accumulator[keys] = 0.0
        found, found_scores = keys[distinct], scores[distinct]
        if len(found) > k:
            best = np.argpartition(-found_scores, k - 1)[:k]
            kth = found_scores[best].min()
            tied = found_scores >= kth  # everything tied with the k-th, so ties break by key index
            found, found_scores = found[tied], found_scores[tied]
        order = np.lexsort((found, -found_scores))[:k]
        return list(zip(found[order].tolist(), np.minimum(found_scores[order], 1.0).tolist()))

"""The example memory of a trained linker: its labelled mentions, retrievable by n-gram similarity.

Written into the linker directory by ``kgpipe link train`` (``memory_*.npy``, no pickle):

* ``memory_ngram_*``: an n-gram index (:mod:`linking.ngram`) over the normalised training mentions;
* ``memory_target_offsets.npy`` ``int64[n_mentions + 1]`` into ``memory_targets.npy`` ``int32``:
  the KB entity indices each training mention was linked to.

A new mention's nearest training mentions vote for their targets (weighted by cosine), which
both proposes candidates the string match misses (乳腺癌 -> 乳腺恶性肿瘤, learned from the user's
links) and gives the ranker features. While training, a mention never sees itself (``exclude``).
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import numpy as np

from kgpipe.linking.index import codepoints
from kgpipe.linking.ngram import NgramIndex, write_ngram_index
from kgpipe.linking.strings import map_array

PREFIX = "memory_ngram"


class ExampleMemory:
    """Training mentions and their targets.

    Args:
        ngrams: N-gram index over the training mention keys.
        offsets: ``int64[n + 1]`` target spans per mention.
        targets: ``int32[m]`` KB entity indices.
        n_entities: Entities in the KB (for target frequencies).
    """

    def __init__(self, ngrams: NgramIndex, offsets: np.ndarray, targets: np.ndarray, n_entities: int) -> None:
        self.ngrams, self.offsets, self.targets = ngrams, offsets, targets
        self.frequency = np.bincount(np.asarray(targets, dtype=np.int64), minlength=n_entities)

    @staticmethod
    def write(keys: Sequence[str], targets: Sequence[Sequence[int]], directory: pathlib.Path) -> None:
        """Writes the memory files for normalised mention ``keys`` and their target entity indices."""
        write_ngram_index(codepoints(list(keys)), len(keys), directory, prefix=PREFIX)
        lengths = np.fromiter((len(t) for t in targets), dtype=np.int64, count=len(targets))
        np.save(directory / "memory_target_offsets.npy", np.r_[0, np.cumsum(lengths)].astype(np.int64))
        flat = [entity for group in targets for entity in group]
        np.save(directory / "memory_targets.npy", np.asarray(flat, dtype=np.int32))

    @classmethod
    def open(cls, directory: pathlib.Path, n_entities: int) -> "ExampleMemory":
        offsets = map_array(directory / "memory_target_offsets.npy")
        ngrams = NgramIndex.open(directory, len(offsets) - 1, prefix=PREFIX)
        return cls(ngrams, offsets, map_array(directory / "memory_targets.npy"), n_entities)

    def votes(self, key: str, neighbours: int, exclude: int = -1) -> dict[int, tuple[float, float]]:
        """Entities the ``neighbours`` nearest training mentions were linked to.

        Returns:
            ``{entity index: (sum of cosines of the neighbours naming it / sum of all
            neighbours' cosines, highest such cosine)}``.
        """
        found = [(m, s) for m, s in self.ngrams.search(key, neighbours + 1) if m != exclude][:neighbours]
        total = sum(s for _, s in found) or 1.0
        out: dict[int, tuple[float, float]] = {}
        for mention, cosine in found:
            for entity in set(self.targets[self.offsets[mention]:self.offsets[mention + 1]].tolist()):
                vote, best = out.get(entity, (0.0, 0.0))
                out[entity] = (vote + cosine / total, max(best, cosine))
        return out

    def frequency_of(self, entity: int, exclude: int = -1) -> int:
        """How often ``entity`` was a training target (not counting mention ``exclude``)."""
        count = int(self.frequency[entity])
        if exclude >= 0 and entity in self.targets[self.offsets[exclude]:self.offsets[exclude + 1]]:
            count -= 1
        return count

"""Where an NER model's KB gazetteer gets its words: the names and aliases of the run's KB entities.

``ner`` may not read KBs (``linking`` does), so a model with KB gazetteer features
(``kgpipe ner train --kb-gazetteer BRAND=Brand``) is loaded with a ``KbNames``: label -> KB types in,
label -> names out. It is a small frozen value, so it travels to worker and NER child processes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from kgpipe.linking.kb import names_by_type
from kgpipe.linking.linker import default_kb_path


@dataclasses.dataclass(frozen=True)
class KbNames:
    """Names and aliases of a KB's entities by type.

    Attributes:
        kb: KB file or index directory (``kgpipe kb build``); ``None``: the bundled default KB.
        kb_format: The file's ``linking.kb.KbFormat`` value; ``None`` infers it.
    """

    kb: str | None = None
    kb_format: str | None = None

    def __call__(self, types: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        return names_by_type(default_kb_path() if self.kb is None else self.kb, types, self.kb_format)

    def __str__(self) -> str:
        return self.kb or "the bundled KB"

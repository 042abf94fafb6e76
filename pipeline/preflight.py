"""Checks a run makes before any heavy work, each failing with one readable line.

Inputs, output folder, NER model directory and KB are checked on the
submitting machine before Beam starts (and before TensorFlow is imported), so
a mistyped path costs a second, not a model load and a 175-line traceback.
Every failure is a ``UsageError`` naming the flag and the value received.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
import zipfile
from collections.abc import Sequence

from apache_beam.io.filesystems import FileSystems

_ZIP_MAGIC = b"PK\x03\x04"
_KB_RECORDS_CHECKED = 1000  # A KB file is parsed this far up front; the rest when workers load it.


class UsageError(ValueError):
    """Bad flags, inputs, output, model or KB, found before the pipeline starts (exit code 2)."""


def _is_local(path: str) -> bool:
    return "://" not in path


def check_inputs(patterns: Sequence[str]) -> list[str]:
    """Expands ``--input`` files and globs; returns the matched files, sorted.

    Raises:
        UsageError: A pattern names a directory or matches no file.
    """
    files: set[str] = set()
    for pattern in patterns:
        if _is_local(pattern) and os.path.isdir(pattern):
            raise UsageError(f"--input {pattern!r} is a directory; give files or a glob, "
                             f"e.g. --input '{pattern.rstrip('/')}/*.jsonl'")
        try:
            (result,) = FileSystems.match([pattern])
        except Exception as error:  # Beam wraps filesystem errors in BeamIOError.
            raise UsageError(f"--input {pattern!r} cannot be listed: {error}") from None
        found = [m.path for m in result.metadata_list if not (_is_local(m.path) and os.path.isdir(m.path))]
        if not found:
            raise UsageError(f"--input {pattern!r} matches no file")
        files.update(found)
    return sorted(files)


def check_output(output_dir: str) -> None:
    """Creates a local ``--output`` folder and proves it writable (remote folders are checked by Beam).

    Raises:
        UsageError: The folder cannot be created or written.
    """
    if not _is_local(output_dir):
        return
    probe = os.path.join(output_dir, f".kgpipe-write-test-{uuid.uuid4().hex}")
    try:
        os.makedirs(output_dir, exist_ok=True)
        with open(probe, "wb"):
            pass
        os.unlink(probe)
    except OSError as error:
        raise UsageError(f"--output {output_dir!r} is not a writable folder: {error.strerror or error}") from None


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What the pipeline needs to know of a model before loading it (no TensorFlow)."""

    version: str
    max_window_chars: int
    bucket_lengths: tuple[int, ...]

    @classmethod
    def read(cls, model_dir: str) -> "ModelInfo":
        """Reads and checks ``config.json`` and the weights' file type.

        Raises:
            UsageError: No model there, or a ``config.json``/weights file that
                is not what ``kgpipe ner train`` writes.
        """
        where = f"--model {model_dir!r}"
        if _is_local(model_dir) and not os.path.isdir(model_dir):
            raise UsageError(f"{where} is not a directory")
        meta = _read_config(model_dir, where)
        try:
            model = meta["model"]
            info = cls(version=str(meta["version"]), max_window_chars=int(model["max_sequence_length"]) - 2,
                       bucket_lengths=tuple(int(b) for b in model.get("bucket_lengths", ())))
        except (KeyError, TypeError, ValueError) as error:
            raise UsageError(f"{where}: config.json lacks a valid {error} entry; "
                             "not a model written by `kgpipe ner train`") from None
        _check_weights(model_dir, where)
        return info


def _read_config(model_dir: str, where: str) -> dict:
    path = FileSystems.join(model_dir, "config.json")
    if not FileSystems.exists(path):
        raise UsageError(f"{where} is not a kgpipe NER model: {path} is missing")
    with FileSystems.open(path) as f:
        raw = f.read()
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(f"{where}: {path} is not JSON (corrupt or not a kgpipe model)") from None
    if not isinstance(meta, dict):
        raise UsageError(f"{where}: {path} holds {type(meta).__name__}, not a JSON object")
    return meta


def _check_weights(model_dir: str, where: str) -> None:
    weights = FileSystems.join(model_dir, "weights.npz")
    serving = FileSystems.join(model_dir, "serving", "saved_model.pb")
    if not FileSystems.exists(weights):
        if FileSystems.exists(serving):
            return
        raise UsageError(f"{where} has no weights: {weights} is missing")
    with FileSystems.open(weights) as f:
        head = f.read(4)
    if head != _ZIP_MAGIC:
        raise UsageError(f"{where}: {weights} is not a NumPy .npz archive (corrupt or truncated)")
    if _is_local(weights) and not zipfile.is_zipfile(weights):
        raise UsageError(f"{where}: {weights} is a damaged .npz archive (truncated?)")


def check_kb(kb_path: str | None) -> None:
    """Checks ``--kb``: an index directory with its manifest, or a KB file whose first records parse.

    Raises:
        UsageError: No such file, no index, an unknown format or a bad record (with its line).
    """
    if kb_path is None:
        return
    import itertools
    import pathlib

    from kgpipe.linking.kb import KbError, iter_entities

    path = pathlib.Path(kb_path)
    where = f"--kb {kb_path!r}"
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise UsageError(f"{where} is a directory but not a `kgpipe kb build` index (no manifest.json)")
        return
    if not path.is_file():
        raise UsageError(f"{where}: no such file or directory")
    try:
        found = sum(1 for _ in itertools.islice(iter_entities(path), _KB_RECORDS_CHECKED))
    except KbError as error:
        raise UsageError(f"{where}: {error}") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{where}: cannot be read as a KB: {error}") from None
    if not found:
        raise UsageError(f"{where} holds no entities")
